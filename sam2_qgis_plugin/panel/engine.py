"""The engine: its state in one line, and Settings... (its Python, the device, the embedding cache), which live
in their own window: the panel is for work."""

from __future__ import annotations

from typing import Any

from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from ..i18n import tr
from ..settings_dialog import SettingsDialog
from .section import Section


class EngineSection(Section):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(tr("Engine"), parent)
        row = QHBoxLayout(self)  # no form: a word-wrapped label in a form row beside a button gets a wrong height
        self.settings = SettingsDialog(self)
        self.python_widget = self.settings.python_widget
        self.check_button = self.settings.check_button
        self.device_combo = self.settings.device_combo
        self.engine_label = QLabel(tr("Engine: not checked yet"), self)
        self.engine_label.setObjectName("Sam2EngineLabel")
        self.engine_label.setWordWrap(True)
        self.settings_button = QToolButton(self)
        self.settings_button.setText(tr("Settings..."))
        self.settings_button.setToolTip(tr("The engine's Python, the device (GPU or CPU) and the embedding cache"))
        row.addWidget(self.engine_label, 1)
        row.addWidget(self.settings_button, 0, Qt.AlignmentFlag.AlignTop)

    def device(self) -> str:
        """Where SAM 2 runs: auto, cuda, mps or cpu (chosen in Settings)."""
        return self.device_combo.currentText()

    def show_engine(self, info: Any) -> None:
        """What the engine has (an ``engine.EngineInfo``): short here, everything in the tooltip and Settings."""
        self.engine_label.setText(tr("Engine: {summary}").format(summary=info.short))
        self.engine_label.setToolTip(info.summary)
        self.settings.show_engine(tr("Engine: {summary}").format(summary=info.summary))

    def show_state(self, text: str) -> None:
        """A state without versions yet: "checking...", "none found", what went wrong."""
        self.engine_label.setText(text)
        self.engine_label.setToolTip(text)
        self.settings.show_engine(text)
