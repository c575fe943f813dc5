"""Predict region: many orthophoto tiles (layers, a folder, or both) into one folder of masks, their mosaic and
one polygon layer, resumable."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputRasterLayer,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorDestination,
    QgsRasterLayer,
)

from ..i18n import tr, translatable
from ..remote import is_local_file
from .base import EngineAlgorithm

RASTER_SUFFIXES = (".tif", ".tiff", ".jp2", ".img", ".vrt")  # core.io.catalog's: what a folder's rasters are


def first_raster(folder: str) -> QgsRasterLayer | None:
    """The folder's first raster (by name) as a layer, or None."""
    files = sorted(p for p in Path(folder).glob("*") if p.suffix.lower() in RASTER_SUFFIXES) if folder else []
    return QgsRasterLayer(str(files[0]), files[0].stem) if files else None


class PredictRegion(EngineAlgorithm):
    HELP = translatable(
        "Segments a region given as many orthophoto tiles (raster layers, a folder of GeoTIFFs, or both; one "
        "CRS) with one model load: a mask per tile in the output folder, region.vrt over them, and one polygon "
        "layer in which objects cut by tile edges are joined. Resume finishes an interrupted region without "
        "predicting the finished tiles again. On several GPUs, run the same job with torchrun (see the README)."
    )
    BASIC: ClassVar[dict[str, str]] = {"threshold": "Threshold"}
    ADVANCED: ClassVar[dict[str, str]] = {"overlap": "Window overlap (fraction)", "batch_size": "Windows per batch"}

    def name(self) -> str:
        return "predictregion"

    def displayName(self) -> str:  # noqa: N802
        return tr("Predict region (many rasters) with SAM 2")

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802
        self.addParameter(
            QgsProcessingParameterMultipleLayers(
                "RASTERS", tr("Orthophoto tiles"), QgsProcessing.SourceType.TypeRaster, optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterFile(
                "FOLDER", tr("Folder of orthophoto tiles"), QgsProcessingParameterFile.Behavior.Folder, optional=True
            )
        )
        self.addParameter(QgsProcessingParameterFile("CHECKPOINT", tr("Checkpoint (a fine-tuned run's best.pt)")))
        self.add_options("predict", self.BASIC, {})
        self.addParameter(QgsProcessingParameterString("LABEL", tr("Class of the polygons"), defaultValue="object"))
        self.addParameter(
            QgsProcessingParameterBoolean("INSTANCES", tr("One polygon per object (split touching objects)"), False)
        )
        self.addParameter(
            QgsProcessingParameterBoolean("RESUME", tr("Resume: finish the region already in the output folder"), False)
        )
        self.add_options("predict", {}, self.ADVANCED)
        self.add_band_parameter()
        self.add_shape_parameters()
        self.add_more_options("predict")
        self.addParameter(QgsProcessingParameterFolderDestination("OUTPUT", tr("Region folder")))
        self.addParameter(
            QgsProcessingParameterVectorDestination(
                "POLYGONS", tr("Polygons"), QgsProcessing.SourceType.TypeVectorPolygon, optional=True,
                createByDefault=False,
            )
        )  # fmt: skip
        self.addOutput(QgsProcessingOutputRasterLayer("MOSAIC", tr("Mosaic of the masks (region.vrt)")))

    def process(self, parameters: dict[str, Any], context: Any, feedback: Any) -> dict[str, Any]:
        layers = self.parameterAsLayerList(parameters, "RASTERS", context)
        folder = self.parameterAsFile(parameters, "FOLDER", context)
        remote = [layer.name() for layer in layers if not is_local_file(layer)]
        if remote:
            raise QgsProcessingException(
                tr(
                    "{layers}: a region is predicted from raster files; save web layers as GeoTIFFs first, or "
                    "predict them one at a time with Predict raster"
                ).format(layers=", ".join(remote))
            )
        sources = [layer.source() for layer in layers] + ([folder] if folder else [])
        if not sources:
            raise QgsProcessingException(tr("choose orthophoto tiles, a folder of them, or both"))
        out = self.parameterAsString(parameters, "OUTPUT", context)
        polygons = self.parameterAsOutputLayer(parameters, "POLYGONS", context)
        first = layers[0] if layers else first_raster(folder)  # converts the shapes' ground units to pixels
        request = {
            "raster": sources,
            "checkpoint": self.parameterAsFile(parameters, "CHECKPOINT", context),
            "out": out,
            "vector": polygons or None,
            "label": self.parameterAsString(parameters, "LABEL", context),
            "instances": self.parameterAsBoolean(parameters, "INSTANCES", context),
            "resume": self.parameterAsBoolean(parameters, "RESUME", context),
            **self.options(parameters, context, "predict", (*self.BASIC, *self.ADVANCED)),
            **(self.shape_options(parameters, context, first) if first is not None else {}),
            "bands": self.band_option(parameters, context),
        }
        result = self.run_engine("predict", request, parameters, context, feedback)
        if result.get("predicted") is not None:
            feedback.pushInfo(
                tr("{done} rasters predicted, {kept} kept from before").format(
                    done=len(result["predicted"]), kept=len(result.get("skipped", []))
                )
            )
        return {"OUTPUT": out, "MOSAIC": str(Path(out) / "region.vrt"), "POLYGONS": polygons or None}
