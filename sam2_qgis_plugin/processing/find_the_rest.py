"""Find the rest: learn from a few examples, then propose the other objects as candidates."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputFile,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingUtils,
)

from ..i18n import tr, translatable
from ..output import OutputError, examples_layer, export_layer
from ..remote import is_local_file
from .base import EngineAlgorithm


class FindTheRest(EngineAlgorithm):
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
