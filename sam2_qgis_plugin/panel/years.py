"""Follow across years: the flights of one area (orthophotos or polygon layers), how to carry the objects from
one year to the next, where they start, and the button."""

from __future__ import annotations

from typing import Any

from qgis.core import QgsMapLayer, QgsProject, QgsRasterLayer, QgsVectorLayer, QgsWkbTypes
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import QComboBox, QFormLayout, QListWidget, QListWidgetItem, QPushButton, QWidget

from ..i18n import tr
from .section import Section
from .widgets import explain, polygon_layer_combo

METHODS = {
    "match": "Match by overlap",
    "prompt": "Prompt with last year",
    "memory": "SAM 2 memory",
}


def is_year_layer(layer: QgsMapLayer) -> bool:
    """An orthophoto or a polygon layer: what a year can be."""
    if isinstance(layer, QgsRasterLayer):
        return True
    return isinstance(layer, QgsVectorLayer) and layer.geometryType() == QgsWkbTypes.GeometryType.PolygonGeometry


class YearsSection(Section):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(tr("Follow across years"), parent)
        form = QFormLayout(self)
        self.years_list = QListWidget(self)
        self.years_list.setMaximumHeight(110)
        self.method_combo = QComboBox(self)
        for key, label in METHODS.items():
            self.method_combo.addItem(tr(label), key)
        self.start_combo = polygon_layer_combo(self)
        self.follow_button = QPushButton(tr("Follow across years"), self)
        form.addRow(tr("Years"), self.years_list)
        form.addRow(tr("Method"), self.method_combo)
        form.addRow(tr("Start from"), self.start_combo)
        form.addRow(self.follow_button)
        explain(
            {
                self.years_list: tr(
                    "Tick each flight of the area: its orthophoto (predicted with the active model) or its objects "
                    "as a polygon layer. Dates come from the layers' names (ortho_2019, roofs 2022-05)"
                ),
                self.method_combo: tr(
                    "Match by overlap: each year's objects paired with last year's once the misregistration is "
                    "taken out. Prompt with last year: each outline prompts SAM 2 in this year's orthophoto. SAM 2 "
                    "memory: the years as the frames of a video"
                ),
                self.start_combo: tr(
                    "The first year's objects (accepted segments, your labels) instead of its prediction"
                ),
                self.follow_button: tr(
                    "Adds a layer of every object in every year (new, unchanged, changed, gone) on the map's timeline"
                    " and a layer of what changed. Step through the years with View > Panels > Temporal Controller"
                ),
            }
        )
        project = QgsProject.instance()
        project.layersAdded.connect(self.refresh)
        project.layersRemoved.connect(self.refresh)
        self.refresh()

    def refresh(self, *_: Any) -> None:
        """List the project's orthophotos and polygon layers, keeping what was ticked."""
        ticked = set(self.layer_ids())
        self.years_list.clear()
        for layer in QgsProject.instance().mapLayers().values():
            if not is_year_layer(layer):
                continue
            item = QListWidgetItem(layer.name(), self.years_list)
            item.setData(Qt.ItemDataRole.UserRole, layer.id())
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if layer.id() in ticked else Qt.CheckState.Unchecked)

    def layer_ids(self) -> list[str]:
        items = (self.years_list.item(row) for row in range(self.years_list.count()))
        return [item.data(Qt.ItemDataRole.UserRole) for item in items if item.checkState() == Qt.CheckState.Checked]

    def set_years(self, layers: list[QgsMapLayer]) -> None:
        """Tick ``layers`` (and only them)."""
        wanted = {layer.id() for layer in layers}
        for row in range(self.years_list.count()):
            item = self.years_list.item(row)
            checked = item.data(Qt.ItemDataRole.UserRole) in wanted
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def years(self) -> list[QgsMapLayer]:
        """The ticked layers, in the list's order."""
        project = QgsProject.instance()
        return [layer for layer in (project.mapLayer(i) for i in self.layer_ids()) if layer is not None]

    def method(self) -> str:
        return str(self.method_combo.currentData())

    def start_layer(self) -> Any:
        return self.start_combo.currentLayer()

    def remembered(self) -> dict[str, QWidget]:
        return {"years_method": self.method_combo}
