"""Processing algorithms (toolbox, batch mode, model builder): tiles, fine-tuning, prediction, and
segmentation from a points layer. Each runs the engine in its own process; progress and cancel go through
QgsProcessingFeedback. No torch in this process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qgis.core import (
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorDestination,
    QgsProcessingParameterVectorLayer,
    QgsProcessingProvider,
    QgsSettings,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QVariant
from qgis.PyQt.QtGui import QIcon

from . import job_defaults
from .engine import SETTINGS_KEY, EngineError, WorkerClient, candidate_pythons
from .jobs import run_core_job
from .output import geometry_from_mapping

ICON = Path(__file__).parent / "icons" / "sam2.svg"


def engine_python() -> str:
    found = candidate_pythons(QgsSettings().value(SETTINGS_KEY, "") or None)
    if not found:
        raise QgsProcessingException("no Python with torch and rf-sam-2 is configured: set it in the SAM 2 panel")
    return found[0]


class _EngineAlgorithm(QgsProcessingAlgorithm):
    """Shared plumbing: the engine's command line with progress and cancel through the feedback."""

    def group(self) -> str:
        return "SAM 2"

    def groupId(self) -> str:  # noqa: N802
        return "sam2"

    def icon(self) -> QIcon:
        return QIcon(str(ICON))

    def createInstance(self) -> QgsProcessingAlgorithm:  # noqa: N802
        return type(self)()

    def run_engine(self, args: list[str], feedback: Any) -> dict[str, Any]:
        def progress(value: float, event: dict[str, Any]) -> None:
            feedback.setProgress(value)
            if "iou" in event:
                feedback.pushInfo(f"epoch {event.get('epoch')}: validation IoU {event['iou']:.4f}")

        try:
            return run_core_job(engine_python(), args, progress, feedback.isCanceled)
        except InterruptedError as error:
            feedback.reportError(str(error))
            return {}
        except EngineError as error:
            raise QgsProcessingException(str(error)) from None

    def labels_path(self, parameters: dict[str, Any], context: Any, feedback: Any, name: str = "LABELS") -> str:
        """A file the engine can read for the vector parameter ``name`` (memory layers are written out)."""
        return self.parameterAsCompatibleSourceLayerPath(
            parameters, name, context, ["gpkg", "shp", "geojson"], "gpkg", feedback
        )


class CreateTrainingTiles(_EngineAlgorithm):
    def name(self) -> str:
        return "createtrainingtiles"

    def displayName(self) -> str:  # noqa: N802
        return "Create training tiles"

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802
        self.addParameter(QgsProcessingParameterRasterLayer("RASTER", "Orthophoto"))
        self.addParameter(QgsProcessingParameterFeatureSource("LABELS", "Labels", [QgsProcessing.TypeVectorPolygon]))
        self.addParameter(
            QgsProcessingParameterNumber(
                "TILE_SIZE", "Tile size (px)", defaultValue=job_defaults.default("tile_size"), minValue=32
            )
        )
        self.addParameter(QgsProcessingParameterFolderDestination("OUTPUT", "Tile folders (trai/vali)"))

    def processAlgorithm(self, parameters: dict[str, Any], context: Any, feedback: Any) -> dict[str, Any]:  # noqa: N802
        raster = self.parameterAsRasterLayer(parameters, "RASTER", context).source()
        out = self.parameterAsString(parameters, "OUTPUT", context)
        size = self.parameterAsInt(parameters, "TILE_SIZE", context)
        result = self.run_engine(
            [
                "tile",
                "--raster",
                raster,
                "--labels",
                self.labels_path(parameters, context, feedback),
                "--out",
                out,
                "--tile-size",
                str(size),
            ],
            feedback,
        )
        feedback.pushInfo(f"tiles: {result.get('tiles')}")
        return {"OUTPUT": out}


class FineTune(_EngineAlgorithm):
    MODES = tuple(job_defaults.choices("mode"))

    def name(self) -> str:
        return "finetune"

    def displayName(self) -> str:  # noqa: N802
        return "Fine-tune SAM 2"

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802
        self.addParameter(QgsProcessingParameterRasterLayer("RASTER", "Orthophoto"))
        self.addParameter(QgsProcessingParameterFeatureSource("LABELS", "Labels", [QgsProcessing.TypeVectorPolygon]))
        self.addParameter(QgsProcessingParameterFile("CHECKPOINT", "Base checkpoint"))
        labels = job_defaults.mode_labels()
        self.addParameter(
            QgsProcessingParameterEnum(
                "MODE",
                "Tune the model",
                [labels[mode] for mode in self.MODES],
                defaultValue=self.MODES.index(job_defaults.default("mode")),
            )
        )
        epochs, tile_size = job_defaults.default("epochs"), job_defaults.default("tile_size")
        self.addParameter(QgsProcessingParameterNumber("EPOCHS", "Epochs", defaultValue=epochs, minValue=1))
        self.addParameter(
            QgsProcessingParameterNumber("TILE_SIZE", "Tile size (px)", defaultValue=tile_size, minValue=32)
        )
        self.addParameter(QgsProcessingParameterString("EXTRA", "More options (train command flags)", optional=True))
        self.addParameter(QgsProcessingParameterFolderDestination("OUTPUT", "Run folder"))

    def processAlgorithm(self, parameters: dict[str, Any], context: Any, feedback: Any) -> dict[str, Any]:  # noqa: N802
        out = self.parameterAsString(parameters, "OUTPUT", context)
        args = [
            "train",
            "--raster",
            self.parameterAsRasterLayer(parameters, "RASTER", context).source(),
            "--labels",
            self.labels_path(parameters, context, feedback),
            "--checkpoint",
            self.parameterAsFile(parameters, "CHECKPOINT", context),
            "--out",
            out,
            "--mode",
            self.MODES[self.parameterAsEnum(parameters, "MODE", context)],
            "--epochs",
            str(self.parameterAsInt(parameters, "EPOCHS", context)),
            "--tile-size",
            str(self.parameterAsInt(parameters, "TILE_SIZE", context)),
            *self.parameterAsString(parameters, "EXTRA", context).split(),
        ]
        summary = self.run_engine(args, feedback)
        if summary:
            feedback.pushInfo(f"validation IoU: base {summary['base']['iou']:.4f} -> best {summary['best']['iou']:.4f}")
            if summary.get("verdict"):
                feedback.pushInfo(summary["verdict"])
            for warning in summary.get("warnings", []):
                feedback.reportError(warning, fatalError=False)
        return {"OUTPUT": out, "CHECKPOINT": str(Path(out) / "best.pt")}


class PredictRaster(_EngineAlgorithm):
    def name(self) -> str:
        return "predictraster"

    def displayName(self) -> str:  # noqa: N802
        return "Predict raster with SAM 2"

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802
        self.addParameter(QgsProcessingParameterRasterLayer("RASTER", "Orthophoto"))
        self.addParameter(QgsProcessingParameterFile("CHECKPOINT", "Checkpoint (a fine-tuned run's best.pt)"))
        self.addParameter(
            QgsProcessingParameterNumber(
                "THRESHOLD",
                "Threshold",
                QgsProcessingParameterNumber.Double,
                defaultValue=job_defaults.default("threshold", "predict"),
                minValue=0.01,
                maxValue=0.99,
            )
        )
        self.addParameter(
            QgsProcessingParameterFeatureSource(
                "AOI", "Area of interest (optional)", [QgsProcessing.TypeVectorPolygon], optional=True
            )
        )
        self.addParameter(QgsProcessingParameterString("EXTRA", "More options (predict command flags)", optional=True))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT", "Mask"))
        self.addParameter(
            QgsProcessingParameterVectorDestination(
                "POLYGONS", "Polygons", QgsProcessing.TypeVectorPolygon, optional=True, createByDefault=False
            )
        )

    def processAlgorithm(self, parameters: dict[str, Any], context: Any, feedback: Any) -> dict[str, Any]:  # noqa: N802
        out = self.parameterAsOutputLayer(parameters, "OUTPUT", context)
        polygons = self.parameterAsOutputLayer(parameters, "POLYGONS", context)
        area = self.labels_path(parameters, context, feedback, "AOI") if parameters.get("AOI") else None
        args = [
            "predict",
            "--raster",
            self.parameterAsRasterLayer(parameters, "RASTER", context).source(),
            "--checkpoint",
            self.parameterAsFile(parameters, "CHECKPOINT", context),
            "--out",
            out,
            "--threshold",
            str(self.parameterAsDouble(parameters, "THRESHOLD", context)),
            *(["--vector", polygons] if polygons else []),
            *(["--aoi", area] if area else []),
            *self.parameterAsString(parameters, "EXTRA", context).split(),
        ]
        self.run_engine(args, feedback)
        return {"OUTPUT": out, "POLYGONS": polygons or None}


class SegmentFromPoints(_EngineAlgorithm):
    def name(self) -> str:
        return "segmentfrompoints"

    def displayName(self) -> str:  # noqa: N802
        return "Segment from a points layer"

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802
        self.addParameter(QgsProcessingParameterRasterLayer("RASTER", "Orthophoto"))
        self.addParameter(
            QgsProcessingParameterVectorLayer("POINTS", "Points (one object each)", [QgsProcessing.TypeVectorPoint])
        )
        self.addParameter(QgsProcessingParameterFile("CHECKPOINT", "Checkpoint"))
        self.addParameter(QgsProcessingParameterFeatureSink("OUTPUT", "Segments", QgsProcessing.TypeVectorPolygon))

    def processAlgorithm(self, parameters: dict[str, Any], context: Any, feedback: Any) -> dict[str, Any]:  # noqa: N802
        raster = self.parameterAsRasterLayer(parameters, "RASTER", context)
        points = self.parameterAsVectorLayer(parameters, "POINTS", context)
        fields = QgsFields()
        fields.append(QgsField("point_id", QVariant.LongLong))
        fields.append(QgsField("score", QVariant.Double))
        sink, sink_id = self.parameterAsSink(
            parameters, "OUTPUT", context, fields, QgsWkbTypes.MultiPolygon, raster.crs()
        )
        client = WorkerClient(engine_python())
        try:
            client.request("load_model", {"checkpoint": self.parameterAsFile(parameters, "CHECKPOINT", context)})
            raster_id = client.request("open_raster", {"path": raster.source()})["raster_id"]
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
                    },
                )
                for polygon in result["polygons"]:
                    out = QgsFeature(fields)
                    geometry = geometry_from_mapping(polygon)
                    geometry.convertToMultiType()
                    out.setGeometry(geometry)
                    out.setAttributes([feature.id(), result["score"]])
                    sink.addFeature(out, QgsFeatureSink.FastInsert)
                feedback.setProgress(100 * (index + 1) / total)
        except EngineError as error:
            raise QgsProcessingException(str(error)) from None
        finally:
            client.stop()
        return {"OUTPUT": sink_id}


class Sam2Provider(QgsProcessingProvider):
    def id(self) -> str:
        return "sam2"

    def name(self) -> str:
        return "SAM 2"

    def icon(self) -> QIcon:
        return QIcon(str(ICON))

    def loadAlgorithms(self) -> None:  # noqa: N802
        for algorithm in (CreateTrainingTiles(), FineTune(), PredictRaster(), SegmentFromPoints()):
            self.addAlgorithm(algorithm)
