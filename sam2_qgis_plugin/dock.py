"""The SAM 2 panel: engine and model status, the raster to segment, the class, the output layer, actions."""

from __future__ import annotations

from typing import Any

from qgis.core import QgsMapLayerProxyModel
from qgis.gui import QgsFieldComboBox, QgsFileWidget, QgsMapLayerComboBox, QgsRasterBandComboBox
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from . import job_defaults
from .i18n import tr, translatable
from .settings import PANEL
from .settings_dialog import SettingsDialog
from .shapes import ShapeChoices

#: Where to predict: the key (kept in the settings, read by the prediction) and the label the analyst reads.
EXTENTS = {
    "whole raster": translatable("whole raster"),
    "visible map extent": translatable("visible map extent"),
    "AOI layer": translatable("AOI layer"),
}
HELP = translatable(
    "<b>Left click</b> object · <b>right click</b> background · <b>drag</b> box<br>"
    "<b>Ctrl+Z</b> undo (a click, then an accepted object) · <b>Esc</b> clear · <b>Enter</b> accept"
)


def scoped(owner: type, scope: str, name: str) -> object:
    """A Qt enum value by its scoped name (Qt6) or its unscoped one (Qt5)."""
    return getattr(getattr(owner, scope, owner), name)


def fit_narrow(body: QWidget) -> None:
    """Let the panel fit QGIS's default dock width: long form rows wrap their field under the label, and combo
    boxes stop asking for the width of their longest entry (a layer name, a path)."""
    for form in body.findChildren(QFormLayout):
        form.setRowWrapPolicy(scoped(QFormLayout, "RowWrapPolicy", "WrapLongRows"))
    for combo in body.findChildren(QComboBox):
        combo.setSizeAdjustPolicy(scoped(QComboBox, "SizeAdjustPolicy", "AdjustToMinimumContentsLengthWithIcon"))
        combo.setMinimumContentsLength(4)
    for label in body.findChildren(QLabel):
        if label.wordWrap():  # status texts: wrap at spaces in the width there is (a long path is clipped)
            label.setMinimumWidth(80)


def combo_value(combo: QComboBox) -> str:
    """What a combo box's choice is kept as: its item's data (a key) or, without, its text."""
    data = combo.currentData()
    return str(data) if data is not None else combo.currentText()


def widget_and_button(widget: QWidget, button: QPushButton) -> QHBoxLayout:
    """A form row: ``widget`` taking the width, ``button`` beside it."""
    row = QHBoxLayout()
    row.addWidget(widget, 1)
    row.addWidget(button)
    return row


class Sam2Dock(QDockWidget):
    """Widgets only; the plugin connects them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("SAM 2", parent)
        self.setObjectName("Sam2Dock")
        body = QWidget(self)
        layout = QVBoxLayout(body)

        self.job_row = QWidget(body)  # the running job (job_panel.JobMonitor shows it)
        job_layout = QVBoxLayout(self.job_row)
        job_layout.setContentsMargins(0, 0, 0, 0)
        self.job_label = QLabel("", self.job_row)
        self.job_label.setWordWrap(True)
        self.job_progress = QProgressBar(self.job_row)
        self.job_progress.setRange(0, 100)
        self.job_cancel_button = QPushButton(tr("Cancel"), self.job_row)
        job_layout.addWidget(self.job_label)
        job_layout.addLayout(widget_and_button(self.job_progress, self.job_cancel_button))
        layout.addWidget(self.job_row)

        # engine settings (interpreter, device, cache) live in their own dialog: the panel is for work
        self.settings = SettingsDialog(self)
        self.python_widget = self.settings.python_widget
        self.check_button = self.settings.check_button
        self.device_combo = self.settings.device_combo
        engine = QGroupBox(tr("Engine"), body)
        engine_form = QFormLayout(engine)
        self.engine_label = QLabel(tr("Engine: not connected"), engine)
        self.engine_label.setObjectName("Sam2EngineLabel")
        self.engine_label.setWordWrap(True)
        self.settings_button = QPushButton(tr("Settings..."), engine)
        engine_form.addRow(widget_and_button(self.engine_label, self.settings_button))
        layout.addWidget(engine)

        model = QGroupBox(tr("Model"), body)
        model_form = QFormLayout(model)
        self.model_label = QLabel(tr("Active model: none"), model)
        self.model_label.setObjectName("Sam2ModelLabel")
        self.model_label.setWordWrap(True)
        self.model_combo = QComboBox(model)
        model_labels = job_defaults.choice_labels("model", "engine")
        for name in job_defaults.choices("model", "engine"):  # the engine's models, in its order
            self.model_combo.addItem(f"{model_labels[name]} ({name})", name)
        self.download_button = QPushButton(tr("Download"), model)
        self.checkpoint_widget = QgsFileWidget(model)
        self.checkpoint_widget.setFilter(tr("Checkpoints (*.pt *.pth *.torch)"))
        self.load_button = QPushButton(tr("Use this checkpoint"), model)
        self.tuned_combo = QComboBox(model)
        self.tuned_combo.setObjectName("Sam2TunedModels")
        self.tuned_combo.setPlaceholderText(tr("none yet"))
        self.use_tuned_button = QPushButton(tr("Use"), model)
        model_form.addRow(self.model_label)
        model_form.addRow(tr("Official"), widget_and_button(self.model_combo, self.download_button))
        model_form.addRow(tr("Local file"), self.checkpoint_widget)
        model_form.addRow(self.load_button)
        model_form.addRow(tr("Fine-tuned"), widget_and_button(self.tuned_combo, self.use_tuned_button))
        layout.addWidget(model)

        orthophoto = QGroupBox(tr("Orthophoto"), body)
        orthophoto.setToolTip(tr("The raster you segment, fine-tune on and predict"))
        orthophoto_form = QFormLayout(orthophoto)
        self.raster_combo = QgsMapLayerComboBox(orthophoto)
        self.raster_combo.setFilters(QgsMapLayerProxyModel.Filter.RasterLayer)
        self.web_resolution_spin = QDoubleSpinBox(orthophoto)
        self.web_resolution_spin.setRange(0.0, 100.0)
        self.web_resolution_spin.setDecimals(2)
        self.web_resolution_spin.setSingleStep(0.05)
        self.web_resolution_spin.setSuffix(" m")
        self.web_resolution_spin.setSpecialValueText(tr("as the map shows it"))
        self.band_combos = [QgsRasterBandComboBox(orthophoto) for _ in range(3)]  # read as red, green, blue
        self.bands_row = QWidget(orthophoto)  # stacked: three combos side by side would not fit the dock
        bands_layout = QVBoxLayout(self.bands_row)
        bands_layout.setContentsMargins(0, 0, 0, 0)
        for combo, colour in zip(self.band_combos, ("red", "green", "blue"), strict=True):
            combo.setToolTip(tr("The raster band SAM 2 sees as {colour}").format(colour=colour))
            bands_layout.addWidget(combo)
        orthophoto_form.addRow(tr("Raster"), self.raster_combo)
        orthophoto_form.addRow(tr("Bands (R, G, B)"), self.bands_row)
        orthophoto_form.addRow(tr("Web layer pixel"), self.web_resolution_spin)
        layout.addWidget(orthophoto)

        segment = QGroupBox(tr("Segment"), body)
        segment_form = QFormLayout(segment)
        self.class_combo = QComboBox(segment)  # the output layer's classes, or a new one typed in
        self.class_combo.setEditable(True)
        self.class_combo.setCurrentText("object")
        self.output_combo = QgsMapLayerComboBox(segment)
        self.output_combo.setFilters(QgsMapLayerProxyModel.Filter.PolygonLayer)
        self.output_combo.setAllowEmptyLayer(True)
        self.output_combo.setLayer(None)
        self.segment_button = QPushButton(tr("Segment on the map"), segment)
        self.segment_button.setCheckable(True)
        self.encode_button = QPushButton(tr("Encode visible extent"), segment)
        segment_form.addRow(tr("Class"), self.class_combo)
        segment_form.addRow(tr("Output"), self.output_combo)
        self.output_hint = QLabel("", segment)
        self.output_hint.setWordWrap(True)
        segment_form.addRow(self.output_hint)
        segment_form.addRow(self.segment_button)
        self.preview_label = QLabel("", segment)  # the preview's area and score
        self.preview_label.setWordWrap(True)
        segment_form.addRow(self.preview_label)
        segment_form.addRow(self.encode_button)
        help_label = QLabel(tr(HELP), segment)
        help_label.setWordWrap(True)
        segment_form.addRow(help_label)
        layout.addWidget(segment)

        shapes = QGroupBox(tr("Polygon shapes"), body)
        shapes.setToolTip(tr("How accepted clicks and predictions become polygons"))
        shapes_form = QFormLayout(shapes)
        self.simplify_spin = QDoubleSpinBox(shapes)
        self.simplify_spin.setRange(0.0, 20.0)
        self.simplify_spin.setSingleStep(0.25)
        self.simplify_spin.setSuffix(" m")
        self.simplify_spin.setSpecialValueText(tr("1 pixel"))
        self.min_area_spin = QDoubleSpinBox(shapes)
        self.min_area_spin.setRange(0.0, 100_000.0)
        self.min_area_spin.setSuffix(" m²")
        self.fill_holes_check = QCheckBox(tr("Fill holes"), shapes)
        self.right_angles_spin = QDoubleSpinBox(shapes)
        self.right_angles_spin.setRange(0.0, 40.0)
        self.right_angles_spin.setSingleStep(5.0)
        self.right_angles_spin.setSuffix("°")
        self.right_angles_spin.setSpecialValueText(tr("off"))
        shapes_form.addRow(tr("Simplify"), self.simplify_spin)
        shapes_form.addRow(tr("Smallest part"), self.min_area_spin)
        shapes_form.addRow(tr("Right angles"), self.right_angles_spin)
        shapes_form.addRow(self.fill_holes_check)
        layout.addWidget(shapes)

        labels = QGroupBox(tr("Your labels"), body)
        labels.setToolTip(tr("The polygons you drew: what Find the rest and fine-tuning learn from"))
        labels_form = QFormLayout(labels)
        self.labels_combo = QgsMapLayerComboBox(labels)
        self.labels_combo.setFilters(QgsMapLayerProxyModel.Filter.PolygonLayer)
        self.labels_combo.setAllowEmptyLayer(True)  # chosen, never guessed: the first layer is often our output
        self.labels_combo.setLayer(None)
        self.class_field_combo = QgsFieldComboBox(labels)
        self.class_field_combo.setAllowEmptyFieldName(True)
        self.class_field_combo.setLayer(self.labels_combo.currentLayer())
        self.labels_combo.layerChanged.connect(self.class_field_combo.setLayer)
        labels_form.addRow(tr("Labels"), self.labels_combo)
        labels_form.addRow(tr("Class field"), self.class_field_combo)
        layout.addWidget(labels)

        find = QGroupBox(tr("Find the rest"), body)
        find_form = QFormLayout(find)
        find_hint = QLabel(
            tr(
                "Outline a few objects (3 or more) in your labels, then let SAM 2 learn from them and find the "
                "others. Accept or reject each candidate: both teach the next round."
            ),
            find,
        )
        find_hint.setWordWrap(True)
        self.find_where_combo = QComboBox(find)
        for key in ("visible map extent", "AOI layer"):
            self.find_where_combo.addItem(tr(EXTENTS[key]), key)
        self.find_aoi_combo = QgsMapLayerComboBox(find)
        self.find_aoi_combo.setFilters(QgsMapLayerProxyModel.Filter.PolygonLayer)
        self.find_aoi_combo.setAllowEmptyLayer(True)
        self.find_aoi_combo.setLayer(None)
        self.find_where_combo.setToolTip(tr("Where to look for the other objects"))
        self.find_aoi_combo.setToolTip(tr("The polygons to search in, when Where is the AOI layer"))
        self.find_minutes_spin = QDoubleSpinBox(find)
        self.find_minutes_spin.setRange(0.5, 120.0)
        self.find_minutes_spin.setSingleStep(0.5)
        self.find_minutes_spin.setSuffix(" min")
        self.find_minutes_spin.setValue(job_defaults.default("max_minutes", "find"))
        self.find_minutes_spin.setToolTip(job_defaults.help_text("max_minutes", "find"))
        self.find_button = QPushButton("", find)
        self.find_button.setObjectName("Sam2FindButton")
        self.find_button.setToolTip(
            tr("Learns from your labels' examples within the time budget, then shows the candidates to review")
        )
        self.find_minutes_spin.valueChanged.connect(self.show_find_budget)
        self.show_find_budget()
        self.find_result_label = QLabel("", find)
        self.find_result_label.setWordWrap(True)
        self.review_row = QWidget(find)  # shown while candidates are reviewed
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
        find_form.addRow(find_hint)
        find_form.addRow(tr("Where"), self.find_where_combo)
        find_form.addRow(tr("AOI layer"), self.find_aoi_combo)
        find_form.addRow(tr("Time budget"), self.find_minutes_spin)
        find_form.addRow(self.find_button)
        find_form.addRow(self.find_result_label)
        find_form.addRow(self.review_row)
        layout.addWidget(find)

        tune = QGroupBox(tr("Fine-tune on your labels"), body)
        tune_form = QFormLayout(tune)
        self.labels_cover_combo = QComboBox(tune)
        for cover, label in job_defaults.choice_labels("labels_cover").items():
            self.labels_cover_combo.addItem(tr(label), cover)
        self.labels_cover_combo.setCurrentIndex(self.labels_cover_combo.findData(job_defaults.default("labels_cover")))
        self.labels_cover_combo.setToolTip(job_defaults.help_text("labels_cover"))
        self.multiclass_check = QCheckBox(tr("Tell the classes apart"), tune)
        self.name_field_combo = QgsFieldComboBox(tune)  # the class names of a multi-class model
        self.name_field_combo.setAllowEmptyFieldName(True)
        self.name_field_combo.setLayer(self.labels_combo.currentLayer())
        self.labels_combo.layerChanged.connect(self.name_field_combo.setLayer)
        self.classes_edit = QLineEdit(tune)
        self.classes_edit.setPlaceholderText(tr("all (or e.g. 1,3)"))
        self.aoi_combo = QgsMapLayerComboBox(tune)
        self.aoi_combo.setFilters(QgsMapLayerProxyModel.Filter.PolygonLayer)
        self.aoi_combo.setAllowEmptyLayer(True)
        self.aoi_combo.setLayer(None)
        self.mode_combo = QComboBox(tune)
        for mode, label in job_defaults.mode_labels().items():
            self.mode_combo.addItem(label, mode)
        self.mode_combo.setCurrentIndex(self.mode_combo.findData(job_defaults.default("mode")))
        self.mode_combo.setToolTip(job_defaults.help_text("mode"))
        self.mode_hint = QLabel(
            tr(
                "A model tuned for whole-raster prediction is used without prompts by Predict; "
                "one tuned for clicking serves clicks (and a grid of clicks for a whole raster)."
            ),
            tune,
        )
        self.mode_hint.setWordWrap(True)
        self.trainable_combo = QComboBox(tune)
        self.trainable_combo.addItems(job_defaults.choices("trainable"))
        self.trainable_combo.setCurrentText(job_defaults.default("trainable"))
        self.trainable_combo.setToolTip(job_defaults.help_text("trainable"))
        self.epochs_spin = QSpinBox(tune)
        self.epochs_spin.setRange(1, 1000)
        self.epochs_spin.setValue(job_defaults.default("epochs"))
        self.epochs_spin.setToolTip(job_defaults.help_text("epochs"))
        self.lr_spin = QDoubleSpinBox(tune)
        self.lr_spin.setDecimals(6)
        self.lr_spin.setRange(1e-6, 0.1)
        self.lr_spin.setSingleStep(1e-5)
        self.lr_spin.setValue(job_defaults.default("lr"))
        self.batch_spin = QSpinBox(tune)
        self.batch_spin.setRange(1, 256)
        self.batch_spin.setValue(job_defaults.default("batch_size"))
        self.batch_spin.setToolTip(job_defaults.help_text("batch_size"))
        self.tile_spin = QSpinBox(tune)
        self.tile_spin.setRange(64, 2048)
        self.tile_spin.setSingleStep(64)
        self.tile_spin.setValue(job_defaults.default("tile_size"))
        self.val_spin = QDoubleSpinBox(tune)
        self.val_spin.setRange(0.05, 0.5)
        self.val_spin.setSingleStep(0.05)
        self.val_spin.setValue(job_defaults.default("val_fraction"))
        self.val_spin.setToolTip(job_defaults.help_text("val_fraction"))
        self.train_button = QPushButton(tr("Run fine-tuning"), tune)
        self.result_label = QLabel(tr("No fine-tuning in this session yet"), tune)
        self.result_label.setObjectName("Sam2ResultLabel")
        self.result_label.setWordWrap(True)
        self.report_button = QPushButton(tr("Open the last report"), tune)
        self.resume_button = QPushButton(tr("Resume the stopped run"), tune)
        self.resume_button.setEnabled(False)
        tune_form.addRow(tr("My labels"), self.labels_cover_combo)
        tune_form.addRow(tr("Classes"), self.classes_edit)
        tune_form.addRow(self.multiclass_check)
        tune_form.addRow(tr("Class names"), self.name_field_combo)
        tune_form.addRow(tr("Area of interest"), self.aoi_combo)
        tune_form.addRow(tr("Tune"), self.mode_combo)
        tune_form.addRow(self.mode_hint)
        tune_form.addRow(tr("Trains"), self.trainable_combo)
        tune_form.addRow(tr("Epochs"), self.epochs_spin)
        tune_form.addRow(tr("Learning rate"), self.lr_spin)
        tune_form.addRow(tr("Batch size"), self.batch_spin)
        tune_form.addRow(tr("Tile size (px)"), self.tile_spin)
        tune_form.addRow(tr("Validation share"), self.val_spin)
        tune_form.addRow(self.train_button)
        tune_form.addRow(self.result_label)
        tune_form.addRow(self.report_button)
        tune_form.addRow(self.resume_button)
        layout.addWidget(tune)

        label_next = QGroupBox(tr("Where to label next"), body)
        next_form = QFormLayout(label_next)
        next_hint = QLabel(
            tr(
                "The places where the active model is least sure, away from your labels: a label there teaches it "
                "most. Shown again after each fine-tuning."
            ),
            label_next,
        )
        next_hint.setWordWrap(True)
        self.suggest_where_combo = QComboBox(label_next)
        for key in ("visible map extent", "whole raster", "AOI layer"):
            self.suggest_where_combo.addItem(tr(EXTENTS[key]), key)
        self.suggest_aoi_combo = QgsMapLayerComboBox(label_next)
        self.suggest_aoi_combo.setFilters(QgsMapLayerProxyModel.Filter.PolygonLayer)
        self.suggest_aoi_combo.setAllowEmptyLayer(True)
        self.suggest_aoi_combo.setLayer(None)
        self.suggest_count_spin = QSpinBox(label_next)
        self.suggest_count_spin.setRange(1, 100)
        self.suggest_count_spin.setValue(10)
        self.suggest_where_combo.setToolTip(tr("Where to look for places to label"))
        self.suggest_aoi_combo.setToolTip(tr("The polygons to look in, when Where is the AOI layer"))
        self.suggest_count_spin.setToolTip(
            tr("How many places at most, best first, at least 256 pixels apart and clear of your labels")
        )
        self.suggest_button = QPushButton(tr("Where to label next"), label_next)
        self.suggest_button.setObjectName("Sam2SuggestButton")
        self.suggest_button.setToolTip(
            tr("Maps how unsure the active model is (a translucent heat layer) and numbers the places to label")
        )
        self.suggest_label = QLabel("", label_next)
        self.suggest_label.setWordWrap(True)
        self.suggest_row = QWidget(label_next)  # shown while there are places to visit
        places = QHBoxLayout(self.suggest_row)
        places.setContentsMargins(0, 0, 0, 0)
        self.suggest_buttons = {
            "previous": QPushButton(tr("◀ Previous place"), self.suggest_row),
            "next": QPushButton(tr("Next place ▶"), self.suggest_row),
        }
        for button in self.suggest_buttons.values():
            places.addWidget(button)
        self.suggest_row.setVisible(False)
        next_form.addRow(next_hint)
        next_form.addRow(tr("Where"), self.suggest_where_combo)
        next_form.addRow(tr("AOI layer"), self.suggest_aoi_combo)
        next_form.addRow(tr("Places"), self.suggest_count_spin)
        next_form.addRow(self.suggest_button)
        next_form.addRow(self.suggest_label)
        next_form.addRow(self.suggest_row)
        layout.addWidget(label_next)

        predict = QGroupBox(tr("Predict the raster"), body)
        predict_form = QFormLayout(predict)
        self.extent_combo = QComboBox(predict)
        for key, label in EXTENTS.items():
            self.extent_combo.addItem(tr(label), key)
        self.predict_aoi_combo = QgsMapLayerComboBox(predict)
        self.predict_aoi_combo.setFilters(QgsMapLayerProxyModel.Filter.PolygonLayer)
        self.predict_aoi_combo.setAllowEmptyLayer(True)
        self.predict_aoi_combo.setLayer(None)
        self.threshold_spin = QDoubleSpinBox(predict)
        self.threshold_spin.setRange(0.05, 0.95)
        self.threshold_spin.setSingleStep(0.05)
        self.threshold_spin.setValue(job_defaults.default("threshold", "predict"))
        self.threshold_spin.setToolTip(job_defaults.help_text("threshold", "predict"))
        self.instances_check = QCheckBox(tr("One polygon per object"), predict)
        self.predict_button = QPushButton(tr("Predict the raster"), predict)
        predict_form.addRow(tr("Where"), self.extent_combo)
        predict_form.addRow(tr("AOI layer"), self.predict_aoi_combo)
        predict_form.addRow(tr("Threshold"), self.threshold_spin)
        predict_form.addRow(self.instances_check)
        predict_form.addRow(self.predict_button)
        layout.addWidget(predict)
        layout.addStretch(1)
        fit_narrow(body)
        self.explain()
        self.remember_choices()
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        self.setWidget(scroll)

    def remembered(self) -> dict[str, QWidget]:
        """The choices kept across QGIS sessions, by their settings key."""
        return {
            "class": self.class_combo,
            "classes": self.classes_edit,
            "mode": self.mode_combo,
            "trainable": self.trainable_combo,
            "epochs": self.epochs_spin,
            "lr": self.lr_spin,
            "batch_size": self.batch_spin,
            "tile_size": self.tile_spin,
            "val_fraction": self.val_spin,
            "labels_cover": self.labels_cover_combo,
            "find_minutes": self.find_minutes_spin,
            "find_where": self.find_where_combo,
            "suggest_where": self.suggest_where_combo,
            "suggest_count": self.suggest_count_spin,
            "where": self.extent_combo,
            "instances": self.instances_check,
            "threshold": self.threshold_spin,
            "simplify_m": self.simplify_spin,
            "min_area_m2": self.min_area_spin,
            "right_angles": self.right_angles_spin,
            "fill_holes": self.fill_holes_check,
            "web_resolution_m": self.web_resolution_spin,
        }

    def remember_choices(self) -> None:
        """Restore the analyst's last choices (QgsSettings ``sam2_qgis/panel/*``) and keep each as it changes."""
        for name, widget in self.remembered().items():
            saved = PANEL.value(name)
            if isinstance(widget, QSpinBox):
                if saved is not None:
                    widget.setValue(int(saved))
                widget.valueChanged.connect(lambda value, name=name: PANEL.set_value(name, value))
            elif isinstance(widget, QDoubleSpinBox):
                if saved is not None:
                    widget.setValue(float(saved))
                widget.valueChanged.connect(lambda value, name=name: PANEL.set_value(name, value))
            elif isinstance(widget, QComboBox) and widget.isEditable():
                if saved is not None:
                    widget.setCurrentText(str(saved))
                widget.currentTextChanged.connect(lambda text, name=name: PANEL.set_value(name, text))
            elif isinstance(widget, QComboBox):  # kept by the item's data (its key) where it has one, not its label
                index = widget.findData(saved) if saved is not None else -1
                if index < 0 and saved is not None:
                    index = widget.findText(str(saved))
                if index >= 0:
                    widget.setCurrentIndex(index)
                widget.currentIndexChanged.connect(
                    lambda _, name=name, widget=widget: PANEL.set_value(name, combo_value(widget))
                )
            elif isinstance(widget, QCheckBox):
                if saved is not None:
                    widget.setChecked(str(saved).lower() == "true")
                widget.toggled.connect(lambda checked, name=name: PANEL.set_value(name, checked))
            elif isinstance(widget, QLineEdit):
                if saved is not None:
                    widget.setText(str(saved))
                widget.textChanged.connect(lambda text, name=name: PANEL.set_value(name, text))

    def explain(self) -> None:
        """A tooltip on every choice, in the analyst's words (the training options' come from the engine)."""
        tips = {
            self.settings_button: tr("The engine's Python, the device (GPU or CPU) and the embedding cache"),
            self.model_combo: tr("Meta's official SAM 2 checkpoints: t(iny) is fastest, l(arge) most accurate"),
            self.download_button: tr("Download the chosen checkpoint (resumable, verified) and make it active"),
            self.checkpoint_widget: tr("A checkpoint on disk: an official one, or a fine-tuned run's best.pt"),
            self.load_button: tr("Make the checkpoint file above the active model"),
            self.use_tuned_button: tr("Make the chosen fine-tuned model the active model"),
            self.tuned_combo: tr("Models fine-tuned in earlier runs, newest first, with their validation IoU"),
            self.raster_combo: tr(
                "The orthophoto to segment, fine-tune on and predict: a file, or a web layer (WMS, "
                "WMTS, XYZ, a GeoTIFF over HTTP), which is rendered over the area needed"
            ),
            self.web_resolution_spin: tr(
                "The ground size of a pixel when a web layer is rendered for SAM 2 (as the "
                "map shows it: the map's current scale); choose the imagery's own, e.g. 0.5 m, for the best masks"
            ),
            self.class_combo: tr(
                "The class written with each accepted segment and predicted polygon: one of the output "
                "layer's classes, or type a new one"
            ),
            self.output_combo: tr("The polygon layer accepted segments go to (empty: a GeoPackage beside the project)"),
            self.segment_button: tr("Click objects on the map: left click object, right click background, drag a box"),
            self.encode_button: tr("Prepare the tiles under the visible map extent, so that clicks there are instant"),
            self.simplify_spin: tr(
                "Straighten outlines: points closer than this to a line are dropped (1 pixel: the least)"
            ),
            self.min_area_spin: tr("Drop polygons (and parts) smaller than this"),
            self.right_angles_spin: tr(
                "For buildings: edges within this many degrees of the building's main directions "
                "become straight and meet at right angles (15° suits most; off for trees and fields)"
            ),
            self.fill_holes_check: tr("Drop the holes inside each polygon (courtyards, gaps between crowns)"),
            self.labels_combo: tr("Polygons drawn around the objects to learn (not the model's own output)"),
            self.class_field_combo: tr("The attribute holding each polygon's class number (empty: one class)"),
            self.multiclass_check: tr(
                "Learn the classes as different things (buildings, trees, roads...) in one model, and predict a "
                "class raster; without it the classes chosen are learned as one kind of object"
            ),
            self.name_field_combo: tr("For one model of all classes: the attribute holding each class's name"),
            self.classes_edit: tr("The classes to learn, e.g. 1 or 1,3 (empty: every class)"),
            self.aoi_combo: tr("Polygons limiting where training tiles are taken (empty: the whole raster)"),
            self.lr_spin: job_defaults.help_text("lr"),
            self.tile_spin: job_defaults.help_text("tile_size"),
            self.train_button: tr(
                "Fine-tune in the background (cancel it in the task manager); the best epoch is used"
            ),
            self.job_cancel_button: tr("Stop the running job (a fine-tuning stops at a safe point and can be resumed)"),
            self.resume_button: tr("Continue a cancelled fine-tuning from where it stopped (its settings are kept)"),
            self.report_button: tr("The last run's report: base model vs tuned, curves, confusion matrix"),
            self.extent_combo: tr("Predict the whole raster, what the map shows, or inside an AOI layer"),
            self.predict_aoi_combo: tr("The polygons to predict inside when Where is AOI layer"),
            self.instances_check: tr(
                "Split touching objects of the class (buildings sharing part of a wall, crowns that touch) where "
                "they narrow, so that each gets its own polygon and instance_id"
            ),
            self.predict_button: tr(
                "Segment every object of the class with the active model; adds a mask and polygons"
            ),
        }
        for widget, tip in tips.items():
            if not widget.toolTip():
                widget.setToolTip(tip)

    def show_bands(self, layer: Any, bands: tuple[int, int, int] | None) -> None:
        """Offer ``layer``'s bands as R, G, B set to ``bands``; hidden (None) where the engine's default is right."""
        form = self.bands_row.parentWidget().layout()
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

    def band_choice(self) -> tuple[int, int, int]:
        """The bands chosen as R, G, B (1-based)."""
        return tuple(combo.currentBand() for combo in self.band_combos)

    def offer_classes(self, classes: list[str]) -> None:
        """List ``classes`` (the output layer's) in the class box, keeping the class typed or chosen."""
        current = self.class_combo.currentText()
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        self.class_combo.addItems(classes)
        self.class_combo.setCurrentText(current)
        self.class_combo.blockSignals(False)

    def shape_choices(self) -> ShapeChoices:
        """The polygon shapes chosen in the panel, in ground units."""
        return ShapeChoices(
            simplify_m=self.simplify_spin.value(),
            fill_holes=self.fill_holes_check.isChecked(),
            min_area_m2=self.min_area_spin.value(),
            right_angles=self.right_angles_spin.value(),
        )

    def training_options(self) -> dict[str, Any]:
        """The panel's training options under the engine's names (``python -m core describe``; no paths)."""
        return {
            "mode": self.mode_combo.currentData(),
            "trainable": self.trainable_combo.currentText(),
            "epochs": self.epochs_spin.value(),
            "lr": self.lr_spin.value(),
            "batch_size": self.batch_spin.value(),
            "tile_size": self.tile_spin.value(),
            "val_fraction": self.val_spin.value(),
            "labels_cover": self.labels_cover_combo.currentData(),
            "device": self.device_combo.currentText(),
            "class_field": self.class_field_combo.currentField() or None,
            "classes": self.classes_edit.text().strip() or None,
            "multiclass": self.multiclass_check.isChecked(),
            "name_field": (self.name_field_combo.currentField() or None) if self.multiclass_check.isChecked() else None,
        }

    def show_find_budget(self, *_: Any) -> None:
        """The find button says the time budget before it starts."""
        minutes = self.find_minutes_spin.value()
        self.find_button.setText(tr("Find the rest (up to {minutes:g} min)").format(minutes=minutes))

    def find_options(self) -> dict[str, Any]:
        """Find's options under the engine's names: the time budget, and the tile size and device of training."""
        return {
            "max_minutes": self.find_minutes_spin.value(),
            "tile_size": min(self.tile_spin.value(), job_defaults.default("tile_size", "find")),
            "device": self.device_combo.currentText(),
        }

    def prediction_options(self) -> dict[str, Any]:
        """The panel's prediction options under the engine's names (no paths)."""
        return {
            "label": self.class_combo.currentText(),
            "threshold": self.threshold_spin.value(),
            "instances": self.instances_check.isChecked(),
        }
