"""Long engine jobs (fine-tuning, whole-raster prediction, downloads) as their own ``python -m core``
processes, all through one contract: the job's options go in as data (``--request -``: one JSON line on
stdin, checked by the engine's own parser, core/jobs/requests.py) and its events come out (``--events -``,
core/jobs/events.py).

The job's stdout is its event stream (``progress``, ``warning``, then ``result`` or ``error``); its stderr goes
to the SAM 2 log. Cancel writes ``cancel`` on the job's stdin and waits ``grace`` seconds for it to stop at a
safe point (training saves a resumable state; prediction writes nothing half-done); a job that has not ended
by then is terminated, then killed. No signals or process groups: the same path runs on Windows, where the
job gets no console window.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .engine import NO_WINDOW, EngineError, engine_root
from .i18n import tr
from .log import log


def run_core_job(
    python: str,
    command: str,
    options: dict[str, Any],
    on_progress: Callable[[float, dict[str, Any]], None],
    is_cancelled: Callable[[], bool],
    grace: float = 20.0,
    on_warning: Callable[[str], None] | None = None,
    flags: Sequence[str] = (),
) -> dict[str, Any]:
    """Run the engine's ``command`` (``train``, ``predict``, ``weights download``, ...) with ``options``
    (``{"raster": path, "tile_size": 512, ...}``: the command's option names with underscores, as in
    ``python -m core describe``) and ``flags`` typed by the analyst (they win); report progress (0-100 and the
    event) and warnings; return the ``result`` event's outputs. A job that stops at a safe point when cancelled
    returns its result with ``stopped: true`` (a training says where it stopped, where to resume, and its best
    checkpoint so far).

    Raises EngineError with the job's ``error`` event (``expected`` as the job says; a bad option is one),
    InterruptedError when cancelled with nothing to show (no result).
    """
    return run_json_lines(
        [python, "-m", "core", *command.split(), "--request", "-", "--events", "-", *flags],
        command.split()[0],
        on_progress,
        is_cancelled,
        request=json.dumps(options, default=str),
        grace=grace,
        on_warning=on_warning,
    )


def run_json_lines(
    command: Sequence[str],
    name: str,
    on_progress: Callable[[float, dict[str, Any]], None],
    is_cancelled: Callable[[], bool],
    request: str | None = None,
    grace: float = 20.0,
    on_warning: Callable[[str], None] | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run a process that speaks the engine's job contract: ``request`` (one line) and later ``cancel`` on its
    stdin; ``progress``, ``warning``, then one ``result`` or ``error`` event as JSON lines on its stdout (the
    engine's jobs, and engine_install). Returns the result event's fields; EngineError, InterruptedError
    otherwise (see run_core_job). ``name`` prefixes its lines in the SAM 2 log."""
    process = subprocess.Popen(
        list(command),
        cwd=cwd or engine_root(),
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        creationflags=NO_WINDOW,
    )
    stderr: list[str] = []
    if request is not None:
        send(process, request)

    def read_stderr() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            stderr.append(line.rstrip())
            del stderr[:-50]
            log(f"{name}: {line.rstrip()}")

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    finished, cancel_sent = threading.Event(), threading.Event()

    def watch() -> None:  # cancel promptly even while the job reports nothing
        while not finished.wait(0.2):
            if is_cancelled() and not cancel_sent.is_set():
                cancel_sent.set()
                log(f"{name}: cancel requested")
                stop(process, grace)

    threading.Thread(target=watch, daemon=True).start()
    ending: dict[str, Any] = {}
    assert process.stdout is not None
    for line in process.stdout:
        try:
            event = json.loads(line)
        except ValueError:
            log(f"{name}: {line.rstrip()}")
            continue
        kind = event.pop("event", None)
        if kind == "progress":
            on_progress(100 * float(event.get("fraction", 0)), event)
        elif kind == "warning":
            log(f"{name}: {event['message']}", "warning")
            if on_warning is not None:
                on_warning(event["message"])
        elif kind in ("result", "error"):
            ending = {"kind": kind, **event}
    process.wait()
    finished.set()
    reader.join(timeout=5)
    for pipe in (process.stdin, process.stdout, process.stderr):  # else: "ResourceWarning: unclosed file"
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()
    if ending.get("kind") == "result":
        return {k: v for k, v in ending.items() if k != "kind"}
    if cancel_sent.is_set():
        raise InterruptedError(tr("cancelled: {message}").format(message=ending.get("message", "the job was stopped")))
    if ending.get("kind") == "error":
        log(f"{name}: {ending['message']}", "warning" if ending.get("expected") else "critical")
        raise EngineError("JobFailed", str(ending["message"]), expected=bool(ending.get("expected")))
    last = stderr[-1] if stderr else f"exit code {process.returncode}"
    log(f"{name}: ended without a result ({last})", "critical")
    raise EngineError(
        "JobFailed", tr("the engine job ended without a result: {last} (see the SAM 2 log)").format(last=last), False
    )


def send(process: subprocess.Popen[str], line: str) -> None:
    """One line to the job's stdin (its request, or ``cancel``); nothing if it already ended."""
    try:
        assert process.stdin is not None
        process.stdin.write(line + "\n")
        process.stdin.flush()
    except (OSError, ValueError):
        pass


def stop(process: subprocess.Popen[str], grace: float) -> None:
    """Ask a job to stop (``cancel`` on its stdin), then terminate and kill it if it does not in time."""
    send(process, "cancel")
    steps: list[tuple[Callable[[], None], float]] = [(lambda: None, grace), (process.terminate, 5), (process.kill, 10)]
    for ending, timeout in steps:
        ending()
        try:
            process.wait(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            continue


CLASS_COLOURS = ["255,60,0", "0,160,255", "255,200,0", "170,0,255", "0,200,90", "255,0,140"]


def class_renderer(layer: Any, field: str = "class") -> Any:
    """Outlines coloured by class (one category per value of ``field``), fills transparent."""
    from qgis.core import QgsCategorizedSymbolRenderer, QgsFillSymbol, QgsRendererCategory

    categories = []
    for index, value in enumerate(sorted(str(v) for v in layer.uniqueValues(layer.fields().indexOf(field)))):
        symbol = QgsFillSymbol.createSimple(
            {"color": "0,0,0,0", "outline_color": CLASS_COLOURS[index % len(CLASS_COLOURS)], "outline_width": "0.6"}
        )
        categories.append(QgsRendererCategory(value, symbol, value))
    return QgsCategorizedSymbolRenderer(field, categories)


def class_names(raster_path: str) -> dict[int, str]:
    """The classes a multi-class prediction names (its ``CLASS_NAMES`` tag: id -> name); empty otherwise."""
    from osgeo import gdal  # QGIS's own

    dataset = gdal.Open(raster_path)
    tag = dataset.GetRasterBand(1).GetMetadataItem("CLASS_NAMES") if dataset is not None else None
    try:
        return {int(k): str(v) for k, v in json.loads(tag).items()} if tag else {}
    except (ValueError, AttributeError):
        return {}


def add_prediction_layers(mask_path: str, vector_path: str | None, name: str) -> list[Any]:
    """Add a prediction's mask raster (objects in colour, background transparent) and polygons (outlines in
    their class's colour) to the project."""
    from qgis.core import QgsPalettedRasterRenderer, QgsProject, QgsRasterLayer, QgsVectorLayer
    from qgis.PyQt.QtGui import QColor

    layers: list[Any] = []
    mask = QgsRasterLayer(mask_path, f"{name} mask")
    if mask.isValid():
        named = class_names(mask_path)  # a multi-class model's class raster: each class in its colour, named
        palette = {int(entry.value): entry.color for entry in mask.dataProvider().colorTable(1)} if named else {}
        classes = [
            QgsPalettedRasterRenderer.Class(value, palette.get(value, QColor(255, 140, 0, 160)), label)
            for value, label in (named or {1: "object"}).items()
        ]
        mask.setRenderer(QgsPalettedRasterRenderer(mask.dataProvider(), 1, classes))
        layers.append(mask)
    if vector_path:
        polygons = QgsVectorLayer(vector_path, f"{name} polygons", "ogr")
        if polygons.isValid():
            polygons.setRenderer(class_renderer(polygons))
            layers.append(polygons)
    for layer in layers:
        QgsProject.instance().addMapLayer(layer)
    return layers
