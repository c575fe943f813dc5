"""The plugin object QGIS loads: menu, toolbar, the SAM 2 dock, the map tool, the engine worker."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Any

from qgis.core import Qgis, QgsApplication, QgsCoordinateReferenceSystem, QgsProject, QgsSettings
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction, QToolBar

from .dock import Sam2Dock
from .engine import SETTINGS_KEY, WorkerClient, candidate_pythons, probe
from .maptool import SegmentMapTool
from .output import (
    OutputError,
    append_segments,
    default_segments_file,
    export_layer,
    extent_layer,
    open_default_segments,
)
from .session import SegmentSession, SessionError, check_raster
from .tasks import EngineTask

MENU = "&SAM 2"
TUNED_KEY = "sam2_qgis/tuned_models"
MAX_TUNED = 20
UNLOAD_WAIT_MS = 30_000  # longer than a job's SIGTERM grace (jobs.run_core_job)
ICON = Path(__file__).parent / "icons" / "sam2.svg"

__all__ = ["MENU", "Sam2Dock", "Sam2Plugin"]


def remembered_models() -> list[str]:
    """Tuned checkpoints of earlier runs that still exist, newest first."""
    paths = QgsSettings().value(TUNED_KEY, []) or []
    return [p for p in ([paths] if isinstance(paths, str) else paths) if Path(p).is_file()]


def tuned_model_title(checkpoint: Path) -> str:
    """``run-name (IoU 0.71)`` from the run's summary.json, or the run's name alone."""
    try:
        best = json.loads((checkpoint.parent / "summary.json").read_text())["best"]
        return f"{checkpoint.parent.name} (IoU {best['iou']:.2f})"
    except (OSError, ValueError, KeyError):
        return checkpoint.parent.name


class Sam2Plugin:
    """Menu and toolbar show the dock; the dock drives the engine; the map tool segments."""

    def __init__(self, iface) -> None:  # type: ignore[no-untyped-def]
        self.iface = iface
        self.toolbar: QToolBar | None = None
        self.dock: Sam2Dock | None = None
        self.panel_action: QAction | None = None
        self.client: WorkerClient | None = None
        self.session: SegmentSession | None = None
        self.tool: SegmentMapTool | None = None
        self.tasks: list[EngineTask] = []
        self.training: EngineTask | None = None
        self.last_run: Path | None = None

    # -- lifecycle ----------------------------------------------------------------------------------------

    def initGui(self) -> None:  # noqa: N802  (QGIS's name)
        window = self.iface.mainWindow()
        self.dock = Sam2Dock(window)
        self.iface.addDockWidget(Qt.RightDockWidgetArea, self.dock)
        self.dock.hide()
        configured = QgsSettings().value(SETTINGS_KEY, "") or None
        found = candidate_pythons(configured)
        self.dock.python_widget.setFilePath(found[0] if found else "")
        self.dock.check_button.clicked.connect(self.check_engine)
        self.dock.load_button.clicked.connect(lambda: self.use_checkpoint(self.dock.checkpoint_widget.filePath()))
        self.dock.download_button.clicked.connect(self.download_model)
        self.dock.segment_button.toggled.connect(self.toggle_tool)
        self.dock.output_combo.layerChanged.connect(self.show_output_destination)
        QgsProject.instance().homePathChanged.connect(self.show_output_destination)
        self.show_output_destination()
        self.dock.encode_button.clicked.connect(self.encode_visible_extent)
        self.dock.train_button.clicked.connect(lambda: self.fine_tune())
        self.dock.report_button.clicked.connect(self.open_report)
        self.dock.predict_button.clicked.connect(lambda: self.predict_raster())
        self.dock.use_tuned_button.clicked.connect(
            lambda: self.use_checkpoint(self.dock.tuned_combo.currentData() or "") if self.dock else None
        )
        for path in remembered_models():
            self.dock.tuned_combo.addItem(tuned_model_title(Path(path)), path)

        self.panel_action = QAction(QIcon(str(ICON)), "SAM 2 panel", window)
        self.panel_action.setObjectName("Sam2PanelAction")
        self.panel_action.setCheckable(True)
        self.panel_action.toggled.connect(self.dock.setVisible)
        self.dock.visibilityChanged.connect(self.panel_action.setChecked)
        self.toolbar = self.iface.addToolBar("SAM 2")
        self.toolbar.setObjectName("Sam2Toolbar")
        self.toolbar.addAction(self.panel_action)
        self.iface.addPluginToMenu(MENU, self.panel_action)
        from .processing_provider import Sam2Provider

        self.provider = Sam2Provider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    def unload(self) -> None:
        """Cancel our tasks, end the worker, remove every widget (also when QGIS closes)."""
        if getattr(self, "provider", None) is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        running = []
        for task in self.tasks:
            try:
                if task.status() not in (task.Complete, task.Terminated):
                    task.cancel()
                    running.append(task)
            except RuntimeError:  # finished tasks are deleted by QGIS's task manager
                pass
        for task in running:  # engine jobs end within their grace period (a training saves its state first)
            with contextlib.suppress(RuntimeError):
                task.waitForFinished(UNLOAD_WAIT_MS)
        self.tasks.clear()
        if self.tool is not None:
            self.iface.mapCanvas().unsetMapTool(self.tool)
            self.tool.deactivate()
            self.tool = None
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
            QgsProject.instance().homePathChanged.disconnect(self.show_output_destination)
        if self.dock is not None:
            self.iface.removeDockWidget(self.dock)
            self.dock.deleteLater()
            self.dock = None

    # -- messages and tasks -------------------------------------------------------------------------------

    def report(self, message: str, expected: bool = True) -> None:
        level = Qgis.Warning if expected else Qgis.Critical
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
        return task

    # -- engine and model ---------------------------------------------------------------------------------

    def python(self) -> str:
        assert self.dock is not None
        return self.dock.python_widget.filePath()

    def ensure_session(self) -> SegmentSession:
        if self.session is None or self.client is None or self.client.python != self.python():
            if self.client is not None:
                self.client.stop()
            self.client = WorkerClient(self.python())
            self.session = SegmentSession(self.client)
        return self.session

    def check_engine(self) -> None:
        python = self.python()
        QgsSettings().setValue(SETTINGS_KEY, python)

        def shown(info: Any) -> None:
            if self.dock is not None:
                self.dock.engine_label.setText(f"Engine: {info.summary}")

        self.run_task("SAM 2: checking the engine", lambda task: probe(python), shown)

    def use_checkpoint(self, path: str) -> None:
        if not path:
            self.report("choose a checkpoint file first")
            return
        session = self.ensure_session()

        def loaded(model: dict[str, Any]) -> None:
            if self.dock is not None:
                self.dock.model_label.setText(
                    f"Active model: {model['label']} ({Path(path).name}, {model['image_size']} px, {model['device']})"
                )

        self.run_task("SAM 2: loading the model", lambda task: session.load_model(path), loaded)

    def download_model(self) -> None:
        assert self.dock is not None
        name, python = self.dock.model_combo.currentText(), self.python()

        def work(task: EngineTask) -> str:
            from .jobs import run_core_job

            # cancel keeps the partial file: the next download resumes it
            download = ["weights", "download", name]
            result = run_core_job(python, download, lambda value, event: task.setProgress(value), task.isCanceled)
            return str(result["checkpoint"])

        self.run_task(f"SAM 2: downloading {name}", work, self.use_checkpoint)

    # -- segmenting ---------------------------------------------------------------------------------------

    def raster_layer(self) -> Any:
        assert self.dock is not None
        return self.dock.raster_combo.currentLayer() or self.iface.activeLayer()

    def toggle_tool(self, active: bool) -> None:
        canvas = self.iface.mapCanvas()
        if not active:
            if self.tool is not None:
                canvas.unsetMapTool(self.tool)
            return
        self.tool = SegmentMapTool(
            canvas, self.ensure_session(), self.raster_layer, self.accept, self.report, background=self.run_task
        )
        canvas.setMapTool(self.tool)

    def outputs_folder(self) -> Path:
        """The project's folder, or the home folder while the project is unsaved."""
        return Path(QgsProject.instance().homePath() or Path.home())

    def show_output_destination(self, *_: Any) -> None:
        """Tell the analyst where accepted segments will be written."""
        if self.dock is None:
            return
        layer = self.dock.output_combo.currentLayer()
        if layer is not None:
            text = f"Segments are added to the layer {layer.name()}."
        else:
            path = default_segments_file(self.outputs_folder())
            verb = "appended to" if path.exists() else "written to a new"
            unsaved = "" if QgsProject.instance().homePath() else " (the project is not saved: your home folder)"
            text = f"Segments are {verb} {path}{unsaved}."
        self.dock.output_hint.setText(text)

    def accept(self, result: dict[str, Any]) -> None:
        assert self.dock is not None
        layer = self.dock.output_combo.currentLayer()
        source_crs = (
            QgsCoordinateReferenceSystem.fromWkt(result["crs"]) if result.get("crs") else self.raster_layer().crs()
        )
        try:
            if layer is None:
                layer = open_default_segments(self.outputs_folder(), source_crs)
                self.dock.output_combo.setLayer(layer)
            model = self.session.model["model"] if self.session and self.session.model else ""
            count = append_segments(
                layer, result["polygons"], source_crs, self.dock.class_edit.text(), result["score"], model
            )
        except OutputError as error:
            self.report(str(error))
            return
        self.iface.messageBar().pushMessage(
            "SAM 2",
            f"{count} polygon(s) added to {layer.name()} ({layer.source().split('|')[0]})",
            level=Qgis.Info,
            duration=3,
        )
        self.show_output_destination()

    def encode_visible_extent(self) -> None:
        try:
            layer = check_raster(self.raster_layer())
            session = self.ensure_session()
        except SessionError as error:
            self.report(str(error))
            return
        canvas = self.iface.mapCanvas()
        extent = canvas.extent()
        crs_wkt = canvas.mapSettings().destinationCrs().toWkt()

        def work(task: EngineTask) -> dict[str, Any]:
            raster_id = session.raster_id(layer)
            return session.client.request(
                "encode_extent",
                {
                    "raster_id": raster_id,
                    "crs": crs_wkt,
                    "extent": [extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum()],
                },
                on_event=lambda event: task.setProgress(100 * float(event.get("fraction", 0))),
            )

        def done(result: dict[str, Any]) -> None:
            self.iface.messageBar().pushMessage(
                "SAM 2",
                f"{result['encoded']} of {result['tiles']} tiles encoded: clicks there are now instant",
                level=Qgis.Info,
                duration=4,
            )

        self.run_task("SAM 2: encoding the visible extent", work, done)

    # -- fine-tuning and prediction (one engine process per job) ------------------------------------------

    def fine_tune(self, run_dir: Path | None = None, extra: list[str] | None = None) -> EngineTask | None:
        """Export the label (and AOI) layer, then train in a background task; the best checkpoint becomes the
        active model and a selectable one."""
        from .jobs import run_core_job

        assert self.dock is not None
        if self.training is not None:
            self.report("a fine-tuning is already running: wait for it or cancel it in the task manager")
            return None
        try:
            raster = check_raster(self.raster_layer())
        except SessionError as error:
            self.report(str(error))
            return None
        labels = self.dock.labels_combo.currentLayer()
        checkpoint = self.session.checkpoint if self.session else None
        if labels is None or not checkpoint:
            self.report("choose a label layer and a model (the base to fine-tune) first")
            return None
        home = Path(QgsProject.instance().homePath() or Path.home())
        run_dir = run_dir or home / "sam2_runs" / time.strftime("%Y%m%d-%H%M%S")
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
            probe_file = run_dir / ".writable"
            probe_file.write_text("")
            probe_file.unlink()
        except OSError as error:
            self.report(f"the run folder {run_dir} is not writable ({error.strerror}): save the project elsewhere")
            return None
        dock = self.dock
        aoi = dock.aoi_combo.currentLayer()
        try:
            export_layer(labels, run_dir / "labels.gpkg")
            if aoi is not None:
                export_layer(aoi, run_dir / "aoi.gpkg")
        except OutputError as error:
            self.report(str(error))
            return None
        args = [
            "train",
            "--raster",
            raster.source(),
            "--labels",
            str(run_dir / "labels.gpkg"),
            "--checkpoint",
            checkpoint,
            "--out",
            str(run_dir),
            "--mode",
            dock.mode_combo.currentData(),
            "--trainable",
            dock.trainable_combo.currentText(),
            "--epochs",
            str(dock.epochs_spin.value()),
            "--lr",
            repr(dock.lr_spin.value()),
            "--batch-size",
            str(dock.batch_spin.value()),
            "--tile-size",
            str(dock.tile_spin.value()),
            "--val-fraction",
            repr(dock.val_spin.value()),
            "--device",
            dock.device_combo.currentText(),
        ]
        if dock.class_field_combo.currentField():
            args += ["--class-field", dock.class_field_combo.currentField()]
        if dock.classes_edit.text().strip():
            args += ["--classes", dock.classes_edit.text().strip()]
        if aoi is not None:
            args += ["--aoi", str(run_dir / "aoi.gpkg")]
        args += extra or []
        python = self.python()

        def work(task: EngineTask) -> dict[str, Any]:
            def progress(value: float, event: dict[str, Any]) -> None:
                task.setProgress(value)
                if "iou" in event:
                    task.setDescription(f"SAM 2 fine-tuning: epoch {event.get('epoch')}, IoU {event['iou']:.3f}")

            return run_core_job(python, args, progress, task.isCanceled)

        def done(summary: dict[str, Any]) -> None:
            self.training = None
            self.last_run = run_dir
            base, best = summary["base"]["iou"], summary["best"]["iou"]
            counted = summary.get("validation", {})
            scored = f"{counted.get('objects', '?')} objects in {counted.get('tiles', '?')} validation tiles"
            if self.dock is not None:
                self.dock.result_label.setText(
                    f"{run_dir.name}: validation IoU {base:.3f} (base) -> {best:.3f} (best, epoch "
                    f"{summary['best']['epoch']}); F1 {summary['base']['f1']:.3f} -> {summary['best']['f1']:.3f}; "
                    f"{scored}. {summary.get('verdict', '')}"
                )
            for warning in summary.get("warnings", []):
                self.report(warning)
            if not summary.get("improved", True):
                self.iface.messageBar().pushMessage(
                    "SAM 2",
                    f"no epoch beat the base model's validation IoU of {base:.3f}: the active model is unchanged; "
                    "label more objects or change the settings, and see the run's report",
                    level=Qgis.Warning,
                    duration=0,
                )
                return
            self.remember_model(run_dir / "best.pt")
            self.iface.messageBar().pushMessage(
                "SAM 2",
                f"fine-tuned: validation IoU {base:.3f} -> {best:.3f}; the tuned model is now active",
                level=Qgis.Success,
                duration=10,
            )
            self.use_checkpoint(str(run_dir / "best.pt"))

        task = self.run_task("SAM 2 fine-tuning", work, done)
        task.taskTerminated.connect(lambda: setattr(self, "training", None))
        self.training = task
        return task

    def remember_model(self, checkpoint: Path) -> None:
        """Make a tuned checkpoint selectable in the dock, now and in later QGIS sessions."""
        paths = [str(checkpoint), *(p for p in remembered_models() if p != str(checkpoint))][:MAX_TUNED]
        QgsSettings().setValue(TUNED_KEY, paths)
        if self.dock is not None:
            combo = self.dock.tuned_combo
            if combo.findData(str(checkpoint)) < 0:
                combo.insertItem(0, tuned_model_title(checkpoint), str(checkpoint))
            combo.setCurrentIndex(combo.findData(str(checkpoint)))

    def open_report(self) -> bool:
        """Open the last run's report.html (scores base vs tuned, curves) in the system's browser."""
        from qgis.PyQt.QtCore import QUrl
        from qgis.PyQt.QtGui import QDesktopServices

        if self.last_run is None or not (self.last_run / "report.html").exists():
            self.report("no finished fine-tuning in this session yet")
            return False
        return bool(QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.last_run / "report.html"))))

    def predict_raster(self, out_dir: Path | None = None) -> EngineTask | None:
        """Predict the chosen raster with the active model; the mask and polygons are added to the project."""
        from .jobs import add_prediction_layers, run_core_job

        try:
            raster = check_raster(self.raster_layer())
        except SessionError as error:
            self.report(str(error))
            return None
        checkpoint = self.session.checkpoint if self.session else None
        if not checkpoint:
            self.report("choose a model first (a fine-tuned run's best.pt works best)")
            return None
        out_dir = out_dir or Path(QgsProject.instance().homePath() or Path.home()) / "sam2_predictions"
        stem = f"{Path(raster.source()).stem}_{time.strftime('%Y%m%d-%H%M%S')}"
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            aoi = self.prediction_area(out_dir / f"{stem}_area.gpkg")
        except OSError as error:
            self.report(f"cannot write predictions to {out_dir} ({error.strerror}): choose another folder")
            return None
        except OutputError as error:
            self.report(str(error))
            return None
        args = [
            "predict",
            "--raster",
            raster.source(),
            "--checkpoint",
            checkpoint,
            "--out",
            str(out_dir / f"{stem}_mask.tif"),
            "--vector",
            str(out_dir / f"{stem}.gpkg"),
            "--label",
            self.dock.class_edit.text() if self.dock else "object",
            "--threshold",
            repr(self.dock.threshold_spin.value()) if self.dock else "0.5",
            *(["--aoi", str(aoi)] if aoi else []),
        ]
        python = self.python()

        def work(task: EngineTask) -> dict[str, Any]:
            return run_core_job(python, args, lambda value, event: task.setProgress(value), task.isCanceled)

        def done(result: dict[str, Any]) -> None:
            add_prediction_layers(result["mask"], result.get("vector"), stem)

        return self.run_task("SAM 2: predicting the raster", work, done)

    def prediction_area(self, path: Path) -> Path | None:
        """The AOI file for the panel's "Where" choice (None: the whole raster); written to ``path``."""
        assert self.dock is not None
        where = self.dock.extent_combo.currentText()
        if where == "visible map extent":
            canvas = self.iface.mapCanvas()
            export_layer(extent_layer(canvas.extent(), canvas.mapSettings().destinationCrs()), path)
            return path
        if where == "AOI layer":
            layer = self.dock.predict_aoi_combo.currentLayer()
            if layer is None:
                raise OutputError("choose the AOI layer to predict in (or predict the whole raster)")
            export_layer(layer, path)
            return path
        return None
