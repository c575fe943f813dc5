"""Processing algorithms (toolbox, batch mode, model builder): tiles, fine-tuning, prediction, and
segmentation from a points layer. Each runs the engine in its own process; progress and cancel go through
QgsProcessingFeedback. No torch in this process."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from qgis.core import (
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingOutputFile,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorDestination,
    QgsProcessingParameterVectorLayer,
    QgsProcessingProvider,
    QgsProcessingUtils,
    QgsRasterBlockFeedback,
    QgsRasterLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtGui import QIcon

from .engine import EngineError, WorkerClient, candidate_pythons
from .i18n import tr, translatable
from .jobs import run_core_job
from .output import OutputError, examples_layer, export_layer, geometry_from_mapping
from .processing_options import option_parameter, option_value
from .qt_compat import field_type
from .remote import area_for, is_local_file, is_web_service, render
from .session import SessionError
from .settings import ENGINE_PYTHON
from .shapes import ShapeChoices, polygon_options

ICON = Path(__file__).parent / "icons" / "sam2.svg"


def engine_python() -> str:
    found = candidate_pythons(ENGINE_PYTHON.value() or None)
    if not found:
        raise QgsProcessingException(
            tr("no Python with torch and rf-sam-2 is configured: set it in the SAM 2 panel (Settings...)")
        )
    return found[0]


class _EngineAlgorithm(QgsProcessingAlgorithm):
    """Shared plumbing: the engine's command line with progress and cancel through the feedback."""

    HELP = ""

    def shortHelpString(self) -> str:  # noqa: N802
        return tr(self.HELP)

    def group(self) -> str:
        return tr("SAM 2")

    def groupId(self) -> str:  # noqa: N802
        return "sam2"

    def icon(self) -> QIcon:
        return QIcon(str(ICON))

    def createInstance(self) -> QgsProcessingAlgorithm:  # noqa: N802
        return type(self)()

    def processAlgorithm(self, parameters: dict[str, Any], context: Any, feedback: Any) -> dict[str, Any]:  # noqa: N802
        """Runs ``process``; a refusal (QgsProcessingException) is raised again from a frame that holds nothing
        else. QGIS never releases a QgsProcessingException raised here (the sip error handler in its core.sip.in
        fetches it and never lets go: 3.22 and its current source), nor the frames it passed through: ours would
        keep the parameters, the context, their layers and the engine's request for good. The caller's frames
        are kept all the same (a script that hands Python-made layers to a refused run may crash when it exits
        after exitQgis: pass paths or project layers)."""
        try:
            return self.process(parameters, context, feedback)
        except QgsProcessingException as error:
            message = str(error)
        del parameters, context, feedback
        raise QgsProcessingException(message)

    def process(self, parameters: dict[str, Any], context: Any, feedback: Any) -> dict[str, Any]:
        """The algorithm's work (processAlgorithm in QGIS's terms): its outputs by name."""
        raise NotImplementedError

    def run_engine(
        self, command: str, request: dict[str, Any], parameters: dict[str, Any], context: Any, feedback: Any
    ) -> dict[str, Any]:
        """Run the engine's ``command`` with ``request`` (options under the engine's names) and the flags the
        analyst typed under "More options" (they win)."""
        flags = self.parameterAsString(parameters, "EXTRA", context).split() if "EXTRA" in parameters else []

        def progress(value: float, event: dict[str, Any]) -> None:
            feedback.setProgress(value)
            if "iou" in event:
                feedback.pushInfo(f"epoch {event.get('epoch')}: validation IoU {event['iou']:.4f}")

        try:
            return run_core_job(engine_python(), command, request, progress, feedback.isCanceled, flags=flags)
        except InterruptedError as error:
            feedback.reportError(str(error))
            return {}
        except EngineError as error:
            raise QgsProcessingException(str(error)) from None

    def add_options(self, job: str, basic: dict[str, str], advanced: dict[str, str]) -> None:
        """Parameters for ``job``'s options (``{option: title}``), made from the engine's description."""
        for option, title in basic.items():
            self.addParameter(option_parameter(option, job, title))
        for option, title in advanced.items():
            self.addParameter(option_parameter(option, job, title, advanced=True))

    def options(self, parameters: dict[str, Any], context: Any, job: str, names: tuple[str, ...]) -> dict[str, Any]:
        """The values of the option parameters ``names`` (made by ``option_parameter``) under the engine's names."""
        return {name: option_value(self, parameters, context, name, job) for name in names}

    def add_more_options(self, command: str) -> None:
        """EXTRA (advanced): any other flags of the engine's ``command``, typed as on the command line."""
        extra = QgsProcessingParameterString(
            "EXTRA", tr("More options ({command} command flags)").format(command=command), optional=True
        )
        extra.setFlags(extra.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
        self.addParameter(extra)

    def add_label_parameters(self, labels_title: str, classes_title: str) -> None:
        """LABELS (polygons), their CLASS_FIELD and the CLASSES that count, and an optional AOI."""
        polygons = [QgsProcessing.SourceType.TypeVectorPolygon]
        self.addParameter(QgsProcessingParameterFeatureSource("LABELS", labels_title, polygons))
        self.addParameter(
            QgsProcessingParameterField(
                "CLASS_FIELD", tr("Class field (empty: every polygon is an object)"), parentLayerParameterName="LABELS",
                optional=True,
            )
        )  # fmt: skip
        self.addParameter(QgsProcessingParameterString("CLASSES", classes_title, optional=True))
        area = QgsProcessingParameterFeatureSource("AOI", tr("Area of interest (optional)"), polygons, optional=True)
        self.addParameter(area)

    def add_render_parameters(self) -> None:
        """EXTENT and PIXEL_SIZE (advanced): where and how finely a raster that is no local file (WMS, WMTS, XYZ,
        a GeoTIFF over HTTP) is rendered for the engine, as the panel does for the visible map."""
        extent = QgsProcessingParameterExtent(
            "EXTENT", tr("Area to render a web layer over (default: the area of interest's or labels' extent)"),
            optional=True,
        )  # fmt: skip
        pixel = QgsProcessingParameterNumber(
            "PIXEL_SIZE", tr("Ground pixel of a web layer's render, in the area's map units (e.g. 0.3)"),
            QgsProcessingParameterNumber.Type.Double, 0.0, True, 0.0,
        )  # fmt: skip
        for parameter in (extent, pixel):
            parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
            self.addParameter(parameter)

    def raster_file(
        self, parameters: dict[str, Any], context: Any, feedback: Any, around: tuple[str, ...] = ("AOI",)
    ) -> tuple[str, QgsRasterLayer]:
        """The file the engine opens for RASTER and a layer of it: the layer's own file, or a render over EXTENT
        (else the extent of the first of ``around`` given; else the layer's own, which a web layer has not)."""
        raster = self.parameterAsRasterLayer(parameters, "RASTER", context)
        if is_local_file(raster):
            return raster.source(), raster
        if parameters.get("EXTENT"):
            crs = self.parameterAsExtentCrs(parameters, "EXTENT", context)
            extent = self.parameterAsExtent(parameters, "EXTENT", context, crs)
        else:
            sources = [self.parameterAsSource(parameters, name, context) for name in around if parameters.get(name)]
            if sources:
                extent, crs = sources[0].sourceExtent(), sources[0].sourceCrs()
            elif is_web_service(raster):
                raise QgsProcessingException(
                    tr("{layer} is a web layer without edges: give the area to render it over (Extent)").format(
                        layer=raster.name()
                    )
                )
            else:
                extent, crs = raster.extent(), raster.crs()
        pixel = self.parameterAsDouble(parameters, "PIXEL_SIZE", context)
        if is_web_service(raster) and pixel <= 0:
            raise QgsProcessingException(
                tr("give the ground pixel to render {layer} at (Pixel size, e.g. 0.3 for 30 cm imagery)").format(
                    layer=raster.name()
                )
            )
        block = QgsRasterBlockFeedback()
        feedback.canceled.connect(block.cancel)
        folder = Path(QgsProcessingUtils.tempFolder()) / "sam2_renders"
        feedback.pushInfo(tr("rendering {layer} for the engine").format(layer=raster.name()))
        try:
            path = render(raster, area_for(raster, extent, crs, pixel), folder, block)
        except (SessionError, InterruptedError) as error:
            raise QgsProcessingException(str(error)) from None
        return str(path), QgsRasterLayer(str(path), raster.name())

    def add_band_parameter(self) -> None:
        """BANDS (advanced): the raster's bands read as R, G, B, e.g. 4,1,2 (empty: 1,2,3)."""
        bands = QgsProcessingParameterString("BANDS", tr("Bands read as red, green, blue (e.g. 4,1,2)"), optional=True)
        bands.setFlags(bands.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
        self.addParameter(bands)

    def band_option(self, parameters: dict[str, Any], context: Any) -> list[int] | None:
        """The request's ``bands`` from BANDS (None: the engine's default)."""
        text = self.parameterAsString(parameters, "BANDS", context).replace(" ", "")
        if not text:
            return None
        try:
            return [int(band) for band in text.split(",")]
        except ValueError:
            raise QgsProcessingException(
                tr("bands {text} must be band numbers such as 4,1,2").format(text=repr(text))
            ) from None

    def add_shape_parameters(self) -> None:
        """How masks become polygons, in ground units (see shapes.ShapeChoices), as in the panel."""
        number = QgsProcessingParameterNumber.Type.Double
        for name, title in (
            ("SIMPLIFY", tr("Simplify tolerance (m; 0: one pixel)")),
            ("MIN_AREA", tr("Smallest polygon kept (m²)")),
            ("RIGHT_ANGLES", tr("Right angles for buildings: tolerance in degrees (0: off; 15 suits most)")),
        ):
            parameter = QgsProcessingParameterNumber(name, title, number, 0.0, False, 0.0)
            if name == "RIGHT_ANGLES":
                parameter.setMaximum(40.0)
            parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
            self.addParameter(parameter)
        holes = QgsProcessingParameterBoolean("FILL_HOLES", tr("Fill holes"), False)
        holes.setFlags(holes.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
        self.addParameter(holes)

    def shape_options(self, parameters: dict[str, Any], context: Any, raster: Any) -> dict[str, Any]:
        """The engine's polygon options for ``raster`` from the parameters ``add_shape_parameters`` made."""
        choices = ShapeChoices(
            simplify_m=self.parameterAsDouble(parameters, "SIMPLIFY", context),
            fill_holes=self.parameterAsBoolean(parameters, "FILL_HOLES", context),
            min_area_m2=self.parameterAsDouble(parameters, "MIN_AREA", context),
            right_angles=self.parameterAsDouble(parameters, "RIGHT_ANGLES", context),
        )
        return polygon_options(raster, choices)

    def label_options(self, parameters: dict[str, Any], context: Any, feedback: Any) -> dict[str, Any]:
        """The request's class_field, classes and aoi from the parameters ``add_label_parameters`` made."""
        return {
            "class_field": self.parameterAsString(parameters, "CLASS_FIELD", context) or None,
            "classes": self.parameterAsString(parameters, "CLASSES", context).strip() or None,
            "aoi": self.aoi_path(parameters, context, feedback),
        }

    def aoi_path(self, parameters: dict[str, Any], context: Any, feedback: Any) -> str | None:
        """A file the engine can read for the optional AOI parameter (None: none given)."""
        return self.labels_path(parameters, context, feedback, "AOI") if parameters.get("AOI") else None

    def labels_path(self, parameters: dict[str, Any], context: Any, feedback: Any, name: str = "LABELS") -> str:
        """A file the engine can read for the vector parameter ``name`` (memory layers are written out)."""
        return self.parameterAsCompatibleSourceLayerPath(
            parameters, name, context, ["gpkg", "shp", "geojson"], "gpkg", feedback
        )


class CreateTrainingTiles(_EngineAlgorithm):
    HELP = translatable(
        "Cuts the orthophoto and its label polygons into tiles in the seed pipeline's folders (trai, vali: "
        "img_tiles and mask_tiles), split by spatial blocks so that validation never touches training pixels."
    )
    BASIC: ClassVar[dict[str, str]] = {"tile_size": "Tile size (px)"}
    ADVANCED: ClassVar[dict[str, str]] = {
        "overlap": "Tile overlap (fraction)",
        "max_nodata": "Largest nodata share of a tile",
        "val_fraction": "Validation share",
    }

    def name(self) -> str:
        return "createtrainingtiles"

    def displayName(self) -> str:  # noqa: N802
        return tr("Create training tiles")

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802
        self.addParameter(QgsProcessingParameterRasterLayer("RASTER", tr("Orthophoto")))
        self.addParameter(
            QgsProcessingParameterFeatureSource("LABELS", tr("Labels"), [QgsProcessing.SourceType.TypeVectorPolygon])
        )
        self.add_options("train", self.BASIC, self.ADVANCED)
        self.add_render_parameters()
        self.addParameter(QgsProcessingParameterFolderDestination("OUTPUT", tr("Tile folders (trai/vali)")))

    def process(self, parameters: dict[str, Any], context: Any, feedback: Any) -> dict[str, Any]:
        out = self.parameterAsString(parameters, "OUTPUT", context)
        request = {
            "raster": self.raster_file(parameters, context, feedback, ("LABELS",))[0],
            "labels": self.labels_path(parameters, context, feedback),
            "out": out,
            **self.options(parameters, context, "train", (*self.BASIC, *self.ADVANCED)),
        }
        result = self.run_engine("tile", request, parameters, context, feedback)
        feedback.pushInfo(f"tiles: {result.get('tiles')}")
        return {"OUTPUT": out}


class FineTune(_EngineAlgorithm):
    HELP = translatable(
        "Fine-tunes SAM 2 on the orthophoto and its label polygons, scores the base model and every epoch on "
        "held-out validation tiles, and keeps the best in the run folder as best.pt (the base weights if no epoch "
        "beat them). The tuned checkpoint is an output: chain it into <i>Predict raster with SAM 2</i> in the "
        "Model Builder. <i>Tune the model</i>: for whole-raster prediction (no prompts) or for clicking on the map."
    )
    BASIC: ClassVar[dict[str, str]] = {
        "mode": "Tune the model",
        "labels_cover": "My labels",
        "epochs": "Epochs",
        "tile_size": "Tile size (px)",
    }
    ADVANCED: ClassVar[dict[str, str]] = {
        "ring": "Partial labels: background ring around each object (share of its size)",
        "max_minutes": "Time budget (minutes; 0: none)",
        "trainable": "Trains",
        "lr": "Learning rate",
        "batch_size": "Batch size (tiles per step)",
        "val_fraction": "Validation share",
        "patience": "Early stopping patience (epochs)",
        "min_gain": "Smallest gain that replaces the base model",
        "image_size": "Model input size (px; empty: the tile size)",
        "lora_rank": "LoRA rank",
        "seed": "Random seed",
        "device": "Device",
    }

    def name(self) -> str:
        return "finetune"

    def displayName(self) -> str:  # noqa: N802
        return tr("Fine-tune SAM 2")

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802
        self.addParameter(QgsProcessingParameterRasterLayer("RASTER", tr("Orthophoto")))
        self.add_label_parameters("Labels", "Classes to learn (e.g. 1 or 1,3; empty: all)")
        self.addParameter(
            QgsProcessingParameterBoolean("MULTICLASS", tr("One model for all classes (told apart)"), False)
        )
        self.addParameter(
            QgsProcessingParameterField(
                "NAME_FIELD", tr("Class names field (one model for all classes)"), parentLayerParameterName="LABELS",
                optional=True,
            )
        )  # fmt: skip
        self.addParameter(QgsProcessingParameterFile("CHECKPOINT", tr("Base checkpoint")))
        self.add_options("train", self.BASIC, self.ADVANCED)
        self.add_band_parameter()
        self.add_render_parameters()
        self.add_more_options("train")
        self.addParameter(QgsProcessingParameterFolderDestination("OUTPUT", tr("Run folder")))
        self.addOutput(QgsProcessingOutputFile("CHECKPOINT", "Tuned checkpoint (best.pt)"))

    def process(self, parameters: dict[str, Any], context: Any, feedback: Any) -> dict[str, Any]:
        out = self.parameterAsString(parameters, "OUTPUT", context)
        request = {
            "raster": self.raster_file(parameters, context, feedback, ("AOI", "LABELS"))[0],
            "labels": self.labels_path(parameters, context, feedback),
            "checkpoint": self.parameterAsFile(parameters, "CHECKPOINT", context),
            "out": out,
            **self.label_options(parameters, context, feedback),
            "multiclass": self.parameterAsBoolean(parameters, "MULTICLASS", context),
            "name_field": self.parameterAsString(parameters, "NAME_FIELD", context) or None,
            **self.options(parameters, context, "train", (*self.BASIC, *self.ADVANCED)),
            "bands": self.band_option(parameters, context),
        }
        summary = self.run_engine("train", request, parameters, context, feedback)
        if summary.get("stopped"):
            best = summary.get("best_checkpoint")
            feedback.reportError(
                f"cancelled in epoch {summary.get('epoch')}: resume with python -m core train --resume {out}"
                + (f"; its best checkpoint so far is {best}" if best else "")
            )
            return {"OUTPUT": out, "CHECKPOINT": best}
        if summary:
            feedback.pushInfo(f"validation IoU: base {summary['base']['iou']:.4f} -> best {summary['best']['iou']:.4f}")
            if summary.get("verdict"):
                feedback.pushInfo(summary["verdict"])
            for warning in summary.get("warnings", []):
                feedback.reportError(warning, fatalError=False)
        return {"OUTPUT": out, "CHECKPOINT": str(Path(out) / "best.pt")}


class PredictRaster(_EngineAlgorithm):
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


class EvaluateSegmentation(_EngineAlgorithm):
    HELP = translatable(
        "Scores a predicted mask against label polygons: pixel IoU, F1, precision and recall over labelled pixels, "
        "and object precision, recall and F1 (one-to-one matches at IoU 0.5). Optionally writes a report (.json, "
        ".csv and a .png with the confusion matrix and a map of hits and misses)."
    )

    def name(self) -> str:
        return "evaluatesegmentation"

    def displayName(self) -> str:  # noqa: N802
        return tr("Evaluate segmentation")

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802
        self.addParameter(
            QgsProcessingParameterRasterLayer("PREDICTION", tr("Predicted mask (1 object, 0 background)"))
        )
        self.add_label_parameters("Label polygons", "Classes that are objects (empty: all)")
        self.addParameter(
            QgsProcessingParameterFileDestination(
                "REPORT", tr("Report"), "JSON files (*.json)", optional=True, createByDefault=False
            )
        )
        for name, title in (("IOU", "Pixel IoU"), ("F1", "Pixel F1"), ("OBJECT_F1", "Object F1")):
            self.addOutput(QgsProcessingOutputNumber(name, title))

    def process(self, parameters: dict[str, Any], context: Any, feedback: Any) -> dict[str, Any]:
        report = self.parameterAsFileOutput(parameters, "REPORT", context)
        request = {
            "pred": self.parameterAsRasterLayer(parameters, "PREDICTION", context).source(),
            "truth": self.labels_path(parameters, context, feedback),
            **self.label_options(parameters, context, feedback),
            "out": report or None,
        }
        scores = self.run_engine("evaluate", request, parameters, context, feedback)
        pixel, objects = scores.get("pixel", {}), scores.get("objects", {})
        feedback.pushInfo(f"pixel IoU {pixel.get('iou', 0):.4f}, object F1 {objects.get('f1', 0):.4f}")
        return {
            "IOU": pixel.get("iou"),
            "F1": pixel.get("f1"),
            "OBJECT_F1": objects.get("f1"),
            "REPORT": report or None,
        }


class SegmentFromPoints(_EngineAlgorithm):
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
        self.add_shape_parameters()
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


class FindTheRest(_EngineAlgorithm):
    HELP = translatable(
        "Learns from a few outlined objects (3 or more; the others need not be labelled: partial labels) within a "
        "time budget, then outlines the other objects of the extent or area of interest as candidates, best score "
        "first, leaving out those already labelled (objects, or background marked with class 0 or 'background'). "
        "Review the candidates, add the right ones to your labels as objects and the wrong ones as background, and "
        "run it again: each round learns from the grown labels."
    )
    BASIC: ClassVar[dict[str, str]] = {"max_minutes": "Time budget (minutes)"}
    ADVANCED: ClassVar[dict[str, str]] = {
        "tile_size": "Tile size (px)",
        "epochs": "Epochs at most",
        "lr": "Learning rate",
        "ring": "Background ring around each example (share of its size)",
        "seed": "Random seed",
        "device": "Device",
    }

    def name(self) -> str:
        return "findtherest"

    def displayName(self) -> str:  # noqa: N802
        return tr("Find the rest with SAM 2")

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802
        polygons = [QgsProcessing.SourceType.TypeVectorPolygon]
        self.addParameter(QgsProcessingParameterRasterLayer("RASTER", tr("Orthophoto")))
        self.addParameter(QgsProcessingParameterFeatureSource("LABELS", tr("Labels (a few examples)"), polygons))
        self.addParameter(
            QgsProcessingParameterField(
                "CLASS_FIELD", tr("Class field (0 or 'background' marks background; empty: all are objects)"),
                parentLayerParameterName="LABELS", optional=True,
            )
        )  # fmt: skip
        self.addParameter(QgsProcessingParameterFile("CHECKPOINT", tr("Base checkpoint")))
        self.addParameter(QgsProcessingParameterExtent("SEARCH_EXTENT", tr("Where to look (extent)"), optional=True))
        self.addParameter(
            QgsProcessingParameterFeatureSource("AOI", tr("Where to look (polygons)"), polygons, optional=True)
        )
        self.add_options("find", self.BASIC, self.ADVANCED)
        self.add_band_parameter()
        self.add_shape_parameters()
        self.add_more_options("find")
        self.addParameter(QgsProcessingParameterFolderDestination("OUTPUT", tr("Output folder")))
        self.addOutput(QgsProcessingOutputFile("CANDIDATES", "Candidates (candidates.gpkg)"))

    def process(self, parameters: dict[str, Any], context: Any, feedback: Any) -> dict[str, Any]:
        out = Path(self.parameterAsString(parameters, "OUTPUT", context))
        raster = self.parameterAsRasterLayer(parameters, "RASTER", context)
        if not is_local_file(raster):
            raise QgsProcessingException(
                tr("Find the rest reads a local raster file: save {layer} as a GeoTIFF first").format(
                    layer=raster.name()
                )
            )
        examples = self.examples_path(parameters, context, out.name or "find")
        extent = None
        if parameters.get("SEARCH_EXTENT"):
            box = self.parameterAsExtent(parameters, "SEARCH_EXTENT", context, raster.crs())
            extent = f"{box.xMinimum()},{box.yMinimum()},{box.xMaximum()},{box.yMaximum()}"
        request = {
            "raster": raster.source(),
            "labels": examples,
            "class_field": "class",
            "checkpoint": self.parameterAsFile(parameters, "CHECKPOINT", context),
            "out": out,
            "extent": extent,
            "area": self.aoi_path(parameters, context, feedback),
            **self.options(parameters, context, "find", (*self.BASIC, *self.ADVANCED)),
            **self.shape_options(parameters, context, raster),
            "bands": self.band_option(parameters, context),
        }
        result = self.run_engine("find", request, parameters, context, feedback)
        if result:
            feedback.pushInfo(
                f"{result['count']} candidates from {result['examples']['objects']} examples; {result.get('verdict')}"
            )
        return {"OUTPUT": str(out), "CANDIDATES": result.get("candidates")}

    def examples_path(self, parameters: dict[str, Any], context: Any, stem: str) -> Path:
        """LABELS as the engine's examples (core.workflows.find: class "1" or "background") in a temporary
        GeoPackage."""
        source = self.parameterAsSource(parameters, "LABELS", context)
        class_field = self.parameterAsString(parameters, "CLASS_FIELD", context) or None
        path = Path(QgsProcessingUtils.tempFolder()) / f"{stem}_examples.gpkg"
        try:
            return export_layer(examples_layer(source, class_field), path)
        except OutputError as error:
            raise QgsProcessingException(str(error)) from None


class WhereToLabelNext(_EngineAlgorithm):
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


class Sam2Provider(QgsProcessingProvider):
    def id(self) -> str:
        return "sam2"

    def name(self) -> str:
        return "SAM 2"

    def icon(self) -> QIcon:
        return QIcon(str(ICON))

    def loadAlgorithms(self) -> None:  # noqa: N802
        algorithms = (
            CreateTrainingTiles(), FineTune(), FindTheRest(), WhereToLabelNext(), PredictRaster(),
            EvaluateSegmentation(), SegmentFromPoints(),
        )  # fmt: skip
        for algorithm in algorithms:
            self.addAlgorithm(algorithm)
