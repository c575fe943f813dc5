"""Fine-tune on your labels: what the labels cover, the classes, the area of interest, what the model is tuned
for, the training options (defaults, choices and help from the engine), and the run's result, report and
resume."""

from __future__ import annotations

from typing import Any

from qgis.gui import QgsFieldComboBox
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from .. import job_defaults
from ..i18n import tr
from .labels import LabelsSection
from .section import Section
from .widgets import explain, polygon_layer_combo


class TrainSection(Section):
    def __init__(self, labels: LabelsSection, parent: QWidget | None = None) -> None:
        super().__init__(tr("Fine-tune on your labels"), parent)
        form = QFormLayout(self)
        self.labels_cover_combo = QComboBox(self)
        for cover, label in job_defaults.choice_labels("labels_cover").items():
            self.labels_cover_combo.addItem(tr(label), cover)
        self.labels_cover_combo.setCurrentIndex(self.labels_cover_combo.findData(job_defaults.default("labels_cover")))
        self.labels_cover_combo.setToolTip(job_defaults.help_text("labels_cover"))
        self.multiclass_check = QCheckBox(tr("Tell the classes apart"), self)
        self.name_field_combo = QgsFieldComboBox(self)  # the class names of a multi-class model
        self.name_field_combo.setAllowEmptyFieldName(True)
        self.name_field_combo.setLayer(labels.layer())
        labels.labels_combo.layerChanged.connect(self.name_field_combo.setLayer)
        self.classes_edit = QLineEdit(self)
        self.classes_edit.setPlaceholderText(tr("all (or e.g. 1,3)"))
        self.aoi_combo = polygon_layer_combo(self)
        self.mode_combo = QComboBox(self)
        for mode, label in job_defaults.mode_labels().items():
            self.mode_combo.addItem(label, mode)
        self.mode_combo.setCurrentIndex(self.mode_combo.findData(job_defaults.default("mode")))
        self.mode_combo.setToolTip(job_defaults.help_text("mode"))
        self.mode_hint = QLabel(
            tr(
                "A model tuned for whole-raster prediction is used without prompts by Predict; "
                "one tuned for clicking serves clicks (and a grid of clicks for a whole raster)."
            ),
            self,
        )
        self.mode_hint.setWordWrap(True)
        self.trainable_combo = QComboBox(self)
        self.trainable_combo.addItems(job_defaults.choices("trainable"))
        self.trainable_combo.setCurrentText(job_defaults.default("trainable"))
        self.trainable_combo.setToolTip(job_defaults.help_text("trainable"))
        self.epochs_spin = QSpinBox(self)
        self.epochs_spin.setRange(1, 1000)
        self.epochs_spin.setValue(job_defaults.default("epochs"))
        self.epochs_spin.setToolTip(job_defaults.help_text("epochs"))
        self.lr_spin = QDoubleSpinBox(self)
        self.lr_spin.setDecimals(6)
        self.lr_spin.setRange(1e-6, 0.1)
        self.lr_spin.setSingleStep(1e-5)
        self.lr_spin.setValue(job_defaults.default("lr"))
        self.batch_spin = QSpinBox(self)
        self.batch_spin.setRange(1, 256)
        self.batch_spin.setValue(job_defaults.default("batch_size"))
        self.batch_spin.setToolTip(job_defaults.help_text("batch_size"))
        self.tile_spin = QSpinBox(self)
        self.tile_spin.setRange(64, 2048)
        self.tile_spin.setSingleStep(64)
        self.tile_spin.setValue(job_defaults.default("tile_size"))
        self.val_spin = QDoubleSpinBox(self)
        self.val_spin.setRange(0.05, 0.5)
        self.val_spin.setSingleStep(0.05)
        self.val_spin.setValue(job_defaults.default("val_fraction"))
        self.val_spin.setToolTip(job_defaults.help_text("val_fraction"))
        self.train_button = QPushButton(tr("Run fine-tuning"), self)
        self.result_label = QLabel(tr("No fine-tuning in this session yet"), self)
        self.result_label.setObjectName("Sam2ResultLabel")
        self.result_label.setWordWrap(True)
        self.report_button = QPushButton(tr("Open the last report"), self)
        self.resume_button = QPushButton(tr("Resume the stopped run"), self)
        self.resume_button.setEnabled(False)
        form.addRow(tr("My labels"), self.labels_cover_combo)
        form.addRow(tr("Classes"), self.classes_edit)
        form.addRow(self.multiclass_check)
        form.addRow(tr("Class names"), self.name_field_combo)
        form.addRow(tr("Area of interest"), self.aoi_combo)
        form.addRow(tr("Tune"), self.mode_combo)
        form.addRow(self.mode_hint)
        form.addRow(tr("Trains"), self.trainable_combo)
        form.addRow(tr("Epochs"), self.epochs_spin)
        form.addRow(tr("Learning rate"), self.lr_spin)
        form.addRow(tr("Batch size"), self.batch_spin)
        form.addRow(tr("Tile size (px)"), self.tile_spin)
        form.addRow(tr("Validation share"), self.val_spin)
        form.addRow(self.train_button)
        form.addRow(self.result_label)
        form.addRow(self.report_button)
        form.addRow(self.resume_button)
        explain(
            {
                self.multiclass_check: tr(
                    "Learn the classes as different things (buildings, trees, roads...) in one model, and predict "
                    "a class raster; without it the classes chosen are learned as one kind of object"
                ),
                self.name_field_combo: tr("For one model of all classes: the attribute holding each class's name"),
                self.classes_edit: tr("The classes to learn, e.g. 1 or 1,3 (empty: every class)"),
                self.aoi_combo: tr("Polygons limiting where training tiles are taken (empty: the whole raster)"),
                self.lr_spin: job_defaults.help_text("lr"),
                self.tile_spin: job_defaults.help_text("tile_size"),
                self.train_button: tr(
                    "Fine-tune in the background (cancel it in the task manager); the best epoch is used"
                ),
                self.resume_button: tr(
                    "Continue a cancelled fine-tuning from where it stopped (its settings are kept)"
                ),
                self.report_button: tr("The last run's report: base model vs tuned, curves, confusion matrix"),
            }
        )

    def remembered(self) -> dict[str, QWidget]:
        return {
            "classes": self.classes_edit,
            "mode": self.mode_combo,
            "trainable": self.trainable_combo,
            "epochs": self.epochs_spin,
            "lr": self.lr_spin,
            "batch_size": self.batch_spin,
            "tile_size": self.tile_spin,
            "val_fraction": self.val_spin,
            "labels_cover": self.labels_cover_combo,
        }

    def options(self) -> dict[str, Any]:
        """The training options of this section under the engine's names (``python -m core describe``)."""
        multiclass = self.multiclass_check.isChecked()
        return {
            "mode": self.mode_combo.currentData(),
            "trainable": self.trainable_combo.currentText(),
            "epochs": self.epochs_spin.value(),
            "lr": self.lr_spin.value(),
            "batch_size": self.batch_spin.value(),
            "tile_size": self.tile_spin.value(),
            "val_fraction": self.val_spin.value(),
            "labels_cover": self.labels_cover_combo.currentData(),
            "classes": self.classes_edit.text().strip() or None,
            "multiclass": multiclass,
            "name_field": (self.name_field_combo.currentField() or None) if multiclass else None,
        }

    def aoi_layer(self) -> Any:
        """The area of interest chosen (a QgsVectorLayer), or None."""
        return self.aoi_combo.currentLayer()

    def show_result(self, text: str, resumable: bool | None = None) -> None:
        """The last run's result in words; ``resumable``: whether Resume is offered (None: left as it is)."""
        self.result_label.setText(text)
        if resumable is not None:
            self.resume_button.setEnabled(resumable)
