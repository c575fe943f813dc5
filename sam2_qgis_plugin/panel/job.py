"""The running job: what it does, its progress and Cancel (job_panel.JobMonitor drives it)."""

from __future__ import annotations

from qgis.PyQt.QtWidgets import QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from ..i18n import tr
from .widgets import widget_and_button


class JobSection(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.job_label = QLabel("", self)
        self.job_label.setWordWrap(True)
        self.job_progress = QProgressBar(self)
        self.job_progress.setRange(0, 100)
        self.job_cancel_button = QPushButton(tr("Cancel"), self)
        self.job_cancel_button.setToolTip(
            tr("Stop the running job (a fine-tuning stops at a safe point and can be resumed)")
        )
        layout.addWidget(self.job_label)
        layout.addLayout(widget_and_button(self.job_progress, self.job_cancel_button))
