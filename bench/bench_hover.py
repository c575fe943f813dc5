"""The hover preview through the real worker protocol: from the mouse's last move to the outline's polygons.

A fresh ``python -m core worker`` (as the plugin starts it) loads seeded random-init hiera-tiny and hiera-large
at 1024 px on the CPU (no real weights can be downloaded here; ``--checkpoint`` measures real ones: the decoder
costs the same, but tracing depends on the mask, and random-init masks are noise of many parts and holes),
encodes one tile of the OSBS sample orthophoto, then the mouse moves over it at ``--rate`` moves per second for
``--seconds`` and rests; each move sends a ``hover`` as the map tool does, without waiting. Measured per rest:
the time from the last move's request to its polygons (p50/p95 over ``--rests`` rests), and how many hovers the
worker decoded against how many it answered superseded (left behind by the mouse: never decoded) and how many
it decoded but dropped before tracing (stale: the mouse moved on during the decode).

    .venv/bin/python -m bench.bench_hover [--rests 20] [--rate 20] [--seconds 1] [--sizes t,l]
        [--checkpoint sam2.1_hiera_large.pt ...] [--image ortho.tif]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path

import rasterio

from bench.bench_worker_memory import Worker
from core.devtools.sample_data import prepare_sample_data
from core.models.random_init import RandomInitSpec, write_random_init_checkpoint


class HoverWorker(Worker):
    """A worker whose answers are collected by a reader thread, so that hovers are sent without waiting."""

    def __init__(self, cache: Path) -> None:
        super().__init__(True, cache, {"OMP_WAIT_POLICY": "PASSIVE"})
        self.answers: dict[int, tuple[float, dict]] = {}
        self.arrived = threading.Condition()
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            message = json.loads(line)
            if "id" in message and "event" not in message:
                with self.arrived:
                    self.answers[message["id"]] = (time.perf_counter(), message.get("result") or message)
                    self.arrived.notify_all()

    def send(self, method: str, params: dict) -> int:
        self.ids += 1
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"id": self.ids, "method": method, "params": params}) + "\n")
        self.process.stdin.flush()
        return self.ids

    def wait(self, request_id: int, timeout: float = 600) -> tuple[float, dict]:
        with self.arrived:
            self.arrived.wait_for(lambda: request_id in self.answers, timeout)
            return self.answers[request_id]

    def request(self, method: str, params: dict) -> dict:
        return self.wait(self.send(method, params))[1]


def random_init(size: str) -> Path:
    """Seeded random-init SAM 2.1 of ``size`` (t, s, b+, l) at 1024 px."""
    return write_random_init_checkpoint(
        RandomInitSpec(config=f"configs/sam2.1/sam2.1_hiera_{size}.yaml", image_size=1024)
    ).path


def measure(checkpoint: Path, image: Path, rests: int, rate: float, seconds: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-hover-") as cache:
        worker = HoverWorker(Path(cache))
        loaded = worker.request("load_model", {"checkpoint": str(checkpoint), "device": "cpu"})
        raster = worker.request("open_raster", {"path": str(image)})["raster_id"]
        with rasterio.open(image) as source:
            centre = source.xy(source.height // 2, source.width // 2)
            pixel = abs(source.transform.a)
        worker.request("prepare", {"raster_id": raster, "points": [list(centre)], "labels": [1]})  # encoded once
        latencies: list[float] = []
        stages: list[dict[str, float]] = []
        for rest in range(rests):
            moves = max(1, round(rate * seconds))
            last = 0
            for move in range(moves):  # a short path across the tile, as a hand moves
                x = centre[0] + (move - moves / 2 + rest % 5) * 3 * pixel
                y = centre[1] + (rest % 7 - 3) * 5 * pixel
                last = worker.send("hover", {"raster_id": raster, "points": [[x, y]], "labels": [1]})
                sent = time.perf_counter()
                time.sleep(1 / rate)
            answered, result = worker.wait(last)
            assert result.get("encoded") is True, result
            latencies.append((answered - sent) * 1000)
            stages.append(result["ms"])
        counts = worker.request("info", {})["hovers"]
        worker.stop()
    latencies.sort()
    return {
        "model": f"{loaded['model']} {loaded['image_size']}",
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))], 1),
        "decode_p50_ms": round(statistics.median(s["decode"] for s in stages), 1),
        "outline_p50_ms": round(statistics.median(s["outline"] for s in stages), 1),
        "hovers": rests * max(1, round(rate * seconds)),
        **counts,
    }


def label_outlines(image: Path, boxes: Path, limit: int = 40) -> dict:
    """What tracing costs for an object the size and shape of a real one: each labelled crown of the sample
    (its box's inscribed ellipse, as a crown is round) rasterized alone into a 1024 px window, cut to its content
    and traced with the default options as a click's mask is (in-process): p50/p95 ms over up to ``limit``
    crowns."""
    from affine import Affine
    from rasterio.features import rasterize
    from rasterio.windows import Window
    from shapely import affinity
    from shapely.geometry import Point, shape

    from core.geometry.polygons import mask_to_polygons
    from core.inference.segment import trim_to_content
    from core.io.vectors import read_polygons

    features, _ = read_polygons(boxes, "trees")
    timings = []
    with rasterio.open(image) as source:
        size = min(1024, source.width, source.height)
        window = Window(0, 0, size, size)
        transform, crs = source.window_transform(window), source.crs
        for feature in features[:limit]:
            xmin, ymin, xmax, ymax = shape(feature.geometry).bounds
            crown = affinity.scale(Point((xmin + xmax) / 2, (ymin + ymax) / 2).buffer(0.5), xmax - xmin, ymax - ymin)
            mask = rasterize([crown], out_shape=(size, size), transform=transform).astype(bool)
            if not mask.any():
                continue
            started = time.perf_counter()
            crop, row0, col0 = trim_to_content(mask, 0, 0)  # as ClickSegmenter.outline traces
            mask_to_polygons(crop, transform * Affine.translation(col0, row0), crs=crs)
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {
        "crowns": len(timings),
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))], 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rests", type=int, default=20, help="times the mouse comes to rest")
    parser.add_argument("--rate", type=float, default=20.0, help="mouse moves per second")
    parser.add_argument("--seconds", type=float, default=1.0, help="how long the mouse moves before each rest")
    parser.add_argument("--sizes", default="t,l", help="random-init model sizes: t, s, b+, l")
    parser.add_argument(
        "--checkpoint", type=Path, action="append", default=[], help="real weights to measure instead (repeatable)"
    )
    parser.add_argument("--image", type=Path, default=None, help="an orthophoto (default: the OSBS sample)")
    args = parser.parse_args(argv)
    sample = prepare_sample_data()
    image = args.image or sample.osbs_image
    checkpoints = args.checkpoint or [random_init(size) for size in args.sizes.split(",")]
    rows = [measure(checkpoint, image, args.rests, args.rate, args.seconds) for checkpoint in checkpoints]
    print(f"hover on an encoded tile, {args.rate:g} moves/s for {args.seconds:g} s then a rest, x{args.rests}")
    print(f"{'model':<20} {'p50 ms':>7} {'p95 ms':>7} {'decode':>7} {'outline':>8} {'hovers':>7} {'decoded':>8} "
          f"{'superseded':>11} {'stale':>6}")  # fmt: skip
    for row in rows:
        print(
            f"{row['model']:<20} {row['p50_ms']:7.1f} {row['p95_ms']:7.1f} {row['decode_p50_ms']:7.1f} "
            f"{row['outline_p50_ms']:8.1f} {row['hovers']:7d} {row['decoded']:8d} {row['superseded']:11d} "
            f"{row['stale_decoded']:6d}"
        )
    print("decode, outline: p50 ms inside the worker (the outline traces the mask: random-init masks are noise)")
    crowns = label_outlines(sample.osbs_image, sample.osbs_boxes)
    print(
        f"outline of a real object's mask (the sample's {crowns['crowns']} labelled crowns, one at a time, 1024 px): "
        f"p50 {crowns['p50_ms']:.2f} ms, p95 {crowns['p95_ms']:.2f} ms"
    )
    print(json.dumps({"hovers": rows, "crown_outlines": crowns}))


if __name__ == "__main__":
    main()
