"""The SAM 2 panel: engine and model status, the raster to segment, the class, the output layer, actions."""

from __future__ import annotations

from qgis.core import QgsMapLayerProxyModel
from qgis.gui import QgsFileWidget, QgsMapLayerComboBox
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

OFFICIAL_MODELS = [
    "sam2.1_hiera_t",
    "sam2.1_hiera_s",
    "sam2.1_hiera_b+",
    "sam2.1_hiera_l",
    "sam2_hiera_t",
    "sam2_hiera_s",
    "sam2_hiera_b+",
    "sam2_hiera_l",
]
HELP = (
    "<b>Left click</b> object · <b>right click</b> background · <b>drag</b> box<br>"
    "<b>Ctrl+Z</b> undo · <b>Esc</b> clear · <b>Enter</b> accept"
)


class Sam2Dock(QDockWidget):
    """Widgets only; the plugin connects them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("SAM 2", parent)
        self.setObjectName("Sam2Dock")
        body = QWidget(self)
        layout = QVBoxLayout(body)

        engine = QGroupBox("Engine", body)
        engine_form = QFormLayout(engine)
        self.engine_label = QLabel("Engine: not connected", engine)
        self.engine_label.setObjectName("Sam2EngineLabel")
        self.engine_label.setWordWrap(True)
        self.python_widget = QgsFileWidget(engine)
        self.python_widget.setDialogTitle("Python interpreter with torch and rf-sam-2")
        self.check_button = QPushButton("Check", engine)
        row = QHBoxLayout()
        row.addWidget(self.python_widget, 1)
        row.addWidget(self.check_button)
        engine_form.addRow(self.engine_label)
        engine_form.addRow("Python", row)
        layout.addWidget(engine)

        model = QGroupBox("Model", body)
        model_form = QFormLayout(model)
        self.model_label = QLabel("Active model: none", model)
        self.model_label.setObjectName("Sam2ModelLabel")
        self.model_combo = QComboBox(model)
        self.model_combo.addItems(OFFICIAL_MODELS)
        self.download_button = QPushButton("Download", model)
        download_row = QHBoxLayout()
        download_row.addWidget(self.model_combo, 1)
        download_row.addWidget(self.download_button)
        self.checkpoint_widget = QgsFileWidget(model)
        self.checkpoint_widget.setFilter("Checkpoints (*.pt *.pth *.torch)")
        self.load_button = QPushButton("Use this checkpoint", model)
        model_form.addRow(self.model_label)
        model_form.addRow("Official", download_row)
        model_form.addRow("Local file", self.checkpoint_widget)
        model_form.addRow(self.load_button)
        layout.addWidget(model)

        segment = QGroupBox("Segment", body)
        segment_form = QFormLayout(segment)
        self.raster_combo = QgsMapLayerComboBox(segment)
        self.raster_combo.setFilters(QgsMapLayerProxyModel.RasterLayer)
        self.class_edit = QLineEdit("object", segment)
        self.output_combo = QgsMapLayerComboBox(segment)
        self.output_combo.setFilters(QgsMapLayerProxyModel.PolygonLayer)
        self.output_combo.setAllowEmptyLayer(True)
        self.output_combo.setLayer(None)
        self.segment_button = QPushButton("Segment on the map", segment)
        self.segment_button.setCheckable(True)
        self.encode_button = QPushButton("Encode visible extent", segment)
        segment_form.addRow("Raster", self.raster_combo)
        segment_form.addRow("Class", self.class_edit)
        segment_form.addRow("Output (empty: new GeoPackage)", self.output_combo)
        segment_form.addRow(self.segment_button)
        segment_form.addRow(self.encode_button)
        help_label = QLabel(HELP, segment)
        help_label.setWordWrap(True)
        segment_form.addRow(help_label)
        layout.addWidget(segment)
        layout.addStretch(1)
        self.setWidget(body)
