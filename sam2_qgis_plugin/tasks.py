"""One QgsTask base for long jobs: the work runs in a background thread, its exception is kept, and
``finished`` (main thread) reports the result or the error. Cancel asks the engine to stop; a job that stops
at a safe point and returns a result (a training saves a resumable state) completes: QGIS does not call it
failed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qgis.core import QgsRasterBlockFeedback, QgsTask
from qgis.PyQt.QtCore import Qt

from .i18n import tr


class EngineTask(QgsTask):
    """``work(task)`` runs in the background; ``on_done(result)`` or ``on_error(exception)`` on the main thread.

    ``work`` may call ``task.setProgress`` and should check ``task.isCanceled()``; ``on_cancel`` (for example
    the worker client's ``cancel_current``) is called when the analyst cancels, and ``task.feedback`` is
    cancelled then too.
    """

    def __init__(
        self,
        description: str,
        work: Callable[[EngineTask], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
        on_cancel: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(description, QgsTask.Flag.CanCancel)
        self.title = description  # the description changes with progress; this is what the job is
        self.work, self.on_done, self.on_error, self.on_cancel = work, on_done, on_error, on_cancel
        # for QGIS work inside ``work`` (rendering a web layer): its progress is the task's, cancel reaches it
        self.feedback = QgsRasterBlockFeedback()
        self.feedback.progressChanged.connect(self.setProgress, Qt.ConnectionType.DirectConnection)
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> bool:
        try:
            self.result = self.work(self)
            return True
        except Exception as error:  # reported in finished(), on the main thread
            self.error = error
            return False

    def cancel(self) -> None:
        self.setDescription(tr("{task}: stopping...").format(task=self.title))  # no stale time left on show
        self.feedback.cancel()
        if self.on_cancel is not None:
            self.on_cancel()
        super().cancel()

    def finished(self, result: bool) -> None:
        if result:
            self.on_done(self.result)
        elif self.error is not None:
            self.on_error(self.error)
        else:
            self.on_error(InterruptedError(tr("{task} was cancelled").format(task=self.description())))
