"""The plugin object QGIS loads: menu, toolbar, the SAM 2 dock, and the wiring of its sections to the
controllers (the engine and model, the raster, segmenting, learning, prediction). Wiring only: each job's logic
lives in its controller."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qgis.core import Qgis, QgsApplication, QgsProject
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QToolBar

from .engine_controller import EngineController
from .find_controller import FindController
from .i18n import install_translator, remove_translator, tr
from .job_panel import JobMonitor
from .output import OutputError
from .panel.dock import Sam2Dock
from .prediction_controller import PredictionController
from .qt_compat import QAction
from .raster_controller import RasterController
from .segment_controller import SegmentController
from .session import SegmentSession, SessionError, check_raster
from .shapes import polygon_options
from .suggest_controller import SuggestController
from .tasks import EngineTask
from .training_controller import TrainingController
from .years_controller import YearsController

MENU = "&SAM 2"
ICON = Path(__file__).parent / "icons" / "sam2.svg"

__all__ = ["MENU", "Sam2Dock", "Sam2Plugin"]


class Sam2Plugin:
    """Menu and toolbar show the dock; the dock's buttons go to the controllers. The plugin is each controller's
    Host (host.py): messages, tasks, and what the engine and raster controllers know."""

    def __init__(self, iface) -> None:
        self.iface = iface
        self.translator = install_translator()  # before any widget: they are labelled through tr()
        self.toolbar: QToolBar | None = None
        self.dock: Sam2Dock | None = None
        self.panel_action: QAction | None = None
        self.tasks: list[EngineTask] = []
        self.jobs: JobMonitor | None = None
        self.provider: Any = None  # the Processing provider, registered by initProcessing
        # Each controller gets this plugin as its Host and its own sections of the panel, which exist between
        # initGui and unload (None otherwise).
        self.engine = EngineController(self, self.section("engine"), self.section("model"))
        self.rasters = RasterController(iface, self.section("raster"))
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
        self.following = YearsController(self, self.section("years"))

    def section(self, name: str) -> Callable[[], Any]:
        """A getter of the panel's section ``name`` (None while there is no panel)."""
        return lambda: getattr(self.dock, name) if self.dock is not None else None

    def panel_options(self, name: str) -> Callable[[], dict[str, Any]]:
        """A getter of a job's options gathered by the panel (``Sam2Dock.<name>()``; empty without a panel)."""
        return lambda: getattr(self.dock, name)() if self.dock is not None else {}

    # -- lifecycle ----------------------------------------------------------------------------------------

    def initGui(self) -> None:  # noqa: N802  (QGIS's name)
        window = self.iface.mainWindow()
        self.dock = dock = Sam2Dock(window)
        self.iface.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        dock.hide()
        self.jobs = JobMonitor(dock)
        engine = self.engine
        dock.engine.check_button.clicked.connect(engine.check_engine)
        dock.engine.settings_button.clicked.connect(dock.engine.settings.show)
        dock.engine.settings.install_button.clicked.connect(engine.install_engine)
        dock.model.use_button.clicked.connect(engine.use_chosen)
        engine.start()
        self.rasters.start()
        segmenting = self.segmenting
        dock.segment.segment_button.toggled.connect(segmenting.toggle_tool)
        dock.segment.output_combo.layerChanged.connect(segmenting.show_output_destination)
        QgsProject.instance().homePathChanged.connect(segmenting.show_output_destination)
        segmenting.show_output_destination()
        dock.segment.encode_button.clicked.connect(segmenting.encode_visible_extent)
        dock.train.train_button.clicked.connect(lambda: self.tuning.fine_tune())
        dock.train.report_button.clicked.connect(self.tuning.open_report)
        dock.train.resume_button.clicked.connect(lambda: self.tuning.resume_stopped())
        self.tuning.fill_tuned_models()
        dock.find.find_button.clicked.connect(lambda: self.finding.find())
        dock.find.find_again_button.clicked.connect(lambda: self.finding.find())
        for action, button in dock.find.review_buttons.items():
            button.clicked.connect(lambda _=False, action=action: self.finding.act(action))
        dock.suggest.suggest_button.clicked.connect(lambda: self.suggesting.suggest())
        for step, button in ((-1, dock.suggest.suggest_buttons["previous"]), (1, dock.suggest.suggest_buttons["next"])):
            button.clicked.connect(lambda _=False, step=step: self.suggesting.move(step))
        dock.predict.predict_button.clicked.connect(lambda: self.prediction.predict_raster())
        dock.years.follow_button.clicked.connect(lambda: self.following.follow())

        self.panel_action = QAction(QIcon(str(ICON)), tr("SAM 2 panel"), window)
        self.panel_action.setObjectName("Sam2PanelAction")
        self.panel_action.setCheckable(True)
        self.panel_action.toggled.connect(dock.setVisible)
        dock.visibilityChanged.connect(self.panel_action.setChecked)
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
        self.segmenting.remove_tool()
        self.finding.stop_review()
        self.suggesting.clear()
        self.engine.stop()
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

    # -- the Host: messages and tasks ---------------------------------------------------------------------

    def report(self, message: str, expected: bool = True) -> None:
        level = Qgis.MessageLevel.Warning if expected else Qgis.MessageLevel.Critical
        self.iface.messageBar().pushMessage("SAM 2", message, level=level, duration=8 if expected else 0)

    def run_task(self, description: str, work: Any, on_done: Any) -> EngineTask:
        def failed(error: BaseException) -> None:
            expected = isinstance(error, (SessionError, OutputError, InterruptedError)) or getattr(
                error, "expected", False
            )
            self.report(str(error), expected)

        client = self.engine.client
        task = EngineTask(
            description, work, on_done, failed, on_cancel=client.cancel_current if client is not None else None
        )
        self.tasks.append(task)
        QgsApplication.taskManager().addTask(task)
        if self.jobs is not None:
            self.jobs.follow(task)
        return task

    # -- the Host: the engine, the model and the raster (their controllers') ---------------------------------

    @property
    def session(self) -> SegmentSession | None:
        return self.engine.session

    def python(self) -> str:
        return self.engine.python()

    def device(self) -> str:
        return self.engine.device()

    def ensure_session(self) -> SegmentSession:
        return self.engine.ensure_session()

    def use_checkpoint(self, path: str) -> None:
        self.engine.use_checkpoint(path)

    def raster_layer(self) -> Any:
        return self.rasters.raster_layer()

    def raster_for_job(self, layer: Any, extent: Any = None) -> Callable[[EngineTask], str]:
        return self.rasters.raster_for_job(layer, extent)

    def local_source(self, layer: Any, *area: Any, **options: Any) -> str:
        return self.rasters.local_source(layer, *area, **options)

    def polygon_options(self, layer: Any) -> dict[str, Any]:
        """The engine's polygon options for ``layer`` from the panel's shape choices."""
        return polygon_options(layer, self.dock.shapes.shape_choices()) if self.dock is not None else {}

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

    def outputs_folder(self) -> Path:
        """The project's folder, or the home folder while the project is unsaved."""
        return Path(QgsProject.instance().homePath() or Path.home())
