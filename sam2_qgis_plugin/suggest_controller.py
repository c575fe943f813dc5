"""*Where to label next* from the panel: the engine's ``suggest`` job predicts how unsure the active model is over
the visible extent, the whole raster or an AOI, and proposes the places where a label would teach it most (away
from the label layer's objects). The uncertainty comes back as a translucent heat layer, the places as numbered
points; Previous / Next zoom to each. After a fine-tuning the places are proposed again, for the new model."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qgis.core import (
    QgsColorRampShader,
    QgsCoordinateTransform,
    QgsGeometry,
    QgsPalLayerSettings,
    QgsProject,
    QgsRasterLayer,
    QgsRasterShader,
    QgsRectangle,
    QgsSingleBandPseudoColorRenderer,
    QgsVectorLayer,
    QgsVectorLayerSimpleLabeling,
    QgsWkbTypes,
)
from qgis.gui import QgsRubberBand
from qgis.PyQt.QtGui import QColor

from .bands import engine_bands
from .find_controller import visible_extent_in
from .i18n import tr
from .jobs import run_core_job
from .output import OutputError, export_layer
from .session import SessionError, check_raster

if TYPE_CHECKING:
    from collections.abc import Callable

    from .host import Host
    from .panel.labels import LabelsSection
    from .panel.suggest import SuggestSection
    from .tasks import EngineTask

HEAT_LAYER = "SAM 2 uncertainty"
PLACES_LAYER = "SAM 2 places to label"
#: The heat layer's colours: sure is clear, unsure is red (value, RGBA).
HEAT_RAMP = ((0.0, (255, 255, 178, 0)), (0.5, (253, 141, 60, 110)), (1.0, (189, 0, 38, 170)))
VIEW_PIXELS = 400  # the map shows this many raster pixels across around a place


class SuggestController:
    """One suggest job at a time; the places shown and the current one."""

    def __init__(
        self, host: Host, section: Callable[[], SuggestSection | None], labels: Callable[[], LabelsSection | None]
    ) -> None:
        self.host = host
        self.section = section  # the panel's Where to label next section
        self.labels = labels  # the panel's label layer (kept clear of)
        self.task: EngineTask | None = None
        self.layers: list[str] = []  # the heat and places layers' ids
        self.places: list[dict[str, Any]] = []  # {"x", "y", "score", "reason"} in the places layer's CRS
        self.crs: Any = None
        self.index = 0
        self.pixel = 1.0  # the raster's ground size of a pixel
        self.marker: QgsRubberBand | None = None
        self.model: str | None = None  # the checkpoint whose uncertainty the places show
        self.looked_in: tuple[Path | None, str | None, Any] | None = None  # the last job's area (see ``where``)

    def suggest(
        self, out_dir: Path | None = None, checkpoint: str | None = None, again: bool = False
    ) -> EngineTask | None:
        """Start a suggest job into ``out_dir`` (default: sam2_suggest/<time> beside the project) for
        ``checkpoint`` (default: the active model) where the panel says, or, ``again``, where the last job looked
        (the map has moved to its places since); None (and a message) when it cannot start."""
        host, section, labels_section = self.host, self.section(), self.labels()
        assert section is not None
        assert labels_section is not None
        if self.task is not None:
            host.report(tr("places to label are already being found: wait for them or cancel"))
            return None
        checkpoint = checkpoint or (host.session.checkpoint if host.session else None)
        try:
            raster = check_raster(host.raster_layer())
        except SessionError as error:
            host.report(str(error))
            return None
        if not checkpoint:
            host.report(tr("choose a model first (Model: Use): its uncertainty says where to label"))
            return None
        out_dir = out_dir or host.outputs_folder() / "sam2_suggest" / time.strftime("%Y%m%d-%H%M%S")
        labels = labels_section.layer()
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            looked_in = self.looked_in if again and self.looked_in else self.where(out_dir / "area.gpkg", raster)
            area, extent, render = looked_in
            if labels is not None:
                export_layer(labels, out_dir / "labels.gpkg")
            engine_raster = host.raster_for_job(raster, render)
        except (OSError, OutputError, SessionError) as error:
            host.report(str(getattr(error, "strerror", None) or error))
            return None
        request = {
            "out": out_dir / "places.gpkg",
            "uncertainty": out_dir / "uncertainty.tif",
            "checkpoint": checkpoint,
            "labels": out_dir / "labels.gpkg" if labels is not None else None,
            "area": area,
            "extent": extent,
            "count": section.suggest_count_spin.value(),
            "bands": engine_bands(raster),
            "device": host.device() or "auto",
        }
        python, self.pixel, self.looked_in = host.python(), raster.rasterUnitsPerPixelX() or 1.0, looked_in

        def work(task: EngineTask) -> dict[str, Any]:
            def progress(value: float, event: dict[str, Any]) -> None:
                task.setProgress(value)

            return run_core_job(
                python, "suggest", {**request, "raster": engine_raster(task)}, progress, task.isCanceled
            )

        task = host.run_task(tr("SAM 2: where to label next"), work, lambda result: self.found(result, checkpoint))
        task.taskTerminated.connect(self.ended)
        self.task = task
        return task

    def where(self, path: Path, raster: Any) -> tuple[Path | None, str | None, Any]:
        """Where to look: an AOI file (written to ``path``), the visible extent in the raster's CRS as
        ``"xmin,ymin,xmax,ymax"``, or neither (the whole raster); and the map extent a raster that is no local file
        is rendered over (None: the whole layer)."""
        section = self.section()
        assert section is not None
        canvas = self.host.iface.mapCanvas()
        key = section.suggest_where_combo.currentData()
        if key == "AOI layer":
            layer = section.suggest_aoi_combo.currentLayer()
            if layer is None:
                raise OutputError(tr("choose the AOI layer to look in (or look in the visible map extent)"))
            to_map = QgsCoordinateTransform(layer.crs(), canvas.mapSettings().destinationCrs(), QgsProject.instance())
            return export_layer(layer, path), None, to_map.transformBoundingBox(layer.extent())
        if key == "whole raster":
            return None, None, None
        return None, visible_extent_in(canvas, raster.crs()), canvas.extent()

    def ended(self) -> None:
        self.task = None

    def found(self, result: dict[str, Any], checkpoint: str) -> None:
        """Show the heat layer and the numbered places (replacing the last ones) and go to the first place."""
        self.task = None
        self.clear()
        self.model = checkpoint
        heat = heat_layer(Path(result["uncertainty"]))
        places = places_layer(Path(result["suggestions"]))
        if not heat.isValid() or not places.isValid():
            self.host.report(tr("cannot read the places found in {path}").format(path=result["suggestions"]))
            return
        QgsProject.instance().addMapLayers([heat, places])
        self.layers = [heat.id(), places.id()]
        self.crs = places.crs()
        self.places = [
            {
                "x": f.geometry().asPoint().x(),
                "y": f.geometry().asPoint().y(),
                "score": f["score"],
                "reason": f["reason"],
            }
            for f in sorted(places.getFeatures(), key=lambda f: f["rank"])
        ]
        self.index = 0
        section = self.section()
        if section is not None:
            section.suggest_row.setVisible(bool(self.places))
        if not self.places:
            if section is not None:
                section.suggest_label.setText(
                    tr(
                        "No place to suggest: the model is sure everywhere else, or the area is labelled (or has "
                        "no valid pixels away from your labels)"
                    )
                )
            return
        self.show_current()

    def move(self, step: int) -> None:
        if self.places:
            self.index = (self.index + step) % len(self.places)
            self.show_current()

    def show_current(self) -> None:
        """Say which place is current and why, mark it and zoom to it."""
        section, place = self.section(), self.places[self.index]
        if section is not None:
            section.suggest_label.setText(
                tr("Place {n} of {count}: {reason}").format(
                    n=self.index + 1, count=len(self.places), reason=place["reason"]
                )
            )
        canvas = self.host.iface.mapCanvas()
        to_map = QgsCoordinateTransform(self.crs, canvas.mapSettings().destinationCrs(), QgsProject.instance())
        point = QgsGeometry.fromPointXY(to_map.transform(place["x"], place["y"]))
        if self.marker is None:
            self.marker = QgsRubberBand(canvas, QgsWkbTypes.GeometryType.PointGeometry)
            self.marker.setColor(QColor(0, 255, 255))
            self.marker.setIconSize(18)
            self.marker.setWidth(3)
        self.marker.setToGeometry(point, None)
        half = VIEW_PIXELS * self.pixel / 2
        around = QgsRectangle(place["x"] - half, place["y"] - half, place["x"] + half, place["y"] + half)
        canvas.setExtent(to_map.transformBoundingBox(around))
        canvas.refresh()

    def after_tuning(self, checkpoint: str) -> None:
        """A fine-tuning made ``checkpoint`` the active model: propose the places again when some are shown."""
        if self.layers and any(QgsProject.instance().mapLayer(i) is not None for i in self.layers):
            self.suggest(checkpoint=checkpoint, again=True)

    def clear(self) -> None:
        """Remove the heat and places layers and the marker."""
        for layer_id in self.layers:
            if QgsProject.instance().mapLayer(layer_id) is not None:
                QgsProject.instance().removeMapLayer(layer_id)
        self.layers, self.places = [], []
        if self.marker is not None:
            self.host.iface.mapCanvas().scene().removeItem(self.marker)
            self.marker = None
        section = self.section()
        if section is not None:
            section.suggest_row.setVisible(False)


def heat_layer(path: Path) -> QgsRasterLayer:
    """The uncertainty raster as a translucent heat map: clear where the model is sure, red where it is not."""
    layer = QgsRasterLayer(str(path), HEAT_LAYER)
    if not layer.isValid():
        return layer
    ramp = QgsColorRampShader(0.0, 1.0)
    ramp.setColorRampType(QgsColorRampShader.Type.Interpolated)
    ramp.setColorRampItemList(
        [QgsColorRampShader.ColorRampItem(value, QColor(*rgba), f"{value:g}") for value, rgba in HEAT_RAMP]
    )
    shader = QgsRasterShader()
    shader.setRasterShaderFunction(ramp)
    layer.setRenderer(QgsSingleBandPseudoColorRenderer(layer.dataProvider(), 1, shader))
    layer.setOpacity(0.7)
    return layer


def places_layer(path: Path) -> QgsVectorLayer:
    """The places as points labelled with their rank."""
    layer = QgsVectorLayer(f"{path}|layername=suggestions", PLACES_LAYER, "ogr")
    if not layer.isValid():
        return layer
    settings = QgsPalLayerSettings()
    settings.fieldName = "rank"
    layer.setLabeling(QgsVectorLayerSimpleLabeling(settings))
    layer.setLabelsEnabled(True)
    return layer


__all__ = ["SuggestController"]
