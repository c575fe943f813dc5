"""The orthophoto every task works on: the raster layer, its bands as red, green and blue when it is not plain
RGB, and the pixel size a web layer is rendered at."""

from __future__ import annotations

from typing import Any

from qgis.core import QgsMapLayerProxyModel
from qgis.gui import QgsMapLayerComboBox, QgsRasterBandComboBox
from qgis.PyQt.QtWidgets import QDoubleSpinBox, QFormLayout, QVBoxLayout, QWidget

from ..i18n import tr
from .section import Section
from .widgets import explain


class RasterSection(Section):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(tr("Orthophoto"), parent)
        self.setToolTip(tr("The raster you segment, fine-tune on and predict"))
        form = QFormLayout(self)
        self.raster_combo = QgsMapLayerComboBox(self)
        self.raster_combo.setFilters(QgsMapLayerProxyModel.Filter.RasterLayer)
        self.web_resolution_spin = QDoubleSpinBox(self)
        self.web_resolution_spin.setRange(0.0, 100.0)
        self.web_resolution_spin.setDecimals(2)
        self.web_resolution_spin.setSingleStep(0.05)
        self.web_resolution_spin.setSuffix(" m")
        self.web_resolution_spin.setSpecialValueText(tr("as the map shows it"))
        self.band_combos = [QgsRasterBandComboBox(self) for _ in range(3)]  # read as red, green, blue
        self.bands_row = QWidget(self)  # stacked: three combos side by side would not fit the dock
        bands_layout = QVBoxLayout(self.bands_row)
        bands_layout.setContentsMargins(0, 0, 0, 0)
        for combo, colour in zip(self.band_combos, ("red", "green", "blue"), strict=True):
            combo.setToolTip(tr("The raster band SAM 2 sees as {colour}").format(colour=colour))
            bands_layout.addWidget(combo)
        form.addRow(tr("Raster"), self.raster_combo)
        form.addRow(tr("Bands (R, G, B)"), self.bands_row)
        form.addRow(tr("Web layer pixel"), self.web_resolution_spin)
        explain(
            {
                self.raster_combo: tr(
                    "The orthophoto to segment, fine-tune on and predict: a file, or a web layer (WMS, "
                    "WMTS, XYZ, a GeoTIFF over HTTP), which is rendered over the area needed"
                ),
                self.web_resolution_spin: tr(
                    "The ground size of a pixel when a web layer is rendered for SAM 2 (as the "
                    "map shows it: the map's current scale); choose the imagery's own, e.g. 0.5 m, for the best masks"
                ),
            }
        )

    def remembered(self) -> dict[str, QWidget]:
        return {"web_resolution_m": self.web_resolution_spin}

    def show_bands(self, layer: Any, bands: tuple[int, int, int] | None) -> None:
        """Offer ``layer``'s bands as R, G, B set to ``bands``; hidden (None) where the engine's default is right."""
        form = self.layout()
        label = form.labelForField(self.bands_row) if isinstance(form, QFormLayout) else None
        for widget in (self.bands_row, label):
            if widget is not None:
                widget.setVisible(bands is not None)
        if bands is None:
            return
        for combo, band in zip(self.band_combos, bands, strict=True):
            combo.blockSignals(True)
            combo.setLayer(layer)
            combo.setBand(band)
            combo.blockSignals(False)

    def show_web_resolution(self, shown: bool) -> None:
        """The web layer's pixel size only for a layer that is rendered (no local file): one row less otherwise."""
        form = self.layout()
        label = form.labelForField(self.web_resolution_spin) if isinstance(form, QFormLayout) else None
        for widget in (self.web_resolution_spin, label):
            if widget is not None:
                widget.setVisible(shown)

    def band_choice(self) -> tuple[int, int, int]:
        """The bands chosen as R, G, B (1-based)."""
        return tuple(combo.currentBand() for combo in self.band_combos)
