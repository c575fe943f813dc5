"""Predict the raster: where, the threshold, one polygon per object, and the button."""

from __future__ import annotations

from typing import Any

from qgis.PyQt.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QPushButton, QWidget

from .. import job_defaults
from ..i18n import tr
from .section import Section
from .widgets import EXTENTS, explain, polygon_layer_combo


class PredictSection(Section):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(tr("Predict the raster"), parent)
        form = QFormLayout(self)
        self.extent_combo = QComboBox(self)
        for key, label in EXTENTS.items():
            self.extent_combo.addItem(tr(label), key)
        self.predict_aoi_combo = polygon_layer_combo(self)
        self.threshold_spin = QDoubleSpinBox(self)
        self.threshold_spin.setRange(0.05, 0.95)
        self.threshold_spin.setSingleStep(0.05)
        self.threshold_spin.setValue(job_defaults.default("threshold", "predict"))
        self.threshold_spin.setToolTip(job_defaults.help_text("threshold", "predict"))
        self.instances_check = QCheckBox(tr("One polygon per object"), self)
        self.predict_button = QPushButton(tr("Predict the raster"), self)
        form.addRow(tr("Where"), self.extent_combo)
        form.addRow(tr("AOI layer"), self.predict_aoi_combo)
        form.addRow(tr("Threshold"), self.threshold_spin)
        form.addRow(self.instances_check)
        form.addRow(self.predict_button)
        explain(
            {
                self.extent_combo: tr("Predict the whole raster, what the map shows, or inside an AOI layer"),
                self.predict_aoi_combo: tr("The polygons to predict inside when Where is AOI layer"),
                self.instances_check: tr(
                    "Split touching objects of the class (buildings sharing part of a wall, crowns that touch) "
                    "where they narrow, so that each gets its own polygon and instance_id"
                ),
                self.predict_button: tr(
                    "Segment every object of the class with the active model; adds a mask and polygons"
                ),
            }
        )

    def remembered(self) -> dict[str, QWidget]:
        return {"where": self.extent_combo, "instances": self.instances_check, "threshold": self.threshold_spin}

    def where(self) -> str:
        """whole raster, visible map extent or AOI layer."""
        return str(self.extent_combo.currentData())

    def aoi_layer(self) -> Any:
        return self.predict_aoi_combo.currentLayer()

    def options(self) -> dict[str, Any]:
        """The prediction options of this section under the engine's names (no paths)."""
        return {"threshold": self.threshold_spin.value(), "instances": self.instances_check.isChecked()}
