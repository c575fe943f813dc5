"""Your labels: the polygon layer Find the rest, Where to label next and fine-tuning learn from, and its class
field."""

from __future__ import annotations

from typing import Any

from qgis.gui import QgsFieldComboBox
from qgis.PyQt.QtWidgets import QFormLayout, QWidget

from ..i18n import tr
from .section import Section
from .widgets import explain, polygon_layer_combo


class LabelsSection(Section):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(tr("Your labels"), parent)
        self.setToolTip(tr("The polygons you drew: what Find the rest and fine-tuning learn from"))
        form = QFormLayout(self)
        self.labels_combo = polygon_layer_combo(self)
        self.class_field_combo = QgsFieldComboBox(self)
        self.class_field_combo.setAllowEmptyFieldName(True)
        self.class_field_combo.setLayer(self.labels_combo.currentLayer())
        self.labels_combo.layerChanged.connect(self.class_field_combo.setLayer)
        form.addRow(tr("Labels"), self.labels_combo)
        form.addRow(tr("Class field"), self.class_field_combo)
        explain(
            {
                self.labels_combo: tr("Polygons drawn around the objects to learn (not the model's own output)"),
                self.class_field_combo: tr("The attribute holding each polygon's class number (empty: one class)"),
            }
        )

    def layer(self) -> Any:
        """The label layer chosen (a QgsVectorLayer), or None."""
        return self.labels_combo.currentLayer()

    def class_field(self) -> str | None:
        return self.class_field_combo.currentField() or None
