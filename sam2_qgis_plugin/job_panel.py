"""The panel's view of the plugin's running job: what it is doing (the task's description: epoch, IoU, tile
counts), its progress, and a Cancel button, as QGIS's task manager shows them in the status bar."""

from __future__ import annotations

from typing import Any

from qgis.core import QgsTask
from qgis.PyQt.QtCore import QObject, pyqtSlot

from .i18n import tr

ACTIVE = (QgsTask.TaskStatus.Queued, QgsTask.TaskStatus.OnHold, QgsTask.TaskStatus.Running)


class JobMonitor(QObject):
    """Follows the plugin's tasks; shows the newest one still active in the dock's job row. Lives in the GUI
    thread, so that the tasks' signals from their threads reach it queued."""

    def __init__(self, dock: Any) -> None:
        super().__init__(dock)
        self.dock = dock
        self.tasks: list[QgsTask] = []
        dock.job.job_cancel_button.clicked.connect(self.cancel)
        self.show_current()

    def follow(self, task: QgsTask) -> None:
        self.tasks.append(task)
        task.progressChanged.connect(self.changed)
        task.statusChanged.connect(self.changed)
        self.show_current()

    @pyqtSlot(float)
    @pyqtSlot(int)
    def changed(self, *_: Any) -> None:
        self.show_current()

    def current(self) -> QgsTask | None:
        """The newest followed task still queued or running (finished ones are dropped: QGIS deletes them)."""
        alive = []
        for task in self.tasks:
            try:
                if task.status() in ACTIVE:
                    alive.append(task)
            except RuntimeError:  # deleted by QGIS's task manager
                continue
        self.tasks = alive
        return alive[-1] if alive else None

    def show_current(self) -> None:
        task = self.current()
        self.dock.job.setVisible(task is not None)
        if task is not None:
            self.dock.job.job_label.setText(task.description())
            self.dock.job.job_progress.setValue(round(task.progress()))

    def cancel(self) -> None:
        """Cancel the job shown (a training stops at a safe point and can be resumed)."""
        task = self.current()
        if task is not None:
            task.cancel()
            self.dock.job.job_label.setText(tr("{task}: cancelling...").format(task=task.description()))
