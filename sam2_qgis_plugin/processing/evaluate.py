"""Evaluate segmentation: pixel and object accuracy of a mask against labels."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterRasterLayer,
)

from ..i18n import tr, translatable
from .base import EngineAlgorithm


class EvaluateSegmentation(EngineAlgorithm):
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
