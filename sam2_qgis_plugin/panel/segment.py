"""Segment on the map: the class and the layer accepted objects go to, the map tool's button, the preview's
area and score, and encoding the visible extent ahead of clicks."""

from __future__ import annotations

from qgis.PyQt.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLabel, QPushButton, QWidget

from ..i18n import tr, translatable
from .section import Section
from .widgets import explain, polygon_layer_combo

HELP = translatable(
    "<b>Left click</b> object · <b>right click</b> background · <b>drag</b> box<br>"
    "<b>Ctrl+Z</b> undo (a click, then an accepted object) · <b>Esc</b> clear · <b>Enter</b> accept"
)


class SegmentSection(Section):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(tr("Segment"), parent)
        form = QFormLayout(self)
        self.class_combo = QComboBox(self)  # the output layer's classes, or a new one typed in
        self.class_combo.setEditable(True)
        self.class_combo.setCurrentText("object")
        self.output_combo = polygon_layer_combo(self)
        self.segment_button = QPushButton(tr("Segment on the map"), self)
        self.segment_button.setCheckable(True)
        self.hover_check = QCheckBox(tr("Outline under the cursor"), self)
        self.hover_check.setChecked(True)
        self.encode_button = QPushButton(tr("Encode visible extent"), self)
        self.output_hint = QLabel("", self)
        self.output_hint.setWordWrap(True)
        self.preview_label = QLabel("", self)  # the preview's area and score
        self.preview_label.setWordWrap(True)
        help_label = QLabel(tr(HELP), self)
        help_label.setWordWrap(True)
        form.addRow(tr("Class"), self.class_combo)
        form.addRow(tr("Output"), self.output_combo)
        form.addRow(self.output_hint)
        form.addRow(self.segment_button)
        form.addRow(self.hover_check)
        form.addRow(self.preview_label)
        form.addRow(self.encode_button)
        form.addRow(help_label)
        explain(
            {
                self.class_combo: tr(
                    "The class written with each accepted segment and predicted polygon: one of the output "
                    "layer's classes, or type a new one"
                ),
                self.output_combo: tr(
                    "The polygon layer accepted segments go to (empty: a GeoPackage beside the project)"
                ),
                self.segment_button: tr(
                    "Click objects on the map: left click object, right click background, drag a box"
                ),
                self.hover_check: tr(
                    "While segmenting, resting the mouse shows the outline a click there would give (on a tile "
                    "already encoded; a click then takes it at once)"
                ),
                self.encode_button: tr(
                    "Prepare the tiles under the visible map extent, so that clicks there are instant"
                ),
            }
        )

    def remembered(self) -> dict[str, QWidget]:
        return {"class": self.class_combo, "hover_preview": self.hover_check}

    def class_name(self) -> str:
        """The class written with accepted segments and predicted polygons."""
        return self.class_combo.currentText()

    def offer_classes(self, classes: list[str]) -> None:
        """List ``classes`` (the output layer's) in the class box, keeping the class typed or chosen."""
        current = self.class_combo.currentText()
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        self.class_combo.addItems(classes)
        self.class_combo.setCurrentText(current)
        self.class_combo.blockSignals(False)
