"""Click latency through the worker (what the plugin waits for) vs the engine's own click latency.

Both serve the same warm tile (seeded random-init hiera-tiny at 1024, deepforest's OSBS_029): the engine in
this process (``ClickSegmenter.segment``) and the plugin's ``WorkerClient.request("predict")`` round trip
(JSON request, worker, polygons back as JSON). Interleaved; prints medians and the difference (goal: <= 20 ms).

    .venv/bin/python -m bench.bench_worker_click [--runs 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time

from core.devtools.sample_data import prepare_sample_data
from core.inference.embeddings import EmbeddingCache
from core.inference.segment import ClickSegmenter, Prompts
from core.io.raster import RasterSource
from core.models.loader import load_model
from core.models.random_init import RandomInitSpec, write_random_init_checkpoint
from sam2_qgis_plugin.engine import WorkerClient


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    checkpoint = str(write_random_init_checkpoint(RandomInitSpec()).path)
    raster_path = prepare_sample_data().osbs_image
    with tempfile.TemporaryDirectory() as cache, RasterSource(raster_path) as raster:
        segmenter = ClickSegmenter(load_model(checkpoint, device="cpu", image_size=1024), raster, EmbeddingCache())
        client = WorkerClient(sys.executable, cache_dir=cache)
        client.request("load_model", {"checkpoint": checkpoint, "device": "cpu", "image_size": 1024})
        raster_id = client.request("open_raster", {"path": str(raster_path)})["raster_id"]
        x, y = raster.transform * (200.5, 150.5)
        prompts = Prompts(points=((x, y),), labels=(1,))
        params = {"raster_id": raster_id, "points": [[x, y]], "labels": [1]}
        segmenter.segment(prompts)  # warm both: the tile is encoded once in each
        client.request("predict", params)
        times: dict[str, list[float]] = {"engine": [], "worker": []}
        for _ in range(args.runs):
            start = time.perf_counter()
            segmenter.segment(prompts)
            times["engine"].append(time.perf_counter() - start)
            start = time.perf_counter()
            client.request("predict", params)
            times["worker"].append(time.perf_counter() - start)
        client.stop()
    engine_ms = statistics.median(times["engine"]) * 1000
    worker_ms = statistics.median(times["worker"]) * 1000
    print(
        f"click, warm tile: engine {engine_ms:6.1f} ms   through the worker {worker_ms:6.1f} ms   "
        f"overhead {worker_ms - engine_ms:+.1f} ms"
    )


if __name__ == "__main__":
    main()
