"""Predict raster: a whole orthophoto (or its AOI) into a mask and polygons with a (tuned) model."""

from __future__ import annotations

from typing import Any, ClassVar

from qgis.core import (
    QgsProcessing,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFile,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorDestination,
)

from ..i18n import tr, translatable
from .base import EngineAlgorithm


class PredictRaster(EngineAlgorithm):
    HELP = translatable(
        "Segments the whole orthophoto (or the area of interest) with a checkpoint, window by window in bounded "
        "memory: a mask (1 object, 0 background, 255 nodata) and optionally polygons with their mean probability "
        "as score. A checkpoint tuned for clicking predicts from a grid of clicks."
    )
    BASIC: ClassVar[dict[str, str]] = {"threshold": "Threshold"}
    ADVANCED: ClassVar[dict[str, str]] = {"overlap": "Window overlap (fraction)", "batch_size": "Windows per batch"}

    def name(self) -> str:
        return "predictraster"

    def displayName(self) -> str:  # noqa: N802
        return tr("Predict raster with SAM 2")

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802
        self.addParameter(QgsProcessingParameterRasterLayer("RASTER", tr("Orthophoto")))
        self.addParameter(QgsProcessingParameterFile("CHECKPOINT", tr("Checkpoint (a fine-tuned run's best.pt)")))
        self.add_options("predict", self.BASIC, {})
        self.addParameter(
            QgsProcessingParameterFeatureSource(
                "AOI", tr("Area of interest (optional)"), [QgsProcessing.SourceType.TypeVectorPolygon], optional=True
            )
        )
        self.addParameter(QgsProcessingParameterString("LABEL", tr("Class of the polygons"), defaultValue="object"))
        self.addParameter(
            QgsProcessingParameterBoolean("INSTANCES", tr("One polygon per object (split touching objects)"), False)
        )
        self.add_options("predict", {}, self.ADVANCED)
        self.add_band_parameter()
        self.add_render_parameters()
        self.add_shape_parameters()
        self.add_more_options("predict")
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT", tr("Mask")))
        self.addParameter(
            QgsProcessingParameterVectorDestination(
                "POLYGONS",
                tr("Polygons"),
                QgsProcessing.SourceType.TypeVectorPolygon,
                optional=True,
                createByDefault=False,
            )
        )

    def process(self, parameters: dict[str, Any], context: Any, feedback: Any) -> dict[str, Any]:
        out = self.parameterAsOutputLayer(parameters, "OUTPUT", context)
        polygons = self.parameterAsOutputLayer(parameters, "POLYGONS", context)
        path, raster = self.raster_file(parameters, context, feedback)
        request = {
            "raster": path,
            "source": self.parameterAsRasterLayer(parameters, "RASTER", context).name(),
            "checkpoint": self.parameterAsFile(parameters, "CHECKPOINT", context),
            "out": out,
            "vector": polygons or None,
            "aoi": self.aoi_path(parameters, context, feedback),
            "label": self.parameterAsString(parameters, "LABEL", context),
            "instances": self.parameterAsBoolean(parameters, "INSTANCES", context),
            **self.options(parameters, context, "predict", (*self.BASIC, *self.ADVANCED)),
            **self.shape_options(parameters, context, raster),
            "bands": self.band_option(parameters, context),
        }
        self.run_engine("predict", request, parameters, context, feedback)
        return {"OUTPUT": out, "POLYGONS": polygons or None}
