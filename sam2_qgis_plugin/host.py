"""What a controller may use of the plugin: messages, background tasks, the engine, the chosen raster, where
outputs go and how polygons are shaped. Controllers are given this and their own section of the panel, never the
plugin or another section's widgets (mypy holds them to it: ``make typecheck``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .session import SegmentSession
    from .tasks import EngineTask


class Messages(Protocol):
    """Messages and background tasks: what every controller needs."""

    iface: Any

    def report(self, message: str, expected: bool = True) -> None:
        """Say ``message`` in QGIS's message bar (``expected``: the analyst can fix it)."""

    def run_task(self, description: str, work: Any, on_done: Any) -> EngineTask:
        """Run ``work(task)`` in the background with progress and cancel; ``on_done(result)`` on success."""


class EngineHost(Messages, Protocol):
    """What the engine controller needs besides: how the click session reads rasters and shapes polygons."""

    def polygon_options(self, layer: Any) -> dict[str, Any]:
        """The panel's polygon shapes as the engine's options for ``layer``'s pixel size."""

    def local_source(self, layer: Any, *area: Any, **options: Any) -> str:
        """The file the engine opens for ``layer`` over an area (a web layer rendered)."""


class Host(Messages, Protocol):
    """What a task's controller may use of the plugin."""

    @property
    def session(self) -> SegmentSession | None:
        """The click session with the active model (None: no engine yet)."""

    def python(self) -> str:
        """The engine's Python."""

    def device(self) -> str:
        """Where SAM 2 runs: auto, cuda, mps or cpu."""

    def ensure_session(self) -> SegmentSession:
        """The click session, started with the engine when there is none."""

    def use_checkpoint(self, path: str) -> None:
        """Make ``path`` the active model (in the background)."""

    def raster_layer(self) -> Any:
        """The orthophoto chosen in the panel (a QgsRasterLayer), or None."""

    def raster_for_job(self, layer: Any, extent: Any = None) -> Callable[[EngineTask], str]:
        """A task step that gives the engine a file of ``layer`` (a web layer rendered over ``extent``)."""

    def labelled_job_inputs(self, missing: str) -> tuple[Any, Any, str] | None:
        """(raster, label layer, active checkpoint) for a job on the labels, or None with a message."""

    def outputs_folder(self) -> Path:
        """Where jobs write (beside the saved project, else the home folder)."""

    def polygon_options(self, layer: Any) -> dict[str, Any]:
        """The panel's polygon shapes as the engine's options for ``layer``'s pixel size."""
