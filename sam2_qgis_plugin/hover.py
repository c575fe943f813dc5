"""The outline under the resting mouse, asked of the engine off the GUI thread, newest only.

The map tool asks with ``ask(seq, params, outline)`` each time the mouse comes to rest; one thread sends the
newest request still waiting (older ones are dropped before they are sent: the mouse has left them), turns the
answer into the geometry to draw (``outline(result)``: parsing and reprojecting thousands of vertices is work the
map's thread must not do), and both come back on the GUI thread through ``answered(seq, (result, geometry))``.
The worker answers the newest hover only too (core/jobs/worker.py), so a request that waited behind an encode is
not decoded for nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from qgis.PyQt.QtCore import QObject, pyqtSignal

from .engine import EngineError


class HoverRequests(QObject):
    """``send(params)`` runs in the thread (the session's ``hover``); answers arrive as ``answered``."""

    answered = pyqtSignal(int, object)  # the request's sequence number, (the engine's answer, its geometry) or None

    def __init__(self, send: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        super().__init__()
        self.send = send
        self._waiting: tuple[int, dict[str, Any], Callable[[dict[str, Any]], Any]] | None = None
        self._wake = threading.Condition()
        self._stopped = False
        self.sent = 0  # requests sent to the engine (the others were left behind before they were sent)
        self._thread = threading.Thread(target=self._run, name="sam2-hover", daemon=True)
        self._thread.start()

    def ask(self, seq: int, params: dict[str, Any], outline: Callable[[dict[str, Any]], Any]) -> None:
        """The newest hover: replaces one still waiting."""
        with self._wake:
            self._waiting = (seq, params, outline)
            self._wake.notify()

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(lambda: self._waiting is not None or self._stopped)
                if self._stopped:
                    return
                assert self._waiting is not None
                (seq, params, outline), self._waiting = self._waiting, None
            try:
                self.sent += 1
                result = self.send(params)
                answer: tuple[dict[str, Any], Any] | None = (
                    result,
                    outline(result) if result.get("polygons") else None,
                )
            except (EngineError, OSError):  # the next click says what is wrong (and restarts the engine)
                answer = None
            if not self._stopped:
                self.answered.emit(seq, answer)
