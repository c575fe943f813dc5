"""Follow objects across years: orthophotos (or polygon layers) of one area from several flights, one
time-aware layer of every object in every year with what changed, and a layer of the changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from qgis.core import (
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingLayerPostProcessorInterface,
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsProcessingUtils,
    QgsVectorLayer,
)

from ..i18n import tr, translatable
from ..output import OutputError
from ..temporal import make_time_aware
from ..years_controller import year_files
from .base import EngineAlgorithm

METHODS = ("match", "prompt", "memory")  # core.workflows.track.METHODS


class _TimeAware(QgsProcessingLayerPostProcessorInterface):
    """Puts a loaded output on the map's timeline (QGIS calls it once the layer is in the project).

    QGIS takes ownership of each (one per layer, deleted with the run's context), but the Python half must stay
    referenced until then: ``made`` holds the last run's."""

    made: ClassVar[list[_TimeAware]] = []

    def postProcessLayer(self, layer: Any, context: Any, feedback: Any) -> None:  # noqa: N802
        if isinstance(layer, QgsVectorLayer):
            make_time_aware(layer)

    @classmethod
    def for_layers(cls, count: int) -> list[_TimeAware]:
        cls.made = [cls() for _ in range(count)]
        return cls.made


class FollowYears(EngineAlgorithm):
    HELP = translatable(
        "Follows the objects of one area through several years: give each year's orthophoto (predicted with the "
        "model) or its objects as a polygon layer, oldest to newest in any order (dates come from the names, or "
        "give them). Every object keeps one id through the years; each year says whether it is new, unchanged, "
        "changed (an extension, a grown crown) or gone, with its area change. The objects layer is time-aware: "
        "the Temporal Controller steps through the flights. Misregistration between flights is measured and "
        "taken out. Methods: match each year's objects by overlap (orthophotos or layers), or prompt SAM 2 with "
        "last year's outlines, or SAM 2's memory over the years as frames (orthophotos)."
    )
    ADVANCED: ClassVar[dict[str, tuple[str, float, float]]] = {
        "MAX_SHIFT": ("Largest misregistration looked for (m)", 2.5, 0.0),
        "MIN_IOU": ("Overlap that makes one object (IoU)", 0.3, 0.01),
        "CHANGED_IOU": ("Below this overlap an object has changed (IoU)", 0.75, 0.01),
        "CHANGED_AREA": ("Beyond this relative area change an object has changed", 0.15, 0.0),
    }

    def name(self) -> str:
        return "followyears"

    def displayName(self) -> str:  # noqa: N802
        return tr("Follow objects across years with SAM 2")

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802
        self.addParameter(
            QgsProcessingParameterMultipleLayers(
                "YEARS", tr("Each year: its orthophoto or its objects"), QgsProcessing.SourceType.TypeMapLayer
            )
        )
        self.addParameter(
            QgsProcessingParameterString(
                "DATES", tr("Dates in the same order, YYYY[-MM-DD], comma-separated (empty: from the names)"),
                optional=True,
            )
        )  # fmt: skip
        self.addParameter(QgsProcessingParameterFile("CHECKPOINT", tr("Model (for orthophotos)"), optional=True))
        self.addParameter(
            QgsProcessingParameterEnum(
                "METHOD", tr("Method"), [tr("Match by overlap"), tr("Prompt with last year"), tr("SAM 2 memory")],
                defaultValue=0,
            )
        )  # fmt: skip
        polygons = [QgsProcessing.SourceType.TypeVectorPolygon]
        self.addParameter(
            QgsProcessingParameterFeatureSource(
                "START", tr("The first year's objects (accepted segments, labels)"), polygons, optional=True
            )
        )
        self.addParameter(QgsProcessingParameterString("CLASS_FIELD", tr("Class field"), defaultValue="class_id"))
        for key, (title, default, minimum) in self.ADVANCED.items():
            number = QgsProcessingParameterNumber(
                key, tr(title), QgsProcessingParameterNumber.Type.Double, defaultValue=default, minValue=minimum
            )
            number.setFlags(number.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
            self.addParameter(number)
        self.add_more_options("track")
        self.addParameter(
            QgsProcessingParameterFileDestination("OUTPUT", tr("Objects through the years"), tr("GeoPackage (*.gpkg)"))
        )
        self.addOutput(QgsProcessingOutputVectorLayer("OBJECTS", tr("Objects, year by year")))
        self.addOutput(QgsProcessingOutputVectorLayer("CHANGES", tr("What changed")))

    def process(self, parameters: dict[str, Any], context: Any, feedback: Any) -> dict[str, Any]:
        layers = self.parameterAsLayerList(parameters, "YEARS", context)
        try:
            years = year_files(layers, Path(QgsProcessingUtils.tempFolder()))
        except OutputError as error:
            raise QgsProcessingException(str(error)) from None
        dates = [d.strip() for d in self.parameterAsString(parameters, "DATES", context).split(",") if d.strip()]
        out = self.parameterAsFileOutput(parameters, "OUTPUT", context)
        request = {
            "year": years,
            "date": dates or None,
            "checkpoint": self.parameterAsFile(parameters, "CHECKPOINT", context) or None,
            "method": METHODS[self.parameterAsEnum(parameters, "METHOD", context)],
            "start": self.labels_path(parameters, context, feedback, "START") if parameters.get("START") else None,
            "class_field": self.parameterAsString(parameters, "CLASS_FIELD", context) or "class_id",
            "max_shift": self.parameterAsDouble(parameters, "MAX_SHIFT", context),
            "min_iou": self.parameterAsDouble(parameters, "MIN_IOU", context),
            "changed_iou": self.parameterAsDouble(parameters, "CHANGED_IOU", context),
            "changed_area": self.parameterAsDouble(parameters, "CHANGED_AREA", context),
            "out": out,
        }
        result = self.run_engine("track", request, parameters, context, feedback)
        for date, counts in result.get("counts", {}).items():
            feedback.pushInfo(f"{date}: " + ", ".join(f"{count} {status}" for status, count in counts.items()))
        # the map gets the file's two layers on the timeline, not the file as one layer
        context.setLayersToLoadOnCompletion(
            {uri: details for uri, details in context.layersToLoadOnCompletion().items() if uri != out}
        )
        outputs = {"OUTPUT": out}
        loaded = (("OBJECTS", "objects", tr("Objects through the years")), ("CHANGES", "changes", tr("What changed")))
        for (key, layer_name, title), post_processor in zip(loaded, _TimeAware.for_layers(len(loaded)), strict=True):
            uri = f"{out}|layername={layer_name}"
            outputs[key] = uri
            details = QgsProcessingContext.LayerDetails(title, context.project(), key)
            details.setPostProcessor(post_processor)
            context.addLayerToLoadOnCompletion(uri, details)
        return outputs
