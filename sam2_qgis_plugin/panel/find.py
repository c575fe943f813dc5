"""Find the rest: where to look, the time budget, the button that says it, and the review of the candidates
(accept, reject, back, next, find again)."""

from __future__ import annotations

from typing import Any

from qgis.PyQt.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .. import job_defaults
from ..i18n import tr
from .section import Section
from .widgets import EXTENTS, polygon_layer_combo


class FindSection(Section):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(tr("Find the rest"), parent)
        form = QFormLayout(self)
        hint = QLabel(
            tr(
                "Outline a few objects (3 or more) in your labels, then let SAM 2 learn from them and find the "
                "others. Accept or reject each candidate: both teach the next round."
            ),
            self,
        )
        hint.setWordWrap(True)
        self.find_where_combo = QComboBox(self)
        for key in ("visible map extent", "AOI layer"):
            self.find_where_combo.addItem(tr(EXTENTS[key]), key)
        self.find_aoi_combo = polygon_layer_combo(self)
        self.find_where_combo.setToolTip(tr("Where to look for the other objects"))
        self.find_aoi_combo.setToolTip(tr("The polygons to search in, when Where is the AOI layer"))
        self.find_minutes_spin = QDoubleSpinBox(self)
        self.find_minutes_spin.setRange(0.5, 120.0)
        self.find_minutes_spin.setSingleStep(0.5)
        self.find_minutes_spin.setSuffix(" min")
        self.find_minutes_spin.setValue(job_defaults.default("max_minutes", "find"))
        self.find_minutes_spin.setToolTip(job_defaults.help_text("max_minutes", "find"))
        self.find_button = QPushButton("", self)
        self.find_button.setObjectName("Sam2FindButton")
        self.find_button.setToolTip(
            tr("Learns from your labels' examples within the time budget, then shows the candidates to review")
        )
        self.find_minutes_spin.valueChanged.connect(self.show_find_budget)
        self.show_find_budget()
        self.find_result_label = QLabel("", self)
        self.find_result_label.setWordWrap(True)
        self.review_row = QWidget(self)  # shown while candidates are reviewed
        review_layout = QVBoxLayout(self.review_row)
        review_layout.setContentsMargins(0, 0, 0, 0)
        self.review_label = QLabel("", self.review_row)
        self.review_label.setWordWrap(True)
        self.review_buttons = {
            "accept": QPushButton(tr("Accept (A)"), self.review_row),
            "reject": QPushButton(tr("Reject (R)"), self.review_row),
            "previous": QPushButton(tr("◀ Back (P)"), self.review_row),
            "next": QPushButton(tr("Next (N) ▶"), self.review_row),
        }
        self.find_again_button = QPushButton(tr("Find again"), self.review_row)
        self.find_again_button.setToolTip(
            tr("Learns again from your grown labels: accepted candidates are objects, rejected ones background")
        )
        review_layout.addWidget(self.review_label)
        buttons = list(self.review_buttons.values())
        for pair in (buttons[:2], buttons[2:]):  # two rows: four buttons side by side would not fit the dock
            row = QHBoxLayout()
            for button in pair:
                row.addWidget(button)
            review_layout.addLayout(row)
        review_layout.addWidget(self.find_again_button)
        self.review_row.setVisible(False)
        form.addRow(hint)
        form.addRow(tr("Where"), self.find_where_combo)
        form.addRow(tr("AOI layer"), self.find_aoi_combo)
        form.addRow(tr("Time budget"), self.find_minutes_spin)
        form.addRow(self.find_button)
        form.addRow(self.find_result_label)
        form.addRow(self.review_row)

    def remembered(self) -> dict[str, QWidget]:
        return {"find_minutes": self.find_minutes_spin, "find_where": self.find_where_combo}

    def show_find_budget(self, *_: Any) -> None:
        """The find button says the time budget before it starts."""
        minutes = self.find_minutes_spin.value()
        self.find_button.setText(tr("Find the rest (up to {minutes:g} min)").format(minutes=minutes))

    def where(self) -> str:
        """visible map extent or AOI layer."""
        return str(self.find_where_combo.currentData())

    def options(self) -> dict[str, Any]:
        """Find's own options under the engine's names: the time budget."""
        return {"max_minutes": self.find_minutes_spin.value()}
