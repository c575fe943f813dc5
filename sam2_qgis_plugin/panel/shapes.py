"""Polygon shapes and the objects kept, in ground units: how accepted clicks and predictions become polygons."""

from __future__ import annotations

from qgis.PyQt.QtWidgets import QCheckBox, QDoubleSpinBox, QFormLayout, QWidget

from ..i18n import tr
from ..shapes import ShapeChoices
from .section import Section
from .widgets import explain


def ground_spin(parent: QWidget, suffix: str, most: float, at_zero: str) -> QDoubleSpinBox:
    """A spin box for a filter in ground units from 0 (shown as ``at_zero``: the filter is off) to ``most``."""
    spin = QDoubleSpinBox(parent)
    spin.setRange(0.0, most)
    spin.setSuffix(suffix)
    spin.setSpecialValueText(at_zero)
    return spin


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
        self.min_area_spin = ground_spin(self, " m²", 1_000_000.0, tr("off"))
        self.max_area_spin = ground_spin(self, " m²", 1_000_000.0, tr("no limit"))
        self.min_diameter_spin = ground_spin(self, " m", 10_000.0, tr("off"))
        self.max_diameter_spin = ground_spin(self, " m", 10_000.0, tr("no limit"))
        self.min_compactness_spin = ground_spin(self, "", 1.0, tr("off"))
        self.min_compactness_spin.setSingleStep(0.05)
        self.largest_part_check = QCheckBox(tr("Click: largest part"), self)
        self.fill_holes_check = QCheckBox(tr("Fill holes"), self)
        self.right_angles_spin = QDoubleSpinBox(self)
        self.right_angles_spin.setRange(0.0, 40.0)
        self.right_angles_spin.setSingleStep(5.0)
        self.right_angles_spin.setSuffix("°")
        self.right_angles_spin.setSpecialValueText(tr("off"))
        form.addRow(tr("Simplify"), self.simplify_spin)
        form.addRow(tr("Right angles"), self.right_angles_spin)
        form.addRow(self.fill_holes_check)
        form.addRow(tr("Smallest area"), self.min_area_spin)
        form.addRow(tr("Largest area"), self.max_area_spin)
        form.addRow(tr("Narrowest"), self.min_diameter_spin)
        form.addRow(tr("Widest"), self.max_diameter_spin)
        form.addRow(tr("Compactness"), self.min_compactness_spin)
        form.addRow(self.largest_part_check)
        explain(
            {
                self.simplify_spin: tr(
                    "Straighten outlines: points closer than this to a line are dropped (1 pixel: the least)"
                ),
                self.min_area_spin: tr("Drop objects (and parts) smaller than this, measured on the ground"),
                self.max_area_spin: tr("Drop objects larger than this (fields when you want trees)"),
                self.min_diameter_spin: tr(
                    "Drop objects narrower than this: the diameter of the smallest circle around the object"
                ),
                self.max_diameter_spin: tr("Drop objects wider than this (the smallest circle around it)"),
                self.min_compactness_spin: tr(
                    "Drop objects less compact than this: 4πA/P², 1 for a circle, 0.79 for a square, near 0 for a "
                    "hedge row or a road (0.4 keeps crowns and most buildings)"
                ),
                self.largest_part_check: tr(
                    "A click or a hover outline keeps only its largest polygon, not the specks around it"
                ),
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
            "max_area_m2": self.max_area_spin,
            "min_diameter_m": self.min_diameter_spin,
            "max_diameter_m": self.max_diameter_spin,
            "min_compactness": self.min_compactness_spin,
            "largest_part": self.largest_part_check,
        }

    def shape_choices(self) -> ShapeChoices:
        """The polygon shapes chosen, in ground units."""
        return ShapeChoices(
            simplify_m=self.simplify_spin.value(),
            fill_holes=self.fill_holes_check.isChecked(),
            min_area_m2=self.min_area_spin.value(),
            right_angles=self.right_angles_spin.value(),
            max_area_m2=self.max_area_spin.value(),
            min_diameter_m=self.min_diameter_spin.value(),
            max_diameter_m=self.max_diameter_spin.value(),
            min_compactness=self.min_compactness_spin.value(),
            largest_part=self.largest_part_check.isChecked(),
        )
