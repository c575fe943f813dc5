"""Polygon shapes, in ground units: how accepted clicks and predictions become polygons."""

from __future__ import annotations

from qgis.PyQt.QtWidgets import QCheckBox, QDoubleSpinBox, QFormLayout, QWidget

from ..i18n import tr
from ..shapes import ShapeChoices
from .section import Section
from .widgets import explain


class ShapesSection(Section):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(tr("Polygon shapes"), parent)
        self.setToolTip(tr("How accepted clicks and predictions become polygons"))
        form = QFormLayout(self)
        self.simplify_spin = QDoubleSpinBox(self)
        self.simplify_spin.setRange(0.0, 20.0)
        self.simplify_spin.setSingleStep(0.25)
        self.simplify_spin.setSuffix(" m")
        self.simplify_spin.setSpecialValueText(tr("1 pixel"))
        self.min_area_spin = QDoubleSpinBox(self)
        self.min_area_spin.setRange(0.0, 100_000.0)
        self.min_area_spin.setSuffix(" m²")
        self.fill_holes_check = QCheckBox(tr("Fill holes"), self)
        self.right_angles_spin = QDoubleSpinBox(self)
        self.right_angles_spin.setRange(0.0, 40.0)
        self.right_angles_spin.setSingleStep(5.0)
        self.right_angles_spin.setSuffix("°")
        self.right_angles_spin.setSpecialValueText(tr("off"))
        form.addRow(tr("Simplify"), self.simplify_spin)
        form.addRow(tr("Smallest part"), self.min_area_spin)
        form.addRow(tr("Right angles"), self.right_angles_spin)
        form.addRow(self.fill_holes_check)
        explain(
            {
                self.simplify_spin: tr(
                    "Straighten outlines: points closer than this to a line are dropped (1 pixel: the least)"
                ),
                self.min_area_spin: tr("Drop polygons (and parts) smaller than this"),
                self.right_angles_spin: tr(
                    "For buildings: edges within this many degrees of the building's main directions "
                    "become straight and meet at right angles (15° suits most; off for trees and fields)"
                ),
                self.fill_holes_check: tr("Drop the holes inside each polygon (courtyards, gaps between crowns)"),
            }
        )

    def remembered(self) -> dict[str, QWidget]:
        return {
            "simplify_m": self.simplify_spin,
            "min_area_m2": self.min_area_spin,
            "right_angles": self.right_angles_spin,
            "fill_holes": self.fill_holes_check,
        }

    def shape_choices(self) -> ShapeChoices:
        """The polygon shapes chosen, in ground units."""
        return ShapeChoices(
            simplify_m=self.simplify_spin.value(),
            fill_holes=self.fill_holes_check.isChecked(),
            min_area_m2=self.min_area_spin.value(),
            right_angles=self.right_angles_spin.value(),
        )
