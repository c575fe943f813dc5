"""The plugin object QGIS loads: menu, toolbar, the SAM 2 dock, the map tool, the engine worker."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qgis.core import Qgis, QgsApplication, QgsCoordinateTransform, QgsProject, QgsUnitTypes
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QPushButton, QToolBar

from .bands import engine_bands, needs_choice, remember_bands, remembered_bands
from .engine import WorkerClient, candidate_pythons, probe
from .find_controller import FindController
from .i18n import install_translator, remove_translator, tr
from .install_controller import InstallController
from .job_panel import JobMonitor
from .jobs import run_core_job
from .output import OutputError
from .panel.dock import Sam2Dock
from .prediction_controller import PredictionController
from .qt_compat import QAction
from .remote import RasterSources, area_for, check_size, is_local_file, is_web_service
from .segment_controller import SegmentController
from .session import SegmentSession, SessionError, check_raster
from .settings import ENGINE_PYTHON
from .settings_dialog import encoder_path
from .shapes import polygon_options
from .suggest_controller import SuggestController
from .tasks import EngineTask
from .training_controller import TrainingController

MENU = "&SAM 2"
ICON = Path(__file__).parent / "icons" / "sam2.svg"

__all__ = ["MENU", "Sam2Dock", "Sam2Plugin"]


class Sam2Plugin:
    """Menu and toolbar show the dock; the dock's buttons go to the controllers (segmenting, fine-tuning,
    prediction); the plugin itself owns the engine (its Python, the worker, the active model) and the tasks."""

    def __init__(self, iface) -> None:
        self.iface = iface
        self.translator = install_translator()  # before any widget: they are labelled through tr()
        self.toolbar: QToolBar | None = None
        self.dock: Sam2Dock | None = None
        self.panel_action: QAction | None = None
        self.client: WorkerClient | None = None
        self.session: SegmentSession | None = None
        self.tasks: list[EngineTask] = []
        self.jobs: JobMonitor | None = None
        self.provider: Any = None  # the Processing provider, registered by initProcessing
        self.sources = RasterSources(Path(QgsApplication.qgisSettingsDirPath()) / "cache" / "sam2_renders")
        # Each controller gets this plugin as its Host (host.py: messages, tasks, the engine, the raster) and its
        # own sections of the panel, which exist between initGui and unload (None otherwise).
        self.segmenting = SegmentController(self, self.section("segment"))
        self.suggesting = SuggestController(self, self.section("suggest"), self.section("labels"))
        self.tuning = TrainingController(
            self, self.section("train"), self.section("model"), self.panel_options("training_options"),
            self.suggesting.after_tuning,
        )  # fmt: skip
        self.prediction = PredictionController(self, self.section("predict"), self.panel_options("prediction_options"))
        self.finding = FindController(
            self, self.section("find"), self.section("labels"), self.panel_options("find_options")
        )
        self.installing = InstallController(self, self.use_engine)
        self.install_offer: Any = None  # the message bar's "Install engine" offer, while shown

    def section(self, name: str) -> Callable[[], Any]:
        """A getter of the panel's section ``name`` (None while there is no panel)."""
        return lambda: getattr(self.dock, name) if self.dock is not None else None

    def panel_options(self, name: str) -> Callable[[], dict[str, Any]]:
        """A getter of a job's options gathered by the panel (``Sam2Dock.<name>()``; empty without a panel)."""
        return lambda: getattr(self.dock, name)() if self.dock is not None else {}

    # -- lifecycle ----------------------------------------------------------------------------------------

    def initGui(self) -> None:  # noqa: N802  (QGIS's name)
        window = self.iface.mainWindow()
        self.dock = Sam2Dock(window)
        self.iface.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()
        self.jobs = JobMonitor(self.dock)
        configured = ENGINE_PYTHON.value() or None
        found = candidate_pythons(configured)
        self.dock.engine.python_widget.setFilePath(found[0] if found else "")
        self.dock.engine.check_button.clicked.connect(self.check_engine)
        self.dock.engine.settings_button.clicked.connect(self.dock.engine.settings.show)
        self.dock.engine.settings.install_button.clicked.connect(self.install_engine)
        if not found:
            self.offer_install()
        self.dock.model.load_button.clicked.connect(
            lambda: self.use_checkpoint(self.dock.model.checkpoint_widget.filePath())
        )
        self.dock.model.download_button.clicked.connect(self.download_model)
        self.dock.model.use_tuned_button.clicked.connect(
            lambda: self.use_checkpoint(self.dock.model.chosen_tuned()) if self.dock else None
        )
        self.dock.raster.raster_combo.layerChanged.connect(self.show_bands)
        for combo in self.dock.raster.band_combos:
            combo.bandChanged.connect(self.keep_bands)
        self.show_bands(self.dock.raster.raster_combo.currentLayer())
        segmenting = self.segmenting
        self.dock.segment.segment_button.toggled.connect(segmenting.toggle_tool)
        self.dock.segment.output_combo.layerChanged.connect(segmenting.show_output_destination)
        QgsProject.instance().homePathChanged.connect(segmenting.show_output_destination)
        segmenting.show_output_destination()
        self.dock.segment.encode_button.clicked.connect(segmenting.encode_visible_extent)
        self.dock.train.train_button.clicked.connect(lambda: self.tuning.fine_tune())
        self.dock.train.report_button.clicked.connect(self.tuning.open_report)
        self.dock.train.resume_button.clicked.connect(lambda: self.tuning.resume_stopped())
        self.tuning.fill_tuned_models()
        self.dock.find.find_button.clicked.connect(lambda: self.finding.find())
        self.dock.find.find_again_button.clicked.connect(lambda: self.finding.find())
        for action, button in self.dock.find.review_buttons.items():
            button.clicked.connect(lambda _=False, action=action: self.finding.act(action))
        self.dock.suggest.suggest_button.clicked.connect(lambda: self.suggesting.suggest())
        for step, button in (
            (-1, self.dock.suggest.suggest_buttons["previous"]),
            (1, self.dock.suggest.suggest_buttons["next"]),
        ):
            button.clicked.connect(lambda _=False, step=step: self.suggesting.move(step))
        self.dock.predict.predict_button.clicked.connect(lambda: self.prediction.predict_raster())

        self.panel_action = QAction(QIcon(str(ICON)), tr("SAM 2 panel"), window)
        self.panel_action.setObjectName("Sam2PanelAction")
        self.panel_action.setCheckable(True)
        self.panel_action.toggled.connect(self.dock.setVisible)
        self.dock.visibilityChanged.connect(self.panel_action.setChecked)
        self.toolbar = self.iface.addToolBar("SAM 2")
        self.toolbar.setObjectName("Sam2Toolbar")
        self.toolbar.addAction(self.panel_action)
        self.iface.addPluginToMenu(MENU, self.panel_action)
        self.initProcessing()

    def initProcessing(self) -> None:  # noqa: N802  (QGIS's name: qgis_process calls it, without a GUI)
        """Register the Processing algorithms (once)."""
        from .processing.provider import Sam2Provider

        if self.provider is None:
            self.provider = Sam2Provider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def unload(self) -> None:
        """Cancel our tasks, end the worker, remove every widget (also when QGIS closes). The GUI does not wait
        for the jobs: a training saves its resumable state and ends by itself within seconds (also if QGIS
        exits meanwhile: a job driven over stdin stops when stdin closes)."""
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        for task in self.tasks:  # without waiting: each job stops at its next safe point in its own thread
            try:
                if task.status() not in (task.Complete, task.Terminated):
                    task.cancel()
            except RuntimeError:  # finished tasks are deleted by QGIS's task manager
                pass
        self.tasks.clear()
        self.close_install_offer()
        self.segmenting.remove_tool()
        self.finding.stop_review()
        self.suggesting.clear()
        if self.client is not None:
            self.client.stop()
            self.client = None
        if self.panel_action is not None:
            self.iface.removePluginMenu(MENU, self.panel_action)
            self.panel_action.deleteLater()
            self.panel_action = None
        if self.toolbar is not None:
            self.iface.mainWindow().removeToolBar(self.toolbar)
            self.toolbar.deleteLater()
            self.toolbar = None
        with contextlib.suppress(TypeError, RuntimeError):  # not connected when initGui never ran
            QgsProject.instance().homePathChanged.disconnect(self.segmenting.show_output_destination)
        self.jobs = None  # a child of the dock
        if self.dock is not None:
            self.iface.removeDockWidget(self.dock)
            self.dock.deleteLater()
            self.dock = None
        remove_translator(self.translator)
        self.translator = None

    # -- messages and tasks -------------------------------------------------------------------------------

    def report(self, message: str, expected: bool = True) -> None:
        level = Qgis.MessageLevel.Warning if expected else Qgis.MessageLevel.Critical
        self.iface.messageBar().pushMessage("SAM 2", message, level=level, duration=8 if expected else 0)

    def run_task(self, description: str, work: Any, on_done: Any) -> EngineTask:
        def failed(error: BaseException) -> None:
            expected = isinstance(error, (SessionError, OutputError, InterruptedError)) or getattr(
                error, "expected", False
            )
            self.report(str(error), expected)

        task = EngineTask(
            description,
            work,
            on_done,
            failed,
            on_cancel=self.client.cancel_current if self.client is not None else None,
        )
        self.tasks.append(task)
        QgsApplication.taskManager().addTask(task)
        if self.jobs is not None:
            self.jobs.follow(task)
        return task

    # -- engine and model ---------------------------------------------------------------------------------

    def labelled_job_inputs(self, missing: str) -> tuple[Any, Any, str] | None:
        """The raster, the label layer and the active model a job on the labels needs (fine-tuning, finding);
        None, and ``missing`` or what is wrong with the raster said, when one is lacking."""
        assert self.dock is not None
        try:
            raster = check_raster(self.raster_layer())
        except SessionError as error:
            self.report(str(error))
            return None
        labels = self.dock.labels.layer()
        checkpoint = self.session.checkpoint if self.session else None
        if labels is None or not checkpoint:
            self.report(missing)
            return None
        return raster, labels, checkpoint

    def python(self) -> str:
        assert self.dock is not None
        return self.dock.engine.python_widget.filePath()

    def ensure_session(self) -> SegmentSession:
        if self.session is None or self.client is None or self.client.python != self.python():
            if self.client is not None:
                self.client.stop()
            self.client = WorkerClient(
                self.python(), cache_dir=self.dock.engine.settings.cache_dir() if self.dock else None
            )
            self.session = SegmentSession(self.client)
            self.session.polygon_options = self.polygon_options
            self.session.local_source = self.local_source
            self.session.bands_of = engine_bands
        return self.session

    def offer_install(self) -> None:
        """No engine yet: say so in the message bar, with a button that installs it (the settings' defaults)."""
        bar = self.iface.messageBar()
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
                self.iface.messageBar().popWidget(self.install_offer)
            self.install_offer = None

    def install_engine(self) -> None:
        """The settings dialog's Install engine: into its folder (default: the profile's), from its wheels."""
        assert self.dock is not None
        folder = self.dock.engine.settings.engine_folder_widget.filePath()
        self.installing.install(
            Path(folder) if folder else None, self.dock.engine.settings.wheels_widget.filePath() or None
        )

    def use_engine(self, python: str) -> None:
        """Make ``python`` the engine's interpreter and check it (the panel then says what it has)."""
        if self.dock is not None:
            self.dock.engine.python_widget.setFilePath(python)
            self.check_engine()

    def device(self) -> str:
        return self.dock.engine.device() if self.dock is not None else "auto"

    def check_engine(self) -> None:
        python = self.python()
        ENGINE_PYTHON.set_value(python)

        def shown(info: Any) -> None:
            self.close_install_offer()  # an engine answered: the offer to install one is stale
            if self.dock is not None:
                self.dock.engine.engine_label.setText(tr("Engine: {summary}").format(summary=info.short))
                self.dock.engine.engine_label.setToolTip(info.summary)
                self.dock.engine.settings.engine_label.setText(tr("Engine: {summary}").format(summary=info.summary))

        self.run_task("SAM 2: checking the engine", lambda task: probe(python), shown)

    def use_checkpoint(self, path: str) -> None:
        if not path:
            self.report(tr("choose a checkpoint file first"))
            return
        session = self.ensure_session()

        def loaded(model: dict[str, Any]) -> None:
            self.close_install_offer()  # the engine runs a model: the offer to install one is stale
            if model.get("warning"):  # the engine's own words: int8 not checked close to exact on this model
                self.report(model["warning"])
            if self.dock is not None:
                device = model["device"]
                if model.get("encoder") == "int8":
                    device = tr("{device}, int8 encoder").format(device=device)
                self.dock.model.model_label.setText(
                    tr("Active model: {label} ({name}, {size} px, {device})").format(
                        label=model["label"], name=Path(path).name, size=model["image_size"], device=device
                    )
                )

        device = self.device()
        encoder = encoder_path()
        self.run_task("SAM 2: loading the model", lambda task: session.load_model(path, device, encoder), loaded)

    def download_model(self) -> None:
        assert self.dock is not None
        name, python = self.dock.model.official_model(), self.python()

        def work(task: EngineTask) -> str:
            # cancel keeps the partial file: the next download resumes it
            progress = lambda value, event: task.setProgress(value)  # noqa: E731
            result = run_core_job(python, "weights download", {"name": name}, progress, task.isCanceled)
            return str(result["checkpoint"])

        self.run_task(f"SAM 2: downloading {name}", work, self.use_checkpoint)

    def local_source(
        self,
        layer: Any,
        extent: Any,
        crs: Any,
        resolution: float,
        needed: Any = None,
        feedback: Any = None,
    ) -> str:
        """The file the engine opens for ``layer`` (see remote.RasterSources.local): web layers are rendered at
        the panel's ground resolution, or at ``resolution`` (the map's) when none is set."""
        return self.sources.local(layer, extent, crs, self.render_resolution(crs, resolution), needed, feedback)

    def render_resolution(self, crs: Any, map_resolution: float) -> float:
        """Map units of ``crs`` per pixel of a web layer's render: the panel's choice, else the map's."""
        chosen = self.dock.raster.web_resolution_spin.value() if self.dock is not None else 0.0
        if chosen <= 0:
            return map_resolution
        metres = QgsUnitTypes.fromUnitToUnitFactor(crs.mapUnits(), QgsUnitTypes.DistanceUnit.DistanceMeters) or 1.0
        return chosen / metres

    def raster_for_job(self, layer: Any, extent: Any = None) -> Callable[[EngineTask], str]:
        """For a job on ``layer`` over ``extent`` (map CRS; None: the whole layer): a function that gives the
        engine's file in the job's background task (rendering a layer that is no local file, with progress
        and cancel). SessionError now when that area cannot be rendered (too large, a web layer's world)."""
        if is_local_file(layer):
            return lambda task: layer.source()
        canvas = self.iface.mapCanvas()
        crs = canvas.mapSettings().destinationCrs()
        if extent is None:
            if is_web_service(layer):
                raise SessionError(
                    tr(
                        "{layer} is a web layer without edges: predict the visible map extent or inside an AOI "
                        "layer (SAM 2 panel > Where)"
                    ).format(layer=layer.name())
                )
            extent = QgsCoordinateTransform(layer.crs(), crs, QgsProject.instance()).transformBoundingBox(
                layer.extent()
            )
        resolution = self.render_resolution(crs, canvas.mapUnitsPerPixel())
        check_size(layer, area_for(layer, extent, crs, resolution))
        return lambda task: self.sources.local(layer, extent, crs, resolution, feedback=task.feedback)

    def polygon_options(self, layer: Any) -> dict[str, Any]:
        """The engine's polygon options for ``layer`` from the panel's shape choices."""
        return polygon_options(layer, self.dock.shapes.shape_choices()) if self.dock is not None else {}

    def show_bands(self, layer: Any) -> None:
        """The panel offers the raster's bands when it is not plain 8-bit RGB, as last chosen for that file."""
        if self.dock is not None:
            self.dock.raster.show_bands(layer, remembered_bands(layer) if needs_choice(layer) else None)

    def keep_bands(self, *_: Any) -> None:
        layer = self.dock.raster.raster_combo.currentLayer() if self.dock is not None else None
        if self.dock is not None and needs_choice(layer):
            remember_bands(layer, self.dock.raster.band_choice())

    def raster_layer(self) -> Any:
        """The dock's raster, or the active layer."""
        assert self.dock is not None
        return self.dock.raster.raster_combo.currentLayer() or self.iface.activeLayer()

    def outputs_folder(self) -> Path:
        """The project's folder, or the home folder while the project is unsaved."""
        return Path(QgsProject.instance().homePath() or Path.home())
