"""Where to label next: where to look, how many places, the button, what was found, and the places to visit."""

from __future__ import annotations

from qgis.PyQt.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QLabel, QPushButton, QSpinBox, QWidget

from ..i18n import tr
from .section import Section
from .widgets import EXTENTS, polygon_layer_combo


class SuggestSection(Section):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(tr("Where to label next"), parent)
        form = QFormLayout(self)
        hint = QLabel(
            tr(
                "The places where the active model is least sure, away from your labels: a label there teaches it "
                "most. Shown again after each fine-tuning."
            ),
            self,
        )
        hint.setWordWrap(True)
        self.suggest_where_combo = QComboBox(self)
        for key in ("visible map extent", "whole raster", "AOI layer"):
            self.suggest_where_combo.addItem(tr(EXTENTS[key]), key)
        self.suggest_aoi_combo = polygon_layer_combo(self)
        self.suggest_count_spin = QSpinBox(self)
        self.suggest_count_spin.setRange(1, 100)
        self.suggest_count_spin.setValue(10)
        self.suggest_where_combo.setToolTip(tr("Where to look for places to label"))
        self.suggest_aoi_combo.setToolTip(tr("The polygons to look in, when Where is the AOI layer"))
        self.suggest_count_spin.setToolTip(
            tr("How many places at most, best first, at least 256 pixels apart and clear of your labels")
        )
        self.suggest_button = QPushButton(tr("Where to label next"), self)
        self.suggest_button.setObjectName("Sam2SuggestButton")
        self.suggest_button.setToolTip(
            tr("Maps how unsure the active model is (a translucent heat layer) and numbers the places to label")
        )
        self.suggest_label = QLabel("", self)
        self.suggest_label.setWordWrap(True)
        self.suggest_row = QWidget(self)  # shown while there are places to visit
        places = QHBoxLayout(self.suggest_row)
        places.setContentsMargins(0, 0, 0, 0)
        self.suggest_buttons = {
            "previous": QPushButton(tr("◀ Previous place"), self.suggest_row),
            "next": QPushButton(tr("Next place ▶"), self.suggest_row),
        }
        for button in self.suggest_buttons.values():
            places.addWidget(button)
        self.suggest_row.setVisible(False)
        form.addRow(hint)
        form.addRow(tr("Where"), self.suggest_where_combo)
        form.addRow(tr("AOI layer"), self.suggest_aoi_combo)
        form.addRow(tr("Places"), self.suggest_count_spin)
        form.addRow(self.suggest_button)
        form.addRow(self.suggest_label)
        form.addRow(self.suggest_row)

    def remembered(self) -> dict[str, QWidget]:
        return {"suggest_where": self.suggest_where_combo, "suggest_count": self.suggest_count_spin}
