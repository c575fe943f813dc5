"""The engine: its state in one line, and Settings... (its Python, the device, the embedding cache), which live
in their own window: the panel is for work."""

from __future__ import annotations

from qgis.PyQt.QtWidgets import QFormLayout, QLabel, QPushButton, QWidget

from ..i18n import tr
from ..settings_dialog import SettingsDialog
from .section import Section


class EngineSection(Section):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(tr("Engine"), parent)
        form = QFormLayout(self)
        self.settings = SettingsDialog(self)
        self.python_widget = self.settings.python_widget
        self.check_button = self.settings.check_button
        self.device_combo = self.settings.device_combo
        self.engine_label = QLabel(tr("Engine: not connected"), self)
        self.engine_label.setObjectName("Sam2EngineLabel")
        self.engine_label.setWordWrap(True)
        self.settings_button = QPushButton(tr("Settings..."), self)
        self.settings_button.setToolTip(tr("The engine's Python, the device (GPU or CPU) and the embedding cache"))
        # own rows: a word-wrapped label beside a button gets a wrong height from Qt (blank space, cut text)
        form.addRow(self.engine_label)
        form.addRow(self.settings_button)

    def device(self) -> str:
        """Where SAM 2 runs: auto, cuda, mps or cpu (chosen in Settings)."""
        return self.device_combo.currentText()
