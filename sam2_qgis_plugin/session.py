"""A click-to-segment session: the engine worker, the model, the rasters opened in it, and the prompts.

Prompts are kept in the canvas CRS and sent with that CRS; the engine answers with polygons in the
raster's CRS. No torch here: everything model-related happens in the worker process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from qgis.core import QgsCoordinateReferenceSystem, QgsMapLayer, QgsPointXY, QgsRasterLayer, QgsRectangle

from .engine import EngineError, WorkerClient, WorkerDiedError
from .i18n import tr


class SessionError(Exception):
    """Something the analyst must change (no raster, a remote layer, no model): the message says what."""


def check_raster(layer: QgsMapLayer | None) -> QgsRasterLayer:
    """The layer if it is a raster layer (a local file, or any other the plugin renders: remote.py);
    SessionError otherwise."""
    if layer is None or layer.type() != QgsMapLayer.RasterLayer:
        raise SessionError(tr("select a raster layer (an orthophoto) in the Layers panel first"))
    if not layer.isValid():
        raise SessionError(tr("{layer} cannot be read (an invalid layer): check its source").format(layer=layer.name()))
    return layer


LocalSource = Callable[..., str]


def own_source(layer: QgsRasterLayer, *area: Any, **options: Any) -> str:
    """The layer's own source: what the engine opens when nothing is rendered (see remote.RasterSources.local)."""
    return layer.source()


@dataclass
class Prompt:
    points: list[QgsPointXY] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    box: QgsRectangle | None = None

    def area(self) -> QgsRectangle:
        """The rectangle holding every point and the box (in the canvas CRS)."""
        area = QgsRectangle(self.box) if self.box is not None else QgsRectangle()
        for point in self.points:
            area.combineExtentWith(point.x(), point.y())
        return area

    def summary(self) -> str:
        """``fg=2;bg=1;box=0``: how many object and background clicks and boxes made the segment."""
        objects = sum(1 for label in self.labels if label)
        return f"fg={objects};bg={len(self.labels) - objects};box={int(self.box is not None)}"


class SegmentSession:
    """Keeps the worker, the opened rasters and the current prompts; ``predict`` returns the engine's answer."""

    def __init__(self, client: WorkerClient) -> None:
        self.client = client
        self.model: dict[str, Any] | None = None
        self.checkpoint: str | None = None
        self._rasters: dict[str, str] = {}  # "path|bands" the engine opened -> its raster id
        # the file the engine opens for a layer and an area: local_source(layer, extent, crs, resolution, needed)
        self.local_source: LocalSource = own_source
        self.view: tuple[QgsRectangle, float] | None = None  # the map's visible extent and map units per pixel
        # the bands the engine reads as R, G, B for a layer (None: its default): the panel's choice
        self.bands_of: Callable[[QgsRasterLayer], list[int] | None] = lambda layer: None
        self.history: list[Prompt] = []
        self.result: dict[str, Any] | None = None
        self.device = "auto"
        self.encoder = "exact"
        self.restarts = 0  # workers started again after one had ended (each reloads the model)
        self._restarts_told = 0
        self.last_death = ""  # how the last worker that ended did (exit code or signal, its last line)
        # the engine's polygon options (core.geometry.polygons.PolygonOptions) for a raster: the panel's shape choices
        self.polygon_options: Callable[[QgsRasterLayer], dict[str, Any]] = lambda layer: {}

    # -- engine state (re-created after a worker restart) ------------------------------------------------

    def load_model(self, checkpoint: str, device: str = "auto", encoder: str = "exact") -> dict[str, Any]:
        self.checkpoint, self.device, self.encoder = checkpoint, device, encoder
        params = {"checkpoint": checkpoint, "device": device, "encoder": encoder}
        try:
            self.model = self.client.request("load_model", params)
        except WorkerDiedError as error:  # the old worker had ended: this starts a new one
            self.last_death = error.detail
            self.model = self.client.request("load_model", params)
        self._starts = self.client.starts
        self._rasters.clear()
        return self.model

    def _sync(self) -> None:
        """After a worker restart, reload the model and forget the rasters opened in the old one."""
        if self.checkpoint is None:
            raise SessionError(tr("choose a model first (SAM 2 panel > Model)"))
        if not self.client.alive() or self.client.starts != getattr(self, "_starts", None):
            self.load_model(self.checkpoint, self.device, self.encoder)
            self.restarts += 1

    def _retrying(self, call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """``call()``, once more in a new worker (model reloaded) if the worker ended under it."""
        try:
            return call()
        except WorkerDiedError as error:
            self.last_death = error.detail
            self._sync()
            return call()

    def take_restart_notice(self) -> str | None:
        """Once per restart: a message saying the engine had stopped and was started again (None: nothing new).
        For the GUI thread, after a request (restarts happen inside background tasks too)."""
        if self.restarts <= self._restarts_told:
            return None
        self._restarts_told = self.restarts
        why = self.last_death
        return (
            "The SAM 2 engine had stopped"
            + (f" ({why})" if why else "")
            + (" and was restarted; the model was loaded again.")
        )

    def raster_id(
        self, layer: QgsRasterLayer, crs: QgsCoordinateReferenceSystem | None = None, needed: QgsRectangle | None = None
    ) -> str:
        """The engine's id for the file holding ``layer`` over ``needed`` (in ``crs``; a layer that is no local
        file is rendered over the visible map, ``view``, first: this can take a while, off the GUI thread)."""
        self._sync()
        if crs is None or self.view is None:
            path = self.local_source(layer, layer.extent(), layer.crs(), layer.rasterUnitsPerPixelX())
        else:
            visible, resolution = self.view
            path = self.local_source(layer, visible, crs, resolution, needed)
        bands = self.bands_of(layer)
        key = f"{path}|{bands}"
        if key not in self._rasters:
            opened = self.client.request("open_raster", {"path": path, "bands": bands})
            self._rasters[key] = opened["raster_id"]
        return self._rasters[key]

    # -- prompts ------------------------------------------------------------------------------------------

    @property
    def prompt(self) -> Prompt:
        return self.history[-1] if self.history else Prompt()

    def add_point(self, point: QgsPointXY, label: int) -> None:
        current = self.prompt
        self.history.append(Prompt([*current.points, point], [*current.labels, label], current.box))

    def set_box(self, box: QgsRectangle) -> None:
        current = self.prompt
        self.history.append(Prompt(list(current.points), list(current.labels), box))

    def undo(self) -> None:
        if self.history:
            self.history.pop()

    def clear(self) -> None:
        self.history.clear()
        self.result = None

    def _params(self, layer: QgsRasterLayer, crs: QgsCoordinateReferenceSystem) -> dict[str, Any] | None:
        prompt = self.prompt
        if not prompt.points and prompt.box is None:
            return None
        params: dict[str, Any] = {
            "raster_id": self.raster_id(layer, crs, prompt.area()),
            "points": [[p.x(), p.y()] for p in prompt.points],
            "labels": prompt.labels,
            "crs": crs.toWkt(),
            **self.polygon_options(layer),
        }
        if prompt.box is not None:
            params["box"] = [prompt.box.xMinimum(), prompt.box.yMinimum(), prompt.box.xMaximum(), prompt.box.yMaximum()]
        return params

    # -- the hover preview ------------------------------------------------------------------------------

    def hover_params(
        self, layer: QgsRasterLayer, crs: QgsCoordinateReferenceSystem, point: QgsPointXY
    ) -> dict[str, Any] | None:
        """A hover's request: the current prompts and an object click at ``point``. None where a hover would
        cost more than a decode: no model yet, or a raster the engine has not opened (the first click opens it;
        a web layer would be rendered first)."""
        if self.checkpoint is None or not self.client.alive() or self.client.starts != getattr(self, "_starts", None):
            return None
        raster_id = self._rasters.get(f"{layer.source()}|{self.bands_of(layer)}")
        if raster_id is None:
            return None
        prompt = self.prompt
        params: dict[str, Any] = {
            "raster_id": raster_id,
            "points": [[p.x(), p.y()] for p in prompt.points] + [[point.x(), point.y()]],
            "labels": [*prompt.labels, 1],
            "crs": crs.toWkt(),
            **self.polygon_options(layer),
        }
        if prompt.box is not None:
            params["box"] = [prompt.box.xMinimum(), prompt.box.yMinimum(), prompt.box.xMaximum(), prompt.box.yMaximum()]
        return params

    def hover(self, params: dict[str, Any]) -> dict[str, Any]:
        """The engine's answer for a hover (off the GUI thread): polygons, or ``encoded: false``."""
        return self.client.request("hover", params, timeout=60)

    def encode_for(self, params: dict[str, Any]) -> dict[str, Any]:
        """Encode the tile a hover needs (for a background task)."""
        return self.client.request("prepare", params)

    def take_hover(self, point: QgsPointXY, result: dict[str, Any]) -> None:
        """A click at ``point`` where the hover's ``result`` is shown: the prompt grows, the result is kept, and
        the engine is not asked again."""
        self.add_point(point, 1)
        self.result = result

    def prepare(
        self, layer: QgsRasterLayer, crs: QgsCoordinateReferenceSystem, progress: Callable[[float], None] | None = None
    ) -> dict[str, Any] | None:
        """Encode the tile the current prompts need (nothing to do when it is cached); for a background task."""
        params = self._params(layer, crs)
        if params is None:
            return None
        listener = (lambda event: progress(100 * float(event.get("fraction", 0)))) if progress else None
        return self._retrying(lambda: self.client.request("prepare", self._params(layer, crs) or {}, on_event=listener))

    def predict(self, layer: QgsRasterLayer, crs: QgsCoordinateReferenceSystem) -> dict[str, Any] | None:
        """Polygons for the current prompts (in ``crs``, the canvas CRS), or None when there are none."""
        params = self._params(layer, crs)
        if params is None:
            self.result = None
            return None
        try:
            self.result = self._retrying(
                lambda: self.client.request("predict", self._params(layer, crs) or {}, timeout=300)
            )
        except EngineError as error:
            if error.kind == "InvalidInputError" and "no open raster" in str(error):
                self._rasters.clear()
            raise
        return self.result
