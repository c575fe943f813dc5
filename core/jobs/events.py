"""One event stream for every long command (``--events -`` or ``--events FILE``): JSON lines.

    {"event": "progress", "fraction": 0.42, "stage": "...", ...}   how far, and what it is doing
    {"event": "warning", "message": "..."}
    {"event": "result", ...}                                         last line of a job that ended: its outputs
    {"event": "error", "message": "...", "expected": true}          last line of a job that failed

``expected`` is true when the analyst can fix the cause (bad input, missing file, cancelled) and false for
a bug (the traceback is on stderr). With ``--events -`` the job is driven by a program (the plugin): it also
reads its standard input, where a line ``cancel`` asks it to stop at the next safe point (training saves its
resumable state and ends with a ``result`` that says ``"stopped": true``; other jobs end with an ``error``
whose ``cancelled`` is true and keep nothing half-written). A job that also read its request there
(``--request -``) stops the same way when its standard input ends: its driver has gone (QGIS closed or
crashed). Without ``--events``, progress is a bar on a
terminal (or a line now and then on stderr) and the result is printed as JSON on stdout.

The worker (core/jobs/worker.py) speaks the same events for its long requests, tagged with the request's ``id``.
"""

from __future__ import annotations

import json
import math
import sys
import threading
import time
from typing import IO, Any

CANCEL = "cancel"


def json_line(message: dict[str, Any]) -> str:
    """One JSON line; NaN and infinity (never valid JSON) become null."""
    return json.dumps(_finite(message), default=str, allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def progress_event(fraction: float, **info: Any) -> dict[str, Any]:
    """``{"event": "progress", "fraction": ..., **info}``: how far (0-1) and what the job is doing."""
    return {"event": "progress", "fraction": round(float(fraction), 4), **info}


def warning_event(message: str) -> dict[str, Any]:
    return {"event": "warning", "message": message}


class JobEvents:
    """The progress, warnings and outcome of one command, and the cancel request of whoever drives it."""

    def __init__(self, target: str | None, stdin: IO[str] | None = None, stop_on_eof: bool = False) -> None:
        self.to_stdout = target == "-"
        self.stop_on_eof = stop_on_eof  # the end of stdin asks the job to stop: its driver is gone
        self.stream: IO[str] | None = None
        if target is not None:
            self.stream = sys.stdout if self.to_stdout else open(target, "a", encoding="utf-8")  # noqa: SIM115
        self.cancel_requested = threading.Event()
        self._bar: Any = None
        self._last_line = 0.0
        self._lock = threading.Lock()
        if self.stream is None and sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=1000, unit="‰", file=sys.stderr)
        if self.to_stdout:
            threading.Thread(target=self._read_controls, args=(stdin or sys.stdin,), daemon=True).start()

    def _read_controls(self, stdin: IO[str]) -> None:
        try:
            for line in stdin:
                if line.strip() == CANCEL:
                    self.cancel_requested.set()
        except (OSError, ValueError):  # no readable stdin: nobody can cancel through it
            return
        if self.stop_on_eof:
            self.cancel_requested.set()

    def cancelled(self) -> bool:
        """True once the driver asked the job to stop (the ``cancelled`` callable of the engine's jobs)."""
        return self.cancel_requested.is_set()

    def _write(self, event: dict[str, Any]) -> None:
        assert self.stream is not None
        with self._lock:
            self.stream.write(json_line(event) + "\n")
            self.stream.flush()

    def __call__(self, fraction: float, **info: Any) -> None:
        """Progress: ``fraction`` done in [0, 1] and what it is doing (a ``warning=`` keyword is a warning)."""
        if "warning" in info:
            self.warning(info.pop("warning"))
            if not info:
                return
        if self.stream is not None:
            self._write(progress_event(fraction, **info))
        elif self._bar is not None:
            self._bar.n = round(fraction * 1000)
            self._bar.set_postfix({k: round(v, 4) if isinstance(v, float) else v for k, v in info.items()})
        elif "iou" in info:
            scores = ", ".join(f"{k} {info[k]:.4f}" for k in ("iou", "f1", "precision", "recall") if k in info)
            print(f"epoch {info.get('epoch')}: {scores}", file=sys.stderr)
        elif time.monotonic() - self._last_line > 2 or fraction >= 1:
            self._last_line = time.monotonic()
            print(f"{fraction:6.1%} {info.get('stage', '')}".rstrip(), file=sys.stderr)

    def warning(self, message: str) -> None:
        if self.stream is not None:
            self._write(warning_event(message))
        else:
            print(f"warning: {message}", file=sys.stderr)

    def result(self, data: dict[str, Any]) -> None:
        """The job's outputs: the last event on the stream; printed as JSON on stdout unless the stream is."""
        if self.stream is not None:
            self._write({"event": "result", **data})
        if not self.to_stdout:
            print(json.dumps(json.loads(json_line(data)), indent=2))

    def error(self, message: str, expected: bool, cancelled: bool = False) -> None:
        """The job failed: the last event on the stream, and ``error: MESSAGE`` on stderr."""
        if self.stream is not None:
            self._write({"event": "error", "message": message, "expected": expected, "cancelled": cancelled})
        print(f"error: {message}", file=sys.stderr)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        if self.stream is not None and not self.to_stdout:
            self.stream.close()
