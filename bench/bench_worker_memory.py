"""Resident memory of the worker as shipped (``python -m core worker``, what the plugin starts beside QGIS)
against the same worker with glibc's defaults (``SAM2_QGIS_REUSE_FREED_MEMORY=0``), each in its own fresh
process: after loading the model, right after N encodes, and after an idle spell. Goal: no more than +5 % over
the defaults after loading and once idle, with the encodes as fast (their seconds are printed too).

Model: seeded random-init SAM 2.1 (hiera-large by default) at 1024 on the CPU; tiles: 1024 px windows of a
synthetic 2048 x 2048 orthophoto, each encoded by one ``encode_extent`` request (no disk cache). RSS is read
from /proc (Linux).

    .venv/bin/python -m bench.bench_worker_memory [--model sam2.1_hiera_l] [--encodes 4] [--idle 60]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import rasterio
from rasterio.windows import Window

from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene
from core.models.allocator import SWITCH
from core.models.random_init import RandomInitSpec, write_random_init_checkpoint
from core.models.registry import get_model

ROOT = Path(__file__).resolve().parent.parent


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` (MB), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


class Worker:
    """``python -m core worker`` in a fresh process, spoken to over JSON lines."""

    def __init__(self, reuse: bool, cache: Path, env: dict[str, str] | None = None) -> None:
        env = {**os.environ, SWITCH: "1" if reuse else "0", **(env or {})}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "core", "worker", "--cache-dir", str(cache)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT, env=env,
        )  # fmt: skip
        self.ids = 0
        self._answer(None)  # the "ready" event

    def request(self, method: str, params: dict) -> dict:
        self.ids += 1
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"id": self.ids, "method": method, "params": params}) + "\n")
        self.process.stdin.flush()
        return self._answer(self.ids)

    def _answer(self, wanted: int | None) -> dict:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            message = json.loads(line)
            if wanted is None and message.get("event") == "ready":
                return message
            if message.get("id") == wanted and "event" not in message:
                if "error" in message:
                    raise RuntimeError(message["error"])
                return message["result"]
        raise RuntimeError("the worker ended")

    def stop(self) -> None:
        self.request("shutdown", {})
        self.process.wait(timeout=60)


def measure(reuse: bool, checkpoint: Path, image: Path, extents: list[list[float]], idle: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-worker-cache-") as cache:
        worker = Worker(reuse, Path(cache))
        pid = worker.process.pid
        found: dict = {"started": rss_mb(pid)}
        worker.request("load_model", {"checkpoint": str(checkpoint), "device": "cpu", "image_size": 1024})
        found["loaded"] = rss_mb(pid)
        raster_id = worker.request("open_raster", {"path": str(image)})["raster_id"]
        seconds = []
        for extent in extents:
            start = time.perf_counter()
            worker.request("encode_extent", {"raster_id": raster_id, "extent": extent})
            seconds.append(time.perf_counter() - start)
        found["encoded"] = rss_mb(pid)
        time.sleep(idle)
        found["idle"] = rss_mb(pid)
        found["encode_seconds"] = statistics.median(seconds[1:] or seconds)  # the first one grows the process
        worker.stop()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="sam2.1_hiera_l")
    parser.add_argument("--encodes", type=int, default=4)
    parser.add_argument("--idle", type=float, default=60.0, help="seconds idle before the last reading")
    args = parser.parse_args()
    spec = get_model(args.model)
    checkpoint = write_random_init_checkpoint(RandomInitSpec(spec.config, 1024, 0)).path
    with tempfile.TemporaryDirectory(prefix="bench-worker-memory-") as tmp:
        scene = write_synthetic_scene(SyntheticSceneConfig(width=2048, height=2048, seed=1), Path(tmp))
        with rasterio.open(scene.image) as src:
            windows = [Window(c, r, 1024, 1024) for r in (0, 1024) for c in (0, 1024)]
            extents = [list(src.window_bounds(w)) for w in (windows * args.encodes)[: args.encodes]]
        # a window's centre only, so that each request encodes exactly that window
        extents = [[(a + c) / 2 - 1, (b + d) / 2 - 1, (a + c) / 2 + 1, (b + d) / 2 + 1] for a, b, c, d in extents]
        results = {
            "glibc defaults": measure(False, checkpoint, scene.image, extents, args.idle),
            "as shipped": measure(True, checkpoint, scene.image, extents, args.idle),
        }
    print(f"worker RSS (MB), {spec.name} random-init @1024 on the CPU, {args.encodes} encodes, idle {args.idle:.0f} s;")
    print("each side in its own fresh process (ratio: as shipped / glibc defaults)")
    print(f"  {'':16s} {'started':>8s} {'loaded':>8s} {'encoded':>8s} {'idle':>8s} {'s/encode':>9s}")
    for label, found in results.items():
        print(f"  {label:16s} {found['started']:8.0f} {found['loaded']:8.0f} {found['encoded']:8.0f} "
              f"{found['idle']:8.0f} {found['encode_seconds']:9.2f}")  # fmt: skip
    ours, ref = results["as shipped"], results["glibc defaults"]
    print(f"  {'ratio':16s} {ours['started'] / ref['started']:8.2f} {ours['loaded'] / ref['loaded']:8.2f} "
          f"{ours['encoded'] / ref['encoded']:8.2f} {ours['idle'] / ref['idle']:8.2f} "
          f"{ref['encode_seconds'] / ours['encode_seconds']:8.2f}x faster")  # fmt: skip


if __name__ == "__main__":
    main()
