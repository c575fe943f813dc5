"""The model: the active one, an official one to download, a checkpoint file, or a model fine-tuned earlier."""

from __future__ import annotations

from pathlib import Path

from qgis.gui import QgsFileWidget
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import QComboBox, QFormLayout, QLabel, QPushButton, QWidget

from .. import job_defaults
from ..i18n import tr
from .section import Section
from .widgets import explain, widget_and_button


class ModelSection(Section):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(tr("Model"), parent)
        form = QFormLayout(self)
        self.model_label = QLabel(tr("Active model: none"), self)
        self.model_label.setObjectName("Sam2ModelLabel")
        self.model_label.setWordWrap(True)
        self.model_combo = QComboBox(self)
        model_labels = job_defaults.choice_labels("model", "engine")
        for name in job_defaults.choices("model", "engine"):  # the engine's models, in its order
            self.model_combo.addItem(model_labels[name], name)  # "SAM 2.1 large": fits a narrow dock
            self.model_combo.setItemData(self.model_combo.count() - 1, name, Qt.ItemDataRole.ToolTipRole)
        self.download_button = QPushButton(tr("Download"), self)
        self.checkpoint_widget = QgsFileWidget(self)
        self.checkpoint_widget.setFilter(tr("Checkpoints (*.pt *.pth *.torch)"))
        self.load_button = QPushButton(tr("Use this checkpoint"), self)
        self.tuned_combo = QComboBox(self)
        self.tuned_combo.setObjectName("Sam2TunedModels")
        self.use_tuned_button = QPushButton(tr("Use"), self)
        self.show_no_tuned()
        form.addRow(self.model_label)
        form.addRow(tr("Official"), widget_and_button(self.model_combo, self.download_button))
        form.addRow(tr("Local file"), self.checkpoint_widget)
        form.addRow(self.load_button)
        form.addRow(tr("Fine-tuned"), widget_and_button(self.tuned_combo, self.use_tuned_button))
        explain(
            {
                self.model_combo: tr("Meta's official SAM 2 checkpoints: tiny is fastest, large most accurate"),
                self.download_button: tr("Download the chosen checkpoint (resumable, verified) and make it active"),
                self.checkpoint_widget: tr("A checkpoint on disk: an official one, or a fine-tuned run's best.pt"),
                self.load_button: tr("Make the checkpoint file above the active model"),
                self.use_tuned_button: tr("Make the chosen fine-tuned model the active model"),
                self.tuned_combo: tr("Models fine-tuned in earlier runs, newest first, with their validation IoU"),
            }
        )

    def official_model(self) -> str:
        """The official model chosen, e.g. sam2.1_hiera_l."""
        return str(self.model_combo.currentData())

    def show_no_tuned(self) -> None:
        """An empty Fine-tuned list says so ("none yet": QGIS 3.22's Qt draws no placeholder) and Use is off."""
        self.tuned_combo.clear()
        self.tuned_combo.addItem(tr("none yet"))  # no data: not a model
        self.tuned_combo.setEnabled(False)
        self.use_tuned_button.setEnabled(False)

    def offer_tuned(self, checkpoint: Path, title: str) -> None:
        """List a fine-tuned checkpoint first under Fine-tuned, with ``title`` (again, if listed), and choose it."""
        combo = self.tuned_combo
        if not combo.isEnabled():  # the "none yet" line goes
            combo.clear()
            combo.setEnabled(True)
            self.use_tuned_button.setEnabled(True)
        if combo.findData(str(checkpoint)) >= 0:
            combo.removeItem(combo.findData(str(checkpoint)))
        combo.insertItem(0, title, str(checkpoint))
        combo.setCurrentIndex(combo.findData(str(checkpoint)))

    def chosen_tuned(self) -> str:
        """The fine-tuned checkpoint chosen under Fine-tuned ('' when none)."""
        return str(self.tuned_combo.currentData() or "")
