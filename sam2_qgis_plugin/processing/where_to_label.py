"""Where to label next: the places where the model is least sure, away from the labels."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from ..i18n import tr, translatable
from ..remote import is_local_file
from .base import EngineAlgorithm


class WhereToLabelNext(EngineAlgorithm):
    HELP = translatable(
        "Maps how unsure a model is over the orthophoto (0 sure to 1) and proposes the places where a label would "
        "teach it most: the most uncertain spots, a minimum distance apart, away from what is already labelled, "
        "never on nodata, best first, each with its reason. Label there, fine-tune, and run it again."
    )

    def name(self) -> str:
        return "wheretolabelnext"

    def displayName(self) -> str:  # noqa: N802
        return tr("Where to label next with SAM 2")

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802
        polygons = [QgsProcessing.SourceType.TypeVectorPolygon]
        self.addParameter(QgsProcessingParameterRasterLayer("RASTER", tr("Orthophoto")))
        self.addParameter(QgsProcessingParameterFile("CHECKPOINT", tr("Model (a checkpoint)")))
        self.addParameter(
            QgsProcessingParameterFeatureSource("LABELS", tr("Labels already drawn (kept clear of)"), optional=True)
        )
        self.addParameter(QgsProcessingParameterExtent("SEARCH_EXTENT", tr("Where to look (extent)"), optional=True))
        self.addParameter(
            QgsProcessingParameterFeatureSource("AOI", tr("Where to look (polygons)"), polygons, optional=True)
        )
        count = QgsProcessingParameterNumber("COUNT", tr("Places"), defaultValue=10, minValue=1, maxValue=1000)
        self.addParameter(count)
        distance = QgsProcessingParameterNumber(
            "MIN_DISTANCE", tr("Minimum distance between places (ground units; empty: 256 pixels)"),
            QgsProcessingParameterNumber.Type.Double, optional=True, minValue=0.0,
        )  # fmt: skip
        self.addParameter(distance)
        self.add_band_parameter()
        self.add_more_options("suggest")
        self.addParameter(
            QgsProcessingParameterFileDestination("OUTPUT", tr("Places to label"), tr("GeoPackage (*.gpkg)"))
        )
        self.addParameter(QgsProcessingParameterRasterDestination("UNCERTAINTY", tr("Uncertainty")))

    def process(self, parameters: dict[str, Any], context: Any, feedback: Any) -> dict[str, Any]:
        layer = self.parameterAsRasterLayer(parameters, "RASTER", context)
        if not is_local_file(layer):
            raise QgsProcessingException(
                tr("Where to label next reads a local raster file: save {layer} as a GeoTIFF first").format(
                    layer=layer.name()
                )
            )
        extent = None
        if parameters.get("SEARCH_EXTENT"):
            box = self.parameterAsExtent(parameters, "SEARCH_EXTENT", context, layer.crs())
            extent = f"{box.xMinimum()},{box.yMinimum()},{box.xMaximum()},{box.yMaximum()}"
        out = self.parameterAsFileOutput(parameters, "OUTPUT", context)
        uncertainty = self.parameterAsOutputLayer(parameters, "UNCERTAINTY", context)
        request = {
            "raster": layer.source(),
            "checkpoint": self.parameterAsFile(parameters, "CHECKPOINT", context),
            "labels": self.labels_path(parameters, context, feedback) if parameters.get("LABELS") else None,
            "extent": extent,
            "area": self.aoi_path(parameters, context, feedback),
            "count": self.parameterAsInt(parameters, "COUNT", context),
            "min_distance": self.parameterAsDouble(parameters, "MIN_DISTANCE", context)
            if parameters.get("MIN_DISTANCE") not in (None, "")
            else None,
            "bands": self.band_option(parameters, context),
            "out": out,
            "uncertainty": uncertainty,
        }
        result = self.run_engine("suggest", request, parameters, context, feedback)
        for place in result.get("places", []):
            feedback.pushInfo(f"{place['rank']}: {place['reason']}")
        return {"OUTPUT": out, "UNCERTAINTY": uncertainty}
