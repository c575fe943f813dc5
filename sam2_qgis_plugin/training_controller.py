"""Fine-tuning from the panel: export the label (and AOI) layers into a run folder, run the engine's ``train``
job in a background task, then make the best checkpoint the active model and a selectable one. A cancelled run
stops at a safe point: the panel says where, offers its best checkpoint so far, and can resume it."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qgis.core import Qgis, QgsCoordinateTransform, QgsProject

from .bands import engine_bands
from .folders import writable_folder
from .i18n import tr
from .jobs import run_core_job
from .output import OutputError, export_layer
from .session import SessionError
from .settings import TUNED_MODELS

if TYPE_CHECKING:
    from collections.abc import Callable

    from .host import Host
    from .panel.model import ModelSection
    from .panel.train import TrainSection
    from .tasks import EngineTask

MAX_TUNED = 20


def remembered_models() -> list[str]:
    """Tuned checkpoints of earlier runs that still exist, newest first."""
    paths = TUNED_MODELS.value() or []
    return [p for p in ([paths] if isinstance(paths, str) else paths) if Path(p).is_file()]


def tuned_model_title(checkpoint: Path) -> str:
    """``run-name (IoU 0.71)`` from the run's summary.json, or the run's name alone."""
    try:
        best = json.loads((checkpoint.parent / "summary.json").read_text())["best"]
        return f"{checkpoint.parent.name} (IoU {best['iou']:.2f})"
    except (OSError, ValueError, KeyError):
        return checkpoint.parent.name


def labels_name(layer: Any) -> str:
    """The label layer as the history of runs on it knows it: its name, and a digest of its source (two layers
    of one name stay apart; a layer keeps its identity across runs and sessions)."""
    digest = hashlib.sha256(layer.source().encode("utf-8")).hexdigest()[:8]
    return f"{layer.name()} [{digest}]"


def result_text(name: str, summary: dict[str, Any]) -> str:
    """What the panel says of a finished run: validation IoU and F1, base -> best (each class's IoU for one
    model of several classes), and how much was scored."""
    base, best = summary["base"], summary["best"]
    again = summary.get("started_from") == "tuned"  # a tuned model tuned again: epoch 0 is no base model
    if summary.get("improved", True):
        start = tr("start") if again else tr("base")
        text = tr("{name}: validation IoU {base:.3f} ({start}) -> {best:.3f} (best, epoch {epoch}); F1 {f1_base:.3f} "
                  "-> {f1_best:.3f}").format(name=name, base=base["iou"], start=start, best=best["iou"],
                                             epoch=best["epoch"], f1_base=base["f1"], f1_best=best["f1"])  # fmt: skip
    elif again:
        text = tr("{name}: the model you started from stands (validation IoU {base:.3f}: no epoch beat it)").format(
            name=name, base=base["iou"]
        )
    else:
        text = tr("{name}: the base model stands (validation IoU {base:.3f}: no epoch beat it)").format(
            name=name, base=base["iou"]
        )
    classes = summary.get("classes") or {}
    if classes:
        each = ", ".join(
            tr("{name} {base:.2f} -> {best:.2f}").format(name=c["name"], base=c["base"]["iou"], best=c["best"]["iou"])
            for c in classes.values()
        )
        text += "; " + tr("IoU by class: {classes}").format(classes=each)
    counted = summary.get("validation", {})
    scored = tr("{objects} objects in {tiles} validation tiles").format(
        objects=counted.get("objects", "?"), tiles=counted.get("tiles", "?")
    )
    bought = summary.get("labels_bought")  # the engine's sentence: what the last labels added
    return f"{text}; {scored}." + (f" {bought[:1].upper()}{bought[1:]}." if bought else "")


class TrainingController:
    """One fine-tuning at a time, started from the dock; ``last_run`` is the folder of the last finished one."""

    def __init__(
        self,
        host: Host,
        section: Callable[[], TrainSection | None],
        model: Callable[[], ModelSection | None],
        options: Callable[[], dict[str, Any]],
        tuned: Callable[[str], None],
    ) -> None:
        self.host = host
        self.section = section  # the panel's Fine-tune section: options, result, report, resume
        self.model = model  # the panel's Model section, where tuned models are offered
        self.options = options  # the training options from the panel (train, labels, engine sections)
        self.tuned = tuned  # told of each checkpoint that became the active model (where to label next)
        self.task: EngineTask | None = None
        self.last_run: Path | None = None
        self.stopped_run: Path | None = None  # a cancelled run that can be resumed

    def fill_tuned_models(self) -> None:
        model = self.model()
        assert model is not None
        for path in reversed(remembered_models()):  # offered first-to-last: the newest ends first and chosen
            model.offer_tuned(Path(path), tuned_model_title(Path(path)))

    def fine_tune(self, run_dir: Path | None = None, options: dict[str, Any] | None = None) -> EngineTask | None:
        """Start a run in ``run_dir`` (default: sam2_runs/<time> beside the project) with the panel's options
        and ``options`` over them; None (and a message) when it cannot start."""
        host, section = self.host, self.section()
        assert section is not None
        if self.task is not None:
            host.report(tr("a fine-tuning is already running: wait for it or cancel it in the task manager"))
            return None
        chosen = host.labelled_job_inputs(tr("choose a label layer and a model (the base to fine-tune) first"))
        if chosen is None:
            return None
        raster, labels, checkpoint = chosen
        run_dir = run_dir or host.outputs_folder() / "sam2_runs" / time.strftime("%Y%m%d-%H%M%S")
        problem = writable_folder(run_dir)
        if problem:
            host.report(
                tr("the run folder {run_dir} is not writable ({problem}): save the project elsewhere").format(
                    run_dir=run_dir, problem=problem
                )
            )
            return None
        aoi = section.aoi_layer()
        try:
            engine_raster = host.raster_for_job(raster, self.render_extent(labels, aoi))
        except SessionError as error:
            host.report(str(error))
            return None
        try:
            export_layer(labels, run_dir / "labels.gpkg")
            if aoi is not None:
                export_layer(aoi, run_dir / "aoi.gpkg")
        except OutputError as error:
            host.report(str(error))
            return None
        request = {
            "raster": engine_raster,
            "bands": engine_bands(raster),
            "labels": run_dir / "labels.gpkg",
            "labels_name": labels_name(labels),
            "checkpoint": checkpoint,
            "out": run_dir,
            "aoi": run_dir / "aoi.gpkg" if aoi is not None else None,
            **self.options(),
            **(options or {}),
        }
        return self._start(run_dir, request, "SAM 2 fine-tuning")

    def render_extent(self, labels: Any, aoi: Any) -> Any:
        """The area a raster that is no local file is rendered over: the AOI's extent, else the labels', a little
        wider (map CRS)."""
        canvas = self.host.iface.mapCanvas()
        layer = aoi if aoi is not None else labels
        to_map = QgsCoordinateTransform(layer.crs(), canvas.mapSettings().destinationCrs(), QgsProject.instance())
        extent = to_map.transformBoundingBox(layer.extent())
        return extent.buffered(0.05 * max(extent.width(), extent.height()))

    def resume_stopped(self) -> EngineTask | None:
        """Continue the run that was cancelled, from its saved state (the engine's ``train --resume``)."""
        if self.stopped_run is None:
            self.host.report(tr("no stopped fine-tuning to resume in this session"))
            return None
        if self.task is not None:
            self.host.report(tr("a fine-tuning is already running: wait for it or cancel it in the task manager"))
            return None
        return self._start(self.stopped_run, {"resume": self.stopped_run}, "SAM 2 fine-tuning (resumed)")

    def _start(self, run_dir: Path, request: dict[str, Any], description: str) -> EngineTask:
        python = self.host.python()

        def work(task: EngineTask) -> dict[str, Any]:
            scored: list[tuple[int, float]] = []  # (epoch, validation IoU) of the last validation; epoch 0: start

            def progress(value: float, event: dict[str, Any]) -> None:
                if task.isCanceled():  # stopping at a safe point: no pace or time left any more
                    task.setProgress(value)
                    return
                if "tiles" in event:
                    tiles = event["tiles"]
                    task.setDescription(
                        tr("{description}: {train} training and {val} validation tiles").format(
                            description=description, train=tiles.get("train", 0), val=tiles.get("val", 0)
                        )
                    )
                if "iou" in event:
                    scored[:] = [(int(event.get("epoch") or 0), float(event["iou"]))]
                    task.setDescription(f"{description}: {validated(*scored[0])}")
                if "samples_per_second" in event:
                    task.setDescription(training_pace(description, event, scored[0] if scored else None))
                task.setProgress(value)  # after the description: whoever follows the progress reads the new one

            raster = request.get("raster")
            ready = {**request, "raster": raster(task)} if callable(raster) else request  # rendered in the task
            return run_core_job(python, "train", ready, progress, task.isCanceled)

        task = self.host.run_task(description, work, lambda summary: self.finished(run_dir, summary))
        task.taskTerminated.connect(self.ended)
        self.task = task
        section = self.section()
        if section is not None:
            section.resume_button.setEnabled(False)
        return task

    def ended(self) -> None:
        self.task = None

    def finished(self, run_dir: Path, summary: dict[str, Any]) -> None:
        """Show the scores; a run that beat the base becomes the active model."""
        host = self.host
        self.task = None
        if summary.get("stopped"):
            self.stopped(run_dir, summary)
            return
        self.stopped_run = None
        self.last_run = run_dir
        base, best = summary["base"]["iou"], summary["best"]["iou"]
        section = self.section()
        if section is not None:  # the scores once (the verdict says the same in words: it is in the report)
            section.show_result(result_text(run_dir.name, summary))
        for warning in summary.get("warnings", []):
            host.report(warning)
        bar = host.iface.messageBar()
        if not summary.get("improved", True):
            bar.pushMessage(
                "SAM 2",
                (
                    tr(
                        "no epoch beat the validation IoU of the model you started from, {base:.3f}: the active "
                        "model is unchanged; label more objects or change the settings, and see the run's report"
                    )
                    if summary.get("started_from") == "tuned"
                    else tr(
                        "no epoch beat the base model's validation IoU of {base:.3f}: the active model is "
                        "unchanged; label more objects or change the settings, and see the run's report"
                    )
                ).format(base=base),
                level=Qgis.MessageLevel.Warning,
                duration=0,
            )
            return
        self.remember_model(run_dir / "best.pt")
        bar.pushMessage(
            "SAM 2",
            tr("fine-tuned: validation IoU {base:.3f} -> {best:.3f}; the tuned model is now active").format(
                base=base, best=best
            ),
            level=Qgis.MessageLevel.Success,
            duration=10,
        )
        host.use_checkpoint(str(run_dir / "best.pt"))
        self.tuned(str(run_dir / "best.pt"))  # where to label next, for the new model

    def stopped(self, run_dir: Path, summary: dict[str, Any]) -> None:
        """A cancelled run stopped at a safe point: say where, offer its best checkpoint so far, allow resuming."""
        self.stopped_run = run_dir
        best, base = summary.get("best"), summary.get("base", {})
        text = f"{run_dir.name}: stopped in epoch {summary.get('epoch', '?')}; Resume continues it."
        if best is None:
            text = f"{run_dir.name}: stopped before the first epoch (nothing trained yet); Resume starts it again."
        elif summary.get("best_checkpoint"):
            checkpoint = Path(summary["best_checkpoint"])
            self.remember_model(checkpoint, f"{run_dir.name} (stopped, IoU {best['iou']:.2f})")
            text += (
                f" Its best so far (epoch {best['epoch']}: validation IoU {base['iou']:.3f} -> {best['iou']:.3f}) "
                "is chosen in Model's list: press Use to make it active."
            )
        else:
            text += f" No epoch had beaten the base model yet (validation IoU {base['iou']:.3f})."
        section = self.section()
        if section is not None:
            section.show_result(text, resumable=True)
        self.host.iface.messageBar().pushMessage(
            "SAM 2", tr("fine-tuning {text}").format(text=text), level=Qgis.MessageLevel.Info, duration=0
        )

    def remember_model(self, checkpoint: Path, title: str | None = None) -> None:
        """Make a tuned checkpoint selectable in the dock, now and in later QGIS sessions."""
        paths = [str(checkpoint), *(p for p in remembered_models() if p != str(checkpoint))][:MAX_TUNED]
        TUNED_MODELS.set_value(paths)
        model = self.model()
        if model is not None:  # listed again, first, with its new title
            model.offer_tuned(checkpoint, title or tuned_model_title(checkpoint))

    def open_report(self) -> bool:
        """Open the last run's report.html (scores base vs tuned, curves) in the system's browser; without one,
        open its folder and say where the report is."""
        from qgis.PyQt.QtCore import QUrl
        from qgis.PyQt.QtGui import QDesktopServices

        if self.last_run is None or not (self.last_run / "report.html").exists():
            self.host.report(tr("no finished fine-tuning in this session yet"))
            return False
        report = self.last_run / "report.html"
        if QDesktopServices.openUrl(QUrl.fromLocalFile(str(report))):
            return True
        opened_folder = QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.last_run)))
        self.host.iface.messageBar().pushMessage(
            "SAM 2",
            (
                tr("no browser opened the report: it is {report} (its folder is open)")
                if opened_folder
                else tr("no browser opened the report: it is {report}")
            ).format(report=report),
            level=Qgis.MessageLevel.Info,
            duration=0,
        )
        return False


__all__ = ["MAX_TUNED", "TrainingController", "remembered_models", "tuned_model_title"]


def validated(epoch: int, iou: float) -> str:
    """A validation IoU named by what was scored: the model the run started from (epoch 0), or an epoch."""
    if epoch == 0:
        return tr("the starting model's IoU {iou:.3f}").format(iou=iou)
    return tr("IoU {iou:.3f} after epoch {epoch}").format(iou=iou, epoch=epoch)


def training_pace(description: str, event: dict[str, Any], scored: tuple[int, float] | None) -> str:
    """'<description>: epoch 2, 35.1 samples/s, about 4 min left; IoU 0.412 after epoch 1' from a training
    step's event and the last validation (epoch, IoU)."""
    pace = tr("{description}: epoch {epoch}, {rate:.1f} samples/s").format(
        description=description, epoch=event.get("epoch"), rate=event["samples_per_second"]
    )
    eta = event.get("eta_seconds")
    pace = pace if eta is None else f"{pace}, {time_left(float(eta))}"
    return pace if scored is None else f"{pace}; {validated(*scored)}"


def time_left(seconds: float) -> str:
    """'under a minute left', 'about 4 min left', 'about 1 h 20 min left'."""
    minutes = round(seconds / 60)
    if minutes < 1:
        return tr("under a minute left")
    if minutes < 60:
        return tr("about {minutes} min left").format(minutes=minutes)
    return tr("about {hours} h {minutes} min left").format(hours=minutes // 60, minutes=minutes % 60)
