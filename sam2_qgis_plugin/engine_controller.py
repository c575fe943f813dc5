"""The engine and the active model: which Python runs the engine, its worker and click session, the model in it,
and what the panel's Engine and Model lines say of them (also after the plugin is loaded again)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qgis.core import Qgis
from qgis.PyQt.QtWidgets import QPushButton

from .bands import engine_bands
from .engine import EngineInfo, WorkerClient, candidate_pythons, probe
from .host import EngineHost
from .i18n import tr
from .install_controller import InstallController
from .jobs import run_core_job
from .session import SegmentSession
from .settings import ENGINE_PYTHON
from .settings_dialog import encoder_path
from .tasks import EngineTask


class EngineController:
    """Owns the worker (``client``) and the click ``session``; the Engine section says what the engine has, the
    Model section what model is active. ``engine``/``model`` are getters of those sections (None: no panel)."""

    def __init__(self, host: EngineHost, engine: Callable[[], Any], model: Callable[[], Any]) -> None:
        self.host, self.engine, self.model = host, engine, model
        self.client: WorkerClient | None = None
        self.session: SegmentSession | None = None
        self.installing = InstallController(host, self.use_engine)
        self.install_offer: Any = None  # the message bar's "Install engine" offer, while shown

    def start(self) -> None:
        """With a new panel: the configured Python (else the first found), or the offer to install an engine."""
        engine = self.engine()
        found = candidate_pythons(ENGINE_PYTHON.value() or None)
        engine.python_widget.setFilePath(found[0] if found else "")
        if not found:
            engine.show_state(tr("Engine: none found (Settings... > Install engine)"))
            self.offer_install()

    def stop(self) -> None:
        self.close_install_offer()
        if self.client is not None:
            self.client.stop()
            self.client = None
        self.session = None

    # -- the engine --------------------------------------------------------------------------------------

    def python(self) -> str:
        engine = self.engine()
        return engine.python_widget.filePath() if engine is not None else ""

    def device(self) -> str:
        engine = self.engine()
        return engine.device() if engine is not None else "auto"

    def ensure_session(self) -> SegmentSession:
        """The click session, with a worker in the chosen Python (a new one when the Python changed)."""
        if self.session is None or self.client is None or self.client.python != self.python():
            if self.client is not None:
                self.client.stop()
            engine = self.engine()
            self.client = WorkerClient(self.python(), cache_dir=engine.settings.cache_dir() if engine else None)
            self.session = SegmentSession(self.client)
            self.session.polygon_options = self.host.polygon_options
            self.session.local_source = self.host.local_source
            self.session.bands_of = engine_bands
        return self.session

    def check_engine(self) -> None:
        """Start the chosen Python and show what it has (kept as the engine's Python)."""
        python = self.python()
        ENGINE_PYTHON.set_value(python)
        engine = self.engine()
        if engine is not None:
            engine.show_state(tr("Engine: checking..."))
        self.host.run_task("SAM 2: checking the engine", lambda task: probe(python), self.show_engine)

    def show_engine(self, info: EngineInfo) -> None:
        self.close_install_offer()  # an engine answered: the offer to install one is stale
        engine = self.engine()
        if engine is not None:
            engine.show_engine(info)

    def use_engine(self, python: str) -> None:
        """Make ``python`` the engine's interpreter and check it (the panel then says what it has)."""
        engine = self.engine()
        if engine is not None:
            engine.python_widget.setFilePath(python)
            self.check_engine()

    def offer_install(self) -> None:
        """No engine yet: say so in the message bar, with a button that installs it (the settings' defaults)."""
        bar = self.host.iface.messageBar()
        item = bar.createMessage(
            "SAM 2",
            tr(
                "no engine found. Install it now? torch and SAM 2 go into their own environment, in the background "
                "(about 1 GB, a few GB with CUDA; minutes)"
            ),
        )
        button = QPushButton(tr("Install engine"), item)
        button.setObjectName("sam2_install_engine")

        def install() -> None:
            self.close_install_offer()
            self.install_engine()

        button.clicked.connect(install)
        item.layout().addWidget(button)
        bar.pushWidget(item, Qgis.MessageLevel.Info)
        self.install_offer = item

    def close_install_offer(self) -> None:
        if self.install_offer is not None:
            with contextlib.suppress(RuntimeError):  # closed by the analyst: Qt deleted it
                self.host.iface.messageBar().popWidget(self.install_offer)
            self.install_offer = None

    def install_engine(self) -> None:
        """The settings window's Install engine: into its folder (default: the profile's), from its wheels."""
        settings = self.engine().settings
        folder = settings.engine_folder_widget.filePath()
        self.installing.install(Path(folder) if folder else None, settings.wheels_widget.filePath() or None)

    # -- the model ---------------------------------------------------------------------------------------

    def use_chosen(self) -> None:
        """Make the model chosen in the panel's list active: an official one is downloaded first."""
        chosen = self.model().choice()
        if chosen.kind == "official":
            self.download_model(chosen.value)
        else:
            self.use_checkpoint(chosen.value)

    def use_checkpoint(self, path: str) -> None:
        """Load ``path`` in the worker (in the background); the panel then shows the model and the engine."""
        if not path:
            self.host.report(tr("choose a checkpoint file first"))
            return
        session = self.ensure_session()

        def load(task: EngineTask) -> tuple[dict[str, Any], EngineInfo]:
            model = session.load_model(path, device, encoder)
            return model, EngineInfo(session.client.python, session.client.request("info", {}))

        def loaded(answer: tuple[dict[str, Any], EngineInfo]) -> None:
            model, info = answer
            self.show_engine(info)  # the worker that runs the model says what it has: never "not checked"
            if model.get("warning"):  # the engine's own words: int8 not checked close to exact on this model
                self.host.report(model["warning"])
            section = self.model()
            if section is not None:
                shown = model["device"]
                if model.get("encoder") == "int8":
                    shown = tr("{device}, int8 encoder").format(device=shown)
                section.show_active(model["label"], path, model["image_size"], shown)

        device, encoder = self.device(), encoder_path()
        self.host.run_task("SAM 2: loading the model", load, loaded)

    def download_model(self, name: str) -> None:
        """Download an official model (resumable, verified; at once when it is there) and make it active."""
        python = self.python()

        def work(task: EngineTask) -> str:
            # cancel keeps the partial file: the next download resumes it
            progress = lambda value, event: task.setProgress(value)  # noqa: E731
            result = run_core_job(python, "weights download", {"name": name}, progress, task.isCanceled)
            return str(result["checkpoint"])

        self.host.run_task(f"SAM 2: downloading {name}", work, self.use_checkpoint)
