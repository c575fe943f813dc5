"""The engine as a persistent process for the QGIS plugin: ``python -m core worker``.

Protocol (version 1): JSON Lines on stdin/stdout, one object per line, UTF-8. Nothing else is ever written to
stdout: the worker moves file descriptor 1 to stderr at start and keeps a private copy for protocol lines,
so prints, warnings and native libraries' output go to stderr.

Startup: the worker writes ``{"event": "ready", "protocol": 1, "versions": {...}}``.

Request:  ``{"id": 7, "method": "predict", "params": {...}}``. Requests run one at a time, in order.
Response: ``{"id": 7, "result": {...}}`` or ``{"id": 7, "error": {"type": "InvalidInputError", "message": "...",
          "expected": true}}``. ``expected`` is false for internal errors (their traceback goes to stderr).
Events:   ``{"id": 7, "event": "progress", "fraction": 0.5, "done": 3, "total": 6}`` while request 7 runs;
          ``{"id": 7, "event": "warning", "message": "..."}``.
Cancel:   ``{"method": "cancel", "params": {"id": 7}}`` is handled as soon as it is read, even while request 7
          runs; request 7 then ends with an error of type ``CancelledError``.

Methods and their params (coordinates in the raster's CRS unless ``crs`` is given; polygons come back in the
raster's CRS, GeoJSON-like, (x, y) order):
- ``ping`` -> ``{"pong": true}``
- ``info`` -> versions of python, torch, sam2; ``cuda``, ``mps`` availability; the default device; ``threads``
- ``load_model`` ``{"checkpoint", "model"?, "device"?: "auto", "image_size"?, "encoder"?}`` -> ``{"model",
  "label", "image_size", "device", "encoder", "warning"?}`` (``warning``: int8 not checked close to exact here)
- ``open_raster`` ``{"path", "bands"?: [r, g, b]}`` -> ``{"raster_id", "width", "height", "crs", "warnings"}``
- ``encode_extent`` ``{"raster_id", "extent": [xmin, ymin, xmax, ymax], "crs"?}`` (progress events) ->
  ``{"tiles", "encoded"}``
- ``prepare`` (same params as ``predict``; progress events) -> ``{"window", "encoded"}``: encodes the window
  a predict with these prompts will use, so that the predict itself is quick
- ``predict`` ``{"raster_id", "points": [[x, y], ...], "labels": [1|0, ...], "box"?: [xmin, ymin, xmax, ymax],
  "crs"?, "min_pixels"?, "simplify"?, "fill_holes"?, "right_angles"?, "min_area"?, "max_area"? (m²),
  "min_diameter"?, "max_diameter"? (m), "min_compactness"?, "largest_part"?}`` (core.geometry.polygons.PolygonOptions)
  -> ``{"polygons": [...], "score", "window": [col, row, width, height], "crs"}``
- ``close_raster`` ``{"raster_id"}`` -> ``{"closed": true}``
- ``shutdown`` -> ``{"bye": true}``, then the process exits 0 (it also exits at end of input).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import platform
import queue
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from core.errors import CancelledError, InvalidInputError, Sam2QgisError
from core.jobs.events import json_line, progress_event, warning_event
from core.models.allocator import give_back_freed_memory

logger = logging.getLogger(__name__)

PROTOCOL = 1
MAX_MESSAGE = 2000
IDLE_SECONDS = 5.0  # idle this long, the worker gives freed memory back
#: OpenMP's threads sleep when they run out of work instead of spinning: beside a busy QGIS the worker's clicks
#: and encodes are faster (one busy core: click 103 -> 91 ms, encode 3.8 -> 3.1 s) and on an idle machine no
#: slower (bench/bench_worker_threads.py). Set before torch loads; an analyst's own setting is kept.
THREAD_POLICY = {"OMP_WAIT_POLICY": "PASSIVE"}


class Worker:
    """Request dispatch and state: one model, any number of open rasters, one embedding cache."""

    def __init__(self, out: TextIO, cache_folder: Path | None = None) -> None:
        self.out = out
        self._write_lock = threading.Lock()
        self.cache_folder = cache_folder
        self.loaded: Any = None
        self.rasters: dict[str, Any] = {}
        self.segmenters: dict[str, Any] = {}
        self.cache: Any = None
        self._ids = itertools.count(1)
        self.cancel_flags: dict[Any, threading.Event] = {}
        self.latest_hover: Any = None  # the newest hover read (its id); older ones are answered superseded
        # hovers answered with an outline, dropped before decoding, dropped after decoding (the mouse moved on
        # meanwhile: a stale decode), and answered "not encoded"
        self.hovers = {"decoded": 0, "superseded": 0, "stale_decoded": 0, "not_encoded": 0}

    # -- output ---------------------------------------------------------------------------------------

    def send(self, message: dict[str, Any]) -> None:
        with self._write_lock:
            self.out.write(json_line(message) + "\n")
            self.out.flush()

    def send_error(self, request_id: Any, kind: str, message: str, expected: bool) -> None:
        """An error response; a message echoing a huge input is cut to ``MAX_MESSAGE`` characters."""
        if len(message) > MAX_MESSAGE:
            message = f"{message[: MAX_MESSAGE // 2]} ... ({len(message)} characters) ... {message[-200:]}"
        self.send({"id": request_id, "error": {"type": kind, "message": message, "expected": expected}})

    # -- methods --------------------------------------------------------------------------------------

    def ping(self, params: dict[str, Any], request_id: Any) -> dict[str, Any]:
        return {"pong": True}

    def info(self, params: dict[str, Any], request_id: Any) -> dict[str, Any]:
        import sam2  # noqa: F401
        import torch

        from core.io.cache import cache_root
        from core.models.device import choose_device

        mps = bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
        return {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "sam2": _version("rf-sam-2"),
            "cuda": torch.cuda.is_available(),
            "mps": mps,
            "device": str(choose_device("auto")),
            "threads": {"torch": torch.get_num_threads(), "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "")},
            "cache": str(cache_root()),  # as the engine's probe says it (sam2_qgis_plugin.engine.PROBE)
            "hovers": dict(self.hovers),
        }

    def load_model(self, params: dict[str, Any], request_id: Any) -> dict[str, Any]:
        from core.models.loader import load_model

        self.loaded = load_model(
            _require(params, "checkpoint"),
            params.get("model"),
            params.get("device", "auto"),
            params.get("image_size"),
            params.get("encoder", "exact"),
        )
        self.segmenters.clear()
        return {
            "model": self.loaded.spec.name,
            "label": self.loaded.spec.label,
            "image_size": self.loaded.image_size,
            "device": str(self.loaded.device),
            "encoder": self.loaded.encoder,
            **({"warning": self.loaded.encoder_warning} if self.loaded.encoder_warning else {}),
        }

    def open_raster(self, params: dict[str, Any], request_id: Any) -> dict[str, Any]:
        from core.io.raster import RasterSource

        bands = params.get("bands")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raster = RasterSource(_require(params, "path"), tuple(bands) if bands else None)
        raster_id = f"r{next(self._ids)}"
        self.rasters[raster_id] = raster
        for message in raster.warnings:
            self.send({"id": request_id, **warning_event(message)})
        return {
            "raster_id": raster_id,
            "width": raster.width,
            "height": raster.height,
            "crs": raster.crs.to_wkt() if raster.crs else None,
            "warnings": raster.warnings,
        }

    def close_raster(self, params: dict[str, Any], request_id: Any) -> dict[str, Any]:
        raster_id = _require(params, "raster_id")
        self._raster(raster_id).close()
        del self.rasters[raster_id]
        self.segmenters.pop(raster_id, None)
        return {"closed": True}

    def encode_extent(self, params: dict[str, Any], request_id: Any) -> dict[str, Any]:
        segmenter = self._segmenter(_require(params, "raster_id"))
        xmin, ymin, xmax, ymax = (float(v) for v in _require(params, "extent"))
        windows = segmenter.windows_in_extent((xmin, ymin, xmax, ymax), params.get("crs"))
        flag = self.cancel_flags.setdefault(request_id, threading.Event())
        encoded = segmenter.encoder.encode(windows, progress=self._progress(request_id), cancelled=flag.is_set)
        return {"tiles": len(windows), "encoded": encoded}

    def predict(self, params: dict[str, Any], request_id: Any) -> dict[str, Any]:
        segmenter = self._segmenter(_require(params, "raster_id"))
        return self._outline(params, segmenter, segmenter.decode_prompts(self._prompts(params)))

    def _outline(
        self, params: dict[str, Any], segmenter: Any, decoded: Any, cancelled: Callable[[], bool] | None = None
    ) -> dict[str, Any]:
        from core.geometry.polygons import PolygonOptions

        result = segmenter.outline(decoded, PolygonOptions.from_mapping(params), cancelled)
        raster = self.rasters[params["raster_id"]]
        return {
            "polygons": result.polygons,
            "score": result.score,
            "window": [int(v) for v in result.window.flatten()],
            "crs": raster.crs.to_wkt() if raster.crs else None,
        }

    def hover(self, params: dict[str, Any], request_id: Any) -> dict[str, Any]:
        """``predict``'s answer for the mouse's resting place, newest only: a hover that a newer hover (or a
        click) has followed is answered ``{"superseded": true}`` without decoding (or, when the newer one came
        during its decode or its tracing, as soon as the stage in hand ends); one on a tile not encoded yet
        ``{"encoded": false, "window": ...}`` without encoding (the caller encodes in the background). An answer
        says what its decode and outline cost (``ms``)."""
        if request_id != self.latest_hover:
            self.hovers["superseded"] += 1
            return {"superseded": True}
        segmenter = self._segmenter(_require(params, "raster_id"))
        prompts = self._prompts(params)
        window, encoded = segmenter.encoded_window(prompts)
        if not encoded:
            self.hovers["not_encoded"] += 1
            return {"encoded": False, "window": [int(v) for v in window.flatten()]}

        def left_behind() -> bool:
            return request_id != self.latest_hover

        started = time.perf_counter()
        try:  # the mouse moving on stops the decode, or the outline's tracing, at its next stage
            decoded = segmenter.decode_prompts(prompts, left_behind)
            traced = time.perf_counter()
            answer = self._outline(params, segmenter, decoded, left_behind)
        except CancelledError:
            self.hovers["stale_decoded"] += 1
            return {"superseded": True}
        self.hovers["decoded"] += 1
        spent = {"decode": (traced - started) * 1000, "outline": (time.perf_counter() - traced) * 1000}
        return {"encoded": True, **answer, "ms": {stage: round(ms, 1) for stage, ms in spent.items()}}

    def prepare(self, params: dict[str, Any], request_id: Any) -> dict[str, Any]:
        """Encode (with progress events) the window a ``predict`` with these prompts would use."""
        segmenter = self._segmenter(_require(params, "raster_id"))
        points, box = segmenter.to_pixels(self._prompts(params))
        window = segmenter.window_for(points, box)
        flag = self.cancel_flags.setdefault(request_id, threading.Event())
        encoded = segmenter.encoder.encode([window], progress=self._progress(request_id), cancelled=flag.is_set)
        return {"window": [int(v) for v in window.flatten()], "encoded": encoded}

    def _progress(self, request_id: Any) -> Callable[..., None]:
        """Progress events of request ``request_id`` (core/jobs/events.py's, tagged with the id)."""
        return lambda fraction, **info: self.send({"id": request_id, **progress_event(fraction, **info)})

    def _prompts(self, params: dict[str, Any]) -> Any:
        from core.inference.segment import Prompts

        box = params.get("box")
        return Prompts(
            points=tuple(tuple(p) for p in params.get("points", [])),
            labels=tuple(params.get("labels", [])),
            box=tuple(box) if box else None,
            crs=params.get("crs"),
        )

    def shutdown(self, params: dict[str, Any], request_id: Any) -> dict[str, Any]:
        return {"bye": True}

    # -- helpers --------------------------------------------------------------------------------------

    def _raster(self, raster_id: str) -> Any:
        try:
            return self.rasters[raster_id]
        except KeyError:
            raise InvalidInputError(f"no open raster {raster_id!r}: call open_raster first") from None

    def _segmenter(self, raster_id: str) -> Any:
        from core.inference.embeddings import EmbeddingCache
        from core.inference.segment import ClickSegmenter

        raster = self._raster(raster_id)
        if self.loaded is None:
            raise InvalidInputError("no model loaded: call load_model first")
        if self.cache is None:
            self.cache = EmbeddingCache(folder=self.cache_folder) if self.cache_folder else EmbeddingCache.default()
        if raster_id not in self.segmenters:
            self.segmenters[raster_id] = ClickSegmenter(self.loaded, raster, self.cache)
        return self.segmenters[raster_id]

    METHODS = (
        "ping",
        "info",
        "load_model",
        "open_raster",
        "close_raster",
        "encode_extent",
        "prepare",
        "predict",
        "hover",
        "shutdown",
    )

    def handle(self, request: dict[str, Any]) -> bool:
        """Run one request and send its response; False once the worker should stop."""
        request_id = request.get("id")
        method = request.get("method")
        if method not in self.METHODS:
            self.send_error(request_id, "UnknownMethod", f"unknown method {method!r}: use one of {self.METHODS}", True)
            return True
        handler: Callable[[dict[str, Any], Any], dict[str, Any]] = getattr(self, str(method))
        try:
            result = handler(request.get("params") or {}, request_id)
            self.send({"id": request_id, "result": result})
        except (Sam2QgisError, OSError) as error:  # the analyst can fix it (OSError: a path too long, no access)
            self.send_error(request_id, type(error).__name__, str(error), expected=True)
        except Exception as error:  # reported, never fatal: the worker keeps serving
            logger.exception("request %s (%s) failed", request_id, method)
            self.send_error(request_id, type(error).__name__, str(error), expected=False)
        finally:
            self.cancel_flags.pop(request_id, None)
        return method != "shutdown"


def _require(params: dict[str, Any], name: str) -> Any:
    if name not in params:
        raise InvalidInputError(f"missing parameter {name!r}")
    return params[name]


def _version(package: str) -> str | None:
    import importlib.metadata

    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _protocol_stdout() -> TextIO:
    """A private copy of stdout for protocol lines; fd 1 and sys.stdout then point at stderr."""
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return protocol


def set_thread_policy() -> None:
    """The worker's ``THREAD_POLICY``, unless the environment says otherwise (call before torch is imported)."""
    for name, value in THREAD_POLICY.items():
        os.environ.setdefault(name, value)


def serve(stdin: TextIO | None = None, cache_folder: Path | None = None) -> int:
    """Read requests until ``shutdown`` or end of input. Cancels are applied as soon as they are read."""
    stdin = stdin or sys.stdin
    worker = Worker(_protocol_stdout(), cache_folder)
    requests: queue.Queue[dict[str, Any] | None] = queue.Queue()

    def refuse(message: str) -> None:
        worker.send_error(None, "ProtocolError", message, expected=True)

    def read() -> None:
        lines = getattr(stdin, "buffer", stdin)  # bytes when it can: a line of bad UTF-8 is refused, not fatal
        try:
            for raw in lines:
                try:
                    line = raw.decode("utf-8") if isinstance(raw, bytes) else raw
                except UnicodeDecodeError as error:
                    refuse(f"a request line is not UTF-8 ({error.reason} at byte {error.start}): send UTF-8 JSON")
                    continue
                if not line.strip():
                    continue
                try:
                    request = json.loads(line)
                    if not isinstance(request, dict):
                        raise ValueError("a request is a JSON object")
                except ValueError as error:
                    refuse(f"not a JSON request line ({error})")
                    continue
                if request.get("method") == "cancel":
                    target = (request.get("params") or {}).get("id")
                    worker.cancel_flags.setdefault(target, threading.Event()).set()
                    continue
                if request.get("method") in ("hover", "predict"):  # what the mouse did last: older hovers are stale
                    worker.latest_hover = request.get("id") if request.get("method") == "hover" else None
                requests.put(request)
        finally:
            requests.put(None)  # end of input (or a reader that failed): the worker ends instead of hanging

    threading.Thread(target=read, name="worker-stdin", daemon=True).start()
    worker.send({"event": "ready", "protocol": PROTOCOL, "versions": {"python": platform.python_version()}})
    while (request := _next_request(requests)) is not None:
        if not worker.handle(request):
            break
    return 0


def _next_request(requests: queue.Queue[dict[str, Any] | None]) -> dict[str, Any] | None:
    """The next request; after ``IDLE_SECONDS`` without one, what the last requests freed goes back to the
    system first (core.models.allocator), so that an idle worker holds no more than glibc's defaults would."""
    try:
        return requests.get(timeout=IDLE_SECONDS)
    except queue.Empty:
        give_back_freed_memory()
        return requests.get()


__all__ = ["PROTOCOL", "CancelledError", "Worker", "serve", "set_thread_policy"]
