"""Create training tiles: an orthophoto and its labels cut into the seed pipeline's folder layout."""

from __future__ import annotations

from typing import Any, ClassVar

from qgis.core import (
    QgsProcessing,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterRasterLayer,
)

from ..i18n import tr, translatable
from .base import EngineAlgorithm


class CreateTrainingTiles(EngineAlgorithm):
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
