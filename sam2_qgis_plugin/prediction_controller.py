"""Whole-raster prediction from the panel: the engine's ``predict`` job in a background task, over the whole
raster, the visible map extent or an AOI layer; the mask and polygons are added to the project."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qgis.core import QgsCoordinateTransform, QgsProject, QgsRectangle

from .bands import engine_bands
from .i18n import tr
from .jobs import add_prediction_layers, run_core_job
from .output import OutputError, export_layer, extent_layer
from .session import SessionError, check_raster
from .settings_dialog import encoder_path

if TYPE_CHECKING:
    from collections.abc import Callable

    from .host import Host
    from .panel.predict import PredictSection
    from .tasks import EngineTask


class PredictionController:
    """Predicts the panel's raster with the active model."""

    def __init__(
        self, host: Host, section: Callable[[], PredictSection | None], options: Callable[[], dict[str, Any]]
    ) -> None:
        self.host = host
        self.section = section  # the panel's Predict section
        self.options = options  # the prediction's options from the panel (threshold, class, instances)

    def _section(self) -> PredictSection:
        section = self.section()
        assert section is not None, "no panel"
        return section

    def predict_raster(self, out_dir: Path | None = None) -> EngineTask | None:
        """Start a prediction into ``out_dir`` (default: sam2_predictions beside the project); None (and a
        message) when it cannot start."""
        host = self.host
        try:
            raster = check_raster(host.raster_layer())
        except SessionError as error:
            host.report(str(error))
            return None
        checkpoint = host.session.checkpoint if host.session else None
        if not checkpoint:
            host.report(tr("choose a model first (a fine-tuned run's best.pt works best)"))
            return None
        out_dir = out_dir or host.outputs_folder() / "sam2_predictions"
        stem = f"{safe_name(raster.name())}_{time.strftime('%Y%m%d-%H%M%S')}"
        try:
            engine_raster = host.raster_for_job(raster, self.render_extent())
        except SessionError as error:
            host.report(str(error))
            return None
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            aoi = self.prediction_area(out_dir / f"{stem}_area.gpkg")
        except OSError as error:
            host.report(
                tr("cannot write predictions to {out_dir} ({strerror}): choose another folder").format(
                    out_dir=out_dir, strerror=error.strerror
                )
            )
            return None
        except OutputError as error:
            host.report(str(error))
            return None
        request = {
            "checkpoint": checkpoint,
            "bands": engine_bands(raster),
            "source": raster.name(),
            "out": out_dir / f"{stem}_mask.tif",
            "vector": out_dir / f"{stem}.gpkg",
            "aoi": aoi,
            **self.options(),
            **host.polygon_options(raster),
            "encoder": encoder_path(),
        }
        python = host.python()

        def work(task: EngineTask) -> dict[str, Any]:
            progress = lambda value, event: task.setProgress(value)  # noqa: E731
            return run_core_job(
                python, "predict", {**request, "raster": engine_raster(task)}, progress, task.isCanceled
            )

        def done(result: dict[str, Any]) -> None:
            add_prediction_layers(result["mask"], result.get("vector"), stem)

        return host.run_task("SAM 2: predicting the raster", work, done)

    def render_extent(self) -> QgsRectangle | None:
        """The area a layer that is no local file is rendered over (map CRS), for the panel's "Where"; None:
        the whole layer."""
        section, canvas = self._section(), self.host.iface.mapCanvas()
        where = section.where()
        if where == "visible map extent":
            return QgsRectangle(canvas.extent())
        layer = section.aoi_layer()
        if where == "AOI layer" and layer is not None:
            to_map = QgsCoordinateTransform(layer.crs(), canvas.mapSettings().destinationCrs(), QgsProject.instance())
            return to_map.transformBoundingBox(layer.extent())
        return None

    def prediction_area(self, path: Path) -> Path | None:
        """The AOI file for the panel's "Where" choice (None: the whole raster); written to ``path``."""
        section = self._section()
        where = section.where()
        if where == "visible map extent":
            canvas = self.host.iface.mapCanvas()
            export_layer(extent_layer(canvas.extent(), canvas.mapSettings().destinationCrs()), path)
            return path
        if where == "AOI layer":
            layer = section.aoi_layer()
            if layer is None:
                raise OutputError(tr("choose the AOI layer to predict in (or predict the whole raster)"))
            export_layer(layer, path)
            return path
        return None


def safe_name(name: str) -> str:
    """A layer's name as a file name: letters, digits, - and _ only."""
    return re.sub(r"[^\w-]+", "_", name).strip("_") or "raster"


__all__ = ["PredictionController", "safe_name"]
