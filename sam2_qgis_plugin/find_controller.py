"""*Find the rest* from the panel: the label layer's examples (edits included) go to the engine's ``find`` job
(a short fine-tune within the time budget shown on the button, then a prediction of the visible map extent or
an AOI); its candidates come back as a review layer and the review starts (``review.CandidateReview``).
*Find again* is the same job on the grown labels."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qgis.core import QgsCoordinateTransform, QgsGeometry, QgsProject, QgsVectorLayer, QgsWkbTypes
from qgis.gui import QgsRubberBand
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtGui import QColor

from .bands import engine_bands
from .i18n import tr
from .jobs import run_core_job
from .output import OutputError, examples_layer, export_layer
from .review import CandidateReview, ReviewTool, candidates_layer, label_target
from .session import SessionError

if TYPE_CHECKING:
    from collections.abc import Callable

    from .host import Host
    from .panel.find import FindSection
    from .panel.labels import LabelsSection
    from .tasks import EngineTask


class FindController:
    """One find at a time; ``review`` is the round being reviewed."""

    def __init__(
        self,
        host: Host,
        section: Callable[[], FindSection | None],
        labels: Callable[[], LabelsSection | None],
        options: Callable[[], dict[str, Any]],
    ) -> None:
        self.host = host
        self.section = section  # the panel's Find the rest section, where the review shows
        self.labels = labels  # the panel's label layer and class field
        self.options = options  # find's options from the panel (time budget, tile size, device)
        self.task: EngineTask | None = None
        self.review: CandidateReview | None = None
        self.tool: ReviewTool | None = None
        self.layer: QgsVectorLayer | None = None  # the review layer shown
        self.highlight: QgsRubberBand | None = None  # the current candidate's outline on the map

    def find(self, out_dir: Path | None = None) -> EngineTask | None:
        """Start a find into ``out_dir`` (default: sam2_find/<time> beside the project); None (and a message)
        when it cannot start."""
        host, section, labels_section = self.host, self.section(), self.labels()
        assert section is not None
        assert labels_section is not None
        if self.task is not None:
            host.report(tr("finding is already running: wait for it or cancel it"))
            return None
        chosen = host.labelled_job_inputs(tr("choose a label layer with a few outlined objects, and a model, first"))
        if chosen is None:
            return None
        raster, labels, checkpoint = chosen
        class_field = labels_section.class_field()
        try:
            label_target(labels, class_field)  # decisions need a class field: say so before the wait
        except OutputError as error:
            host.report(str(error))
            return None
        out_dir = out_dir or host.outputs_folder() / "sam2_find" / time.strftime("%Y%m%d-%H%M%S")
        canvas = host.iface.mapCanvas()
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            export_layer(examples_layer(labels, class_field), out_dir.parent / f"{out_dir.name}_examples.gpkg")
            area, extent = self.search_area(out_dir.parent / f"{out_dir.name}_area.gpkg", raster)
            engine_raster = host.raster_for_job(raster, canvas.extent())
        except (OSError, OutputError, SessionError) as error:
            host.report(str(getattr(error, "strerror", None) or error))
            return None
        request = {
            "labels": out_dir.parent / f"{out_dir.name}_examples.gpkg",
            "checkpoint": checkpoint,
            "out": out_dir,
            "class_field": "class",
            "bands": engine_bands(raster),
            "area": area,
            "extent": extent,
            **self.options(),
            **host.polygon_options(raster),
        }
        python = host.python()
        minutes = section.find_minutes_spin.value()

        def work(task: EngineTask) -> dict[str, Any]:
            def progress(value: float, event: dict[str, Any]) -> None:
                stage = tr("finding the rest") if event.get("stage") == "finding" else tr("learning from the examples")
                task.setDescription(tr("SAM 2: {stage} (budget {minutes:g} min)").format(stage=stage, minutes=minutes))
                task.setProgress(value)

            return run_core_job(python, "find", {**request, "raster": engine_raster(task)}, progress, task.isCanceled)

        task = host.run_task(tr("SAM 2: find the rest"), work, lambda result: self.found(result, labels, class_field))
        task.taskTerminated.connect(self.ended)
        self.task = task
        return task

    def search_area(self, path: Path, raster: Any) -> tuple[Path | None, str | None]:
        """Where to look: an AOI file (written to ``path``), or the visible extent in the raster's CRS as
        ``"xmin,ymin,xmax,ymax"``."""
        section = self.section()
        assert section is not None
        if section.where() == "AOI layer":
            layer = section.find_aoi_combo.currentLayer()
            if layer is None:
                raise OutputError(tr("choose the AOI layer to search (or search the visible map extent)"))
            return export_layer(layer, path), None
        return None, visible_extent_in(self.host.iface.mapCanvas(), raster.crs())

    def ended(self) -> None:
        self.task = None

    def found(self, result: dict[str, Any], labels: QgsVectorLayer, class_field: str | None) -> None:
        """Show the candidates as the review layer (replacing the last round's) and start reviewing them."""
        host, section = self.host, self.section()
        self.task = None
        assert section is not None
        try:
            layer = candidates_layer(Path(result["candidates"]))
            target = label_target(labels, class_field)
        except OutputError as error:
            host.report(str(error))
            return
        self.stop_review()
        QgsProject.instance().addMapLayer(layer)
        self.layer = layer
        self.review = CandidateReview(layer, target, section)
        QgsProject.instance().layersWillBeRemoved.connect(self.layers_removed)
        self.review.changed.connect(self.show_current)
        canvas = host.iface.mapCanvas()
        self.tool = ReviewTool(canvas, self.review)
        canvas.setMapTool(self.tool)
        section.review_row.setVisible(True)
        learned = result.get("labels") or {}
        section.find_result_label.setText(
            tr(
                "Candidates: {count}, learned from {objects} examples and {background} background marks ({pixels} "
                "object pixels); {verdict}"
            ).format(
                count=result.get("count", 0),
                objects=result.get("examples", {}).get("objects", 0),
                background=result.get("examples", {}).get("background", 0),
                pixels=learned.get("object_pixels", 0),
                verdict=result.get("verdict", ""),
            )
        )
        self.show_current()

    def show_current(self) -> None:
        """Say which candidate is current, select it and zoom to it."""
        section, review = self.section(), self.review
        if section is None or review is None:
            return
        section.review_label.setText(review.describe())
        feature = review.current()
        if feature is None or self.layer is None:
            return
        canvas = self.host.iface.mapCanvas()
        to_map = QgsCoordinateTransform(self.layer.crs(), canvas.mapSettings().destinationCrs(), QgsProject.instance())
        outline = QgsGeometry(feature.geometry())
        outline.transform(to_map)
        if self.highlight is None:  # an outline, not QGIS's selection fill: the image under it stays visible
            self.highlight = QgsRubberBand(canvas, QgsWkbTypes.GeometryType.PolygonGeometry)
            self.highlight.setStrokeColor(QColor(0, 255, 255))
            self.highlight.setFillColor(QColor(0, 0, 0, 0))
            self.highlight.setWidth(3)
        self.highlight.setToGeometry(outline, None)
        box = outline.boundingBox()
        canvas.setExtent(box.buffered(max(box.width(), box.height()) * 1.5 + 1e-9))
        canvas.refresh()

    def layers_removed(self, ids: list[str]) -> None:
        """The review stops, saying why, when its label layer or its candidates leave the project (the decisions
        made are in the label layer's edit buffer)."""
        review = self.review
        if review is None:
            return
        labels = review.target.layer
        if labels.id() in ids:
            name = labels.name()
            candidates = self.stop_review(remove_layer=False)  # not while QGIS is removing layers: later
            if candidates is not None:
                QTimer.singleShot(0, lambda: remove_layer_by_id(candidates))
            self.host.report(tr("The review stopped: its label layer {layer} was removed").format(layer=name))
        elif self.layer is not None and self.layer.id() in ids:
            self.stop_review(remove_layer=False)  # QGIS is removing it
            self.host.report(tr("The review stopped: its candidates were removed (Find again finds them again)"))

    def stop_review(self, remove_layer: bool = True) -> str | None:
        """Leave the review; its candidates layer leaves the project (the next round makes its own) unless
        ``remove_layer`` is False: then its id is returned, for the caller to remove it."""
        with contextlib.suppress(TypeError, RuntimeError):  # not connected: no review yet
            QgsProject.instance().layersWillBeRemoved.disconnect(self.layers_removed)
        if self.review is not None:
            self.review.close()
            self.review.deleteLater()
        canvas = self.host.iface.mapCanvas()
        if self.tool is not None and canvas.mapTool() is self.tool:
            canvas.unsetMapTool(self.tool)
        if self.highlight is not None:
            canvas.scene().removeItem(self.highlight)
            self.highlight = None
        kept = self.layer.id() if self.layer is not None else None
        if kept is not None and remove_layer:
            remove_layer_by_id(kept)
            kept = None
        self.review, self.tool, self.layer = None, None, None
        section = self.section()
        if section is not None:
            section.review_row.setVisible(False)
        return kept

    def act(self, action: str) -> None:
        """A review button: accept, reject, next, previous or undo."""
        review = self.review
        if review is None:
            return
        try:
            {"accept": review.accept, "reject": review.reject, "next": lambda: review.move(1),
             "previous": lambda: review.move(-1), "undo": review.undo}[action]()  # fmt: skip
        except OutputError as error:
            self.host.report(str(error))


def visible_extent_in(canvas: Any, crs: Any) -> str:
    """The map's visible extent in ``crs`` as the engine's ``"xmin,ymin,xmax,ymax"`` (find's and suggest's
    ``--extent``)."""
    to_crs = QgsCoordinateTransform(canvas.mapSettings().destinationCrs(), crs, QgsProject.instance())
    box = to_crs.transformBoundingBox(canvas.extent())
    return f"{box.xMinimum()},{box.yMinimum()},{box.xMaximum()},{box.yMaximum()}"


def remove_layer_by_id(layer_id: str) -> None:
    """Remove a layer from the project, if it is still there."""
    if QgsProject.instance().mapLayer(layer_id) is not None:
        QgsProject.instance().removeMapLayer(layer_id)


__all__ = ["FindController"]
