"""Fine-tune SAM 2 on an orthophoto and its labels (a run folder with the best checkpoint and a report)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from qgis.core import (
    QgsProcessingOutputFile,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterRasterLayer,
)

from ..i18n import tr, translatable
from .base import EngineAlgorithm


class FineTune(EngineAlgorithm):
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
