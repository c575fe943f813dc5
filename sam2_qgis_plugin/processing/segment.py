"""Segment from points: each point (or group of points) of a layer prompts one object."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFile,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterVectorLayer,
    QgsWkbTypes,
)

from ..engine import EngineError, WorkerClient
from ..i18n import tr, translatable
from ..output import geometry_from_mapping
from ..qt_compat import field_type
from .base import EngineAlgorithm, engine_python


class SegmentFromPoints(EngineAlgorithm):
    HELP = translatable(
        "Segments the object under each point of a points layer (one prompt per point), like clicks on the map."
    )

    def name(self) -> str:
        return "segmentfrompoints"

    def displayName(self) -> str:  # noqa: N802
        return tr("Segment from a points layer")

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802
        self.addParameter(QgsProcessingParameterRasterLayer("RASTER", tr("Orthophoto")))
        self.addParameter(
            QgsProcessingParameterVectorLayer(
                "POINTS", tr("Points (one object each)"), [QgsProcessing.SourceType.TypeVectorPoint]
            )
        )
        self.addParameter(QgsProcessingParameterFile("CHECKPOINT", tr("Checkpoint")))
        self.add_shape_parameters(clicks=True)
        self.addParameter(
            QgsProcessingParameterFeatureSink("OUTPUT", tr("Segments"), QgsProcessing.SourceType.TypeVectorPolygon)
        )

    def process(self, parameters: dict[str, Any], context: Any, feedback: Any) -> dict[str, Any]:
        raster = self.parameterAsRasterLayer(parameters, "RASTER", context)
        points = self.parameterAsVectorLayer(parameters, "POINTS", context)
        fields = QgsFields()
        fields.append(QgsField("point_id", field_type("int64")))
        fields.append(QgsField("score", field_type("double")))
        sink, sink_id = self.parameterAsSink(
            parameters, "OUTPUT", context, fields, QgsWkbTypes.Type.MultiPolygon, raster.crs()
        )
        client = WorkerClient(engine_python())
        try:
            client.request("load_model", {"checkpoint": self.parameterAsFile(parameters, "CHECKPOINT", context)})
            raster_id = client.request("open_raster", {"path": raster.source()})["raster_id"]
            shapes = self.shape_options(parameters, context, raster)
            total = max(1, points.featureCount())
            for index, feature in enumerate(points.getFeatures()):
                if feedback.isCanceled():
                    break
                point = feature.geometry().asPoint()
                result = client.request(
                    "predict",
                    {
                        "raster_id": raster_id,
                        "points": [[point.x(), point.y()]],
                        "labels": [1],
                        "crs": points.crs().toWkt(),
                        **shapes,
                    },
                )
                if result["polygons"]:  # one object, one feature (its parts as a multipolygon)
                    geometry = QgsGeometry.collectGeometry([geometry_from_mapping(p) for p in result["polygons"]])
                    geometry.convertToMultiType()
                    out = QgsFeature(fields)
                    out.setGeometry(geometry)
                    out.setAttributes([feature.id(), result["score"]])
                    sink.addFeature(out, QgsFeatureSink.Flag.FastInsert)
                feedback.setProgress(100 * (index + 1) / total)
        except EngineError as error:
            raise QgsProcessingException(str(error)) from None
        finally:
            client.stop()
        return {"OUTPUT": sink_id}
