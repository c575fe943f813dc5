"""The connection to the engine: find a Python that has torch and sam2, run ``python -m core worker`` in it,
and talk JSON lines (protocol: core/jobs/worker.py). Nothing here imports torch or sam2.

Requests are synchronous for the caller (a click waits for its polygons, tens of milliseconds) and may be
made from a QgsTask thread (encoding); a reader thread routes responses and progress events by request id.
A worker that dies raises ``WorkerDiedError``; the next request starts a new one.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .log import log

PLUGIN_DIR = Path(__file__).resolve().parent
PYTHON_ENV = "SAM2_QGIS_PYTHON"
#: Engine processes open no console window on Windows.
NO_WINDOW = getattr(subprocess, "CREATE_NO_WINDOW", 0) if sys.platform == "win32" else 0
PROBE = (
    "import json, platform, torch, sam2, rasterio, pyogrio, shapely, importlib.metadata as m; "
    "mps = bool(getattr(torch.backends, 'mps', None)) and torch.backends.mps.is_available(); "
    "print(json.dumps({'python': platform.python_version(), 'torch': torch.__version__, "
    "'sam2': m.version('rf-sam-2'), 'cuda': torch.cuda.is_available(), 'mps': mps, "
    "'cache': str(__import__('core.io.cache', fromlist=['cache_root']).cache_root())}))"
)
INSTALL_HINT = (
    "The SAM 2 engine needs a Python with torch, rf-sam-2, rasterio, pyogrio and shapely. The simplest: "
    "Settings... > Install engine in the SAM 2 panel. By hand: 'python3 -m venv sam2-env' and "
    "'sam2-env/bin/pip install -r engine_requirements.txt' (the file is in the plugin's folder; on Windows "
    "sam2-env\\Scripts\\pip), then choose its interpreter in the SAM 2 panel (Settings... > Python) and press Check."
)


class EngineError(Exception):
    """An error the engine reported: ``kind`` is its type, ``expected`` whether the user can fix it."""

    def __init__(self, kind: str, message: str, expected: bool = True) -> None:
        super().__init__(message)
        self.kind, self.expected = kind, expected


class WorkerDiedError(EngineError):
    """The worker process ended; ``detail`` says how (exit code or signal, its last line)."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(
            "WorkerDied",
            f"the SAM 2 engine stopped unexpectedly ({detail}); it restarts on the next action",
            expected=False,
        )


def engine_root() -> Path:
    """The folder holding the ``core`` package: inside the plugin when packaged, beside it in a checkout."""
    return PLUGIN_DIR if (PLUGIN_DIR / "core").is_dir() else PLUGIN_DIR.parent


def candidate_pythons(configured: str | None = None) -> list[str]:
    """Interpreters to try, best first: the configured one, $SAM2_QGIS_PYTHON, the project's .venv."""
    found = [configured, os.environ.get(PYTHON_ENV)]
    for venv in (engine_root() / ".venv", PLUGIN_DIR / ".venv"):
        found.append(str(venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")))
    return [p for p in dict.fromkeys(found) if p and Path(p).exists()]


@dataclass(frozen=True)
class EngineInfo:
    python: str
    versions: dict[str, Any]

    @property
    def device(self) -> str:
        v = self.versions
        return "CUDA" if v.get("cuda") else "Apple MPS" if v.get("mps") else "CPU only"

    @property
    def summary(self) -> str:
        """Everything, for the Settings window and tooltips: versions, the device and the cache folder."""
        v = self.versions
        return (
            f"Python {v.get('python')}, torch {v.get('torch')}, sam2 {v.get('sam2')}, {self.device}; "
            f"weights and embeddings cached in {v.get('cache')}"
        )

    @property
    def short(self) -> str:
        """What the panel's one line says: torch, sam2 and the device (a path would not wrap in a narrow dock)."""
        v = self.versions
        return f"torch {v.get('torch')}, sam2 {v.get('sam2')}, {self.device}"


def probe(python: str, timeout: float = 120) -> EngineInfo:
    """What ``python`` offers; EngineError with install advice when torch or sam2 is missing."""
    try:
        result = subprocess.run(
            [python, "-c", PROBE],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=engine_root(),
            creationflags=NO_WINDOW,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise EngineError("NoEngine", f"cannot run {python}: {error}. {INSTALL_HINT}") from None
    if result.returncode != 0:
        missing = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "unknown error"
        raise EngineError("NoEngine", f"{python} cannot run the engine ({missing}). {INSTALL_HINT}")
    return EngineInfo(python, json.loads(result.stdout.strip().splitlines()[-1]))


class WorkerClient:
    """One ``python -m core worker`` process and its requests."""

    def __init__(self, python: str, cache_dir: str | None = None) -> None:
        self.python, self.cache_dir = python, cache_dir
        self.process: subprocess.Popen[str] | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, queue.Queue[dict[str, Any]]] = {}
        self._listeners: dict[int, Callable[[dict[str, Any]], None]] = {}
        self._lock = threading.Lock()
        self._serial = threading.Lock()  # the worker serves one request at a time
        self.stderr_tail: list[str] = []
        self.starts = 0
        self.current_id = 0

    # -- process ------------------------------------------------------------------------------------------

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def restarts(self) -> int:
        return max(0, self.starts - 1)

    def start(self) -> None:
        self.starts += 1
        command = [self.python, "-m", "core", "worker"] + (["--cache-dir", self.cache_dir] if self.cache_dir else [])
        process = self.process = subprocess.Popen(
            command,
            cwd=engine_root(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
            creationflags=NO_WINDOW,
        )
        ready: queue.Queue[dict[str, Any]] = queue.Queue()
        with self._lock:
            self._pending[0] = ready
        # the threads get this process, not the attribute: a stop() from another thread may clear that meanwhile
        threading.Thread(target=self._read, args=(process,), daemon=True).start()
        threading.Thread(target=self._drain, args=(process,), daemon=True).start()
        try:
            ready.get(timeout=120)
        except queue.Empty:
            self.stop()
            raise WorkerDiedError("it did not start within 2 minutes") from None

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            key = 0 if message.get("event") == "ready" else message.get("id")
            with self._lock:
                listener = self._listeners.get(key) if "event" in message and key else None
                target = self._pending.get(key) if listener is None else None
            if listener is not None:
                listener(message)
            elif target is not None:
                target.put(message)
        with self._lock:  # the process ended: wake every waiter
            for waiting in self._pending.values():
                waiting.put({"error": {"type": "WorkerDied", "message": "", "expected": False}})

    def _drain(self, process: subprocess.Popen[str]) -> None:
        assert process.stderr is not None
        for line in process.stderr:
            self.stderr_tail = [*self.stderr_tail[-20:], line.rstrip()]
            log(f"worker: {line.rstrip()}")

    def stop(self, timeout: float = 5) -> None:
        """Ask the worker to shut down; kill it if it does not within ``timeout`` seconds."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        try:
            assert process.stdin is not None
            process.stdin.write(json.dumps({"id": -1, "method": "shutdown"}) + "\n")
            process.stdin.flush()
            process.wait(timeout=timeout)
        except (OSError, subprocess.TimeoutExpired, ValueError):
            process.kill()
            process.wait(timeout=timeout)

    # -- requests -----------------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        timeout: float = 600,
        on_event: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Send one request and wait for its result; EngineError for a reported error, WorkerDiedError if the
        process ended before or during it (the next request starts a new one, which knows nothing yet)."""
        with self._serial:
            if not self.alive():
                if self.process is not None:  # it ended since the last request: its model and rasters are gone
                    died, self.process = self.process, None
                    raise WorkerDiedError(self.death_detail(died))
                self.start()
            request_id = next(self._ids)
            answer: queue.Queue[dict[str, Any]] = queue.Queue()
            with self._lock:
                self._pending[request_id] = answer
                if on_event is not None:
                    self._listeners[request_id] = on_event
            try:
                process = self.process
                assert process is not None
                assert process.stdin is not None
                self.current_id = request_id
                process.stdin.write(json.dumps({"id": request_id, "method": method, "params": params or {}}) + "\n")
                process.stdin.flush()
                message = answer.get(timeout=timeout)
            except (OSError, ValueError):
                raise WorkerDiedError(self.death_detail(self.process)) from None
            except queue.Empty:
                raise EngineError("Timeout", f"the engine did not answer {method} within {timeout:.0f} s") from None
            finally:
                with self._lock:
                    self._pending.pop(request_id, None)
                    self._listeners.pop(request_id, None)
        if "error" in message:
            error = message["error"]
            if error.get("type") == "WorkerDied":
                gone, self.process = self.process, None
                raise WorkerDiedError(self.death_detail(gone))
            raise EngineError(error.get("type", "Error"), error.get("message", ""), bool(error.get("expected")))
        return dict(message.get("result", {}))

    def death_detail(self, process: subprocess.Popen[str] | None) -> str:
        """Why a worker ended: its exit code (a signal, for a killed one) and the last line it wrote."""
        code = None
        if process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = process.wait(timeout=2)
        parts = [f"exit code {code}" if code is not None else "", self.stderr_tail[-1] if self.stderr_tail else ""]
        if code is not None and code < 0:
            parts[0] = f"killed by signal {-code}" + (": out of memory?" if -code == 9 else "")
        return "; ".join(part for part in parts if part) or "no message"

    def cancel_current(self) -> None:
        """Ask the worker to stop the request it is running (it answers with a CancelledError)."""
        process = self.process
        if process is not None and process.poll() is None and process.stdin is not None:
            process.stdin.write(json.dumps({"method": "cancel", "params": {"id": self.current_id}}) + "\n")
            process.stdin.flush()
