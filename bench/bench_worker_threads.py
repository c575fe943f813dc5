"""The worker's CPU thread policy beside a busy QGIS: click latency and encode time with another process
keeping CPU cores busy, for each policy, each in a fresh worker (``python -m core worker`` as the plugin starts
it). torch's OpenMP threads spin while they wait for work; on cores another process wants, that spinning
costs the worker (and QGIS) time.

Policies: torch's defaults (one thread per core, OpenMP's active wait), ``OMP_WAIT_POLICY=PASSIVE`` (threads
sleep when idle), and one thread fewer than the cores. Load: ``--busy`` processes spinning in pure Python (QGIS
rendering or another job) or none. Model: seeded random-init hiera-tiny at 1024 on the CPU; clicks on a warm
tile of the sample imagery (decoder only), then one encode of a new 1024 tile.

    .venv/bin/python -m bench.bench_worker_threads [--clicks 10] [--busy 1]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import tempfile
import time
from pathlib import Path

import rasterio

from bench.bench_worker_memory import Worker
from core.devtools.sample_data import prepare_sample_data
from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene
from core.models.random_init import RandomInitSpec, write_random_init_checkpoint

CORES = os.cpu_count() or 1
POLICIES = {
    "torch defaults": {},
    "OMP_WAIT_POLICY=PASSIVE": {"OMP_WAIT_POLICY": "PASSIVE"},
    f"{max(1, CORES - 1)} thread(s), passive": {
        "OMP_NUM_THREADS": str(max(1, CORES - 1)),
        "OMP_WAIT_POLICY": "PASSIVE",
    },
}


def spin(stop: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    while not stop.is_set():
        sum(range(10_000))


def measure(env: dict[str, str], busy: int, clicks: int, checkpoint: Path, image: Path, scene: Path) -> dict:
    stop = multiprocessing.Event()
    spinners = [multiprocessing.Process(target=spin, args=(stop,), daemon=True) for _ in range(busy)]
    with tempfile.TemporaryDirectory(prefix="bench-threads-cache-") as cache:
        worker = Worker(True, Path(cache), env)
        try:
            worker.request("load_model", {"checkpoint": str(checkpoint), "device": "cpu", "image_size": 1024})
            raster_id = worker.request("open_raster", {"path": str(image)})["raster_id"]
            with rasterio.open(image) as src:
                x, y = src.xy(200, 150)
            params = {"raster_id": raster_id, "points": [[x, y]], "labels": [1]}
            worker.request("predict", params)  # encodes the tile: later clicks are the decoder's alone
            for process in spinners:
                process.start()
            time.sleep(1)
            latencies = []
            for _ in range(clicks):
                start = time.perf_counter()
                worker.request("predict", params)
                latencies.append(time.perf_counter() - start)
            other = worker.request("open_raster", {"path": str(scene)})["raster_id"]
            with rasterio.open(scene) as src:
                cx, cy = src.xy(512, 512)
            start = time.perf_counter()
            worker.request("encode_extent", {"raster_id": other, "extent": [cx - 1, cy - 1, cx + 1, cy + 1]})
            encode = time.perf_counter() - start
        finally:
            stop.set()
            for process in spinners:
                if process.pid is not None:
                    process.join(timeout=10)
            worker.stop()
    return {"click_ms": statistics.median(latencies) * 1000, "encode_s": encode}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=10)
    parser.add_argument("--busy", type=int, default=1, help="processes keeping a core busy (QGIS, another job)")
    args = parser.parse_args()
    checkpoint = write_random_init_checkpoint(RandomInitSpec(image_size=1024)).path
    image = prepare_sample_data().osbs_image
    with tempfile.TemporaryDirectory(prefix="bench-threads-") as tmp:
        scene = write_synthetic_scene(SyntheticSceneConfig(width=1024, height=1024, seed=1), Path(tmp)).image
        print(f"worker on {CORES} cores, hiera-tiny random-init @1024; median of {args.clicks} clicks on a warm tile, "
              "then one encode of a new tile; each policy and load in a fresh worker")  # fmt: skip
        print(f"  {'policy':28s} {'load':>14s} {'click ms':>9s} {'encode s':>9s}")
        for busy in sorted({0, args.busy}):
            for name, env in POLICIES.items():
                found = measure(env, busy, args.clicks, checkpoint, image, scene)
                load = f"{busy} busy" if busy else "idle machine"
                print(f"  {name:28s} {load:>14s} {found['click_ms']:9.1f} {found['encode_s']:9.2f}")


if __name__ == "__main__":
    main()
