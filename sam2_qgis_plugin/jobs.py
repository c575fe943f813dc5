"""Long engine jobs (fine-tuning, whole-raster prediction) as their own ``python -m core`` processes.

Progress comes back as JSON-line events (``train --events -``) or progress lines (``predict``); cancelling
sends SIGTERM (training finishes its step and saves a resumable state; the last good checkpoints stay) and
kills the process if it has not ended within ``grace`` seconds. Nothing is left running.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

from .engine import EngineError, engine_root

PREDICT_PROGRESS = re.compile(r"^\s*([\d.]+)% of (\d+) windows")


def run_core_job(
    python: str,
    args: list[str],
    on_progress: Callable[[float, dict[str, Any]], None],
    is_cancelled: Callable[[], bool],
    grace: float = 20.0,
) -> dict[str, Any]:
    """Run ``python -m core ARGS``; report progress (0-100) and return the command's final JSON result.

    Raises EngineError with the command's own error message when it fails, InterruptedError when cancelled.
    """
    process = subprocess.Popen(
        [python, "-m", "core", *args],
        cwd=engine_root(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    stderr: list[str] = []

    def read_stderr() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            stderr.append(line.rstrip())
            match = PREDICT_PROGRESS.match(line)
            if match:
                on_progress(float(match.group(1)), {"windows": int(match.group(2))})

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    watcher_stop = threading.Event()
    cancelled = threading.Event()

    def watch() -> None:  # cancel promptly even while the job prints nothing
        while not watcher_stop.wait(0.2):
            if is_cancelled() and not cancelled.is_set():
                cancelled.set()
                os.killpg(process.pid, signal.SIGTERM)
                deadline = time.monotonic() + grace
                while process.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.1)
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGKILL)

    threading.Thread(target=watch, daemon=True).start()
    final: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith('{"event"'):
            event = json.loads(line)
            on_progress(100 * float(event.get("fraction", 0)), event)
        else:
            final.append(line)
    process.wait()
    watcher_stop.set()
    reader.join(timeout=5)
    if cancelled.is_set():
        raise InterruptedError("cancelled: the run folder keeps its last good checkpoint")
    if process.returncode != 0:
        message = next(
            (line.removeprefix("error: ") for line in reversed(stderr) if line.startswith("error: ")),
            stderr[-1] if stderr else f"exit code {process.returncode}",
        )
        raise EngineError("JobFailed", message, expected=any(line.startswith("error: ") for line in stderr))
    return dict(json.loads("".join(final))) if "".join(final).strip() else {}


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


def add_prediction_layers(mask_path: str, vector_path: str | None, name: str) -> list[Any]:
    """Add a prediction's mask raster (objects in colour, background transparent) and polygons (outlines in
    their class's colour) to the project."""
    from qgis.core import QgsPalettedRasterRenderer, QgsProject, QgsRasterLayer, QgsVectorLayer
    from qgis.PyQt.QtGui import QColor

    layers: list[Any] = []
    mask = QgsRasterLayer(mask_path, f"{name} mask")
    if mask.isValid():
        classes = [QgsPalettedRasterRenderer.Class(1, QColor(255, 140, 0, 160), "object")]
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
