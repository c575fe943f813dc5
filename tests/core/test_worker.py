"""The worker process as the plugin uses it: JSON lines in and out, typed errors, progress, cancel."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import rasterio

from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene


class WorkerProcess:
    """``python -m core worker`` with every stdout line parsed as JSON (a non-JSON line fails the test)."""

    def __init__(self, repo_root, cache_dir, env: dict[str, str | None] | None = None) -> None:
        """``env``: variables to set (None: to remove) in the worker's environment."""
        environment = {**os.environ, **(env or {})}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "core", "worker", "--cache-dir", str(cache_dir)],
            cwd=repo_root,
            env={name: value for name, value in environment.items() if value is not None},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.next_id = 0

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def read(self, timeout: float = 120) -> dict[str, Any]:
        line = self.lines.get(timeout=timeout)
        return json.loads(line)  # raises on anything that is not a protocol line

    def write(self, message: dict[str, Any] | str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((message if isinstance(message, str) else json.dumps(message)) + "\n")
        self.process.stdin.flush()

    def request(self, method: str, **params: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Send a request; return its response and the events that came before it."""
        self.next_id += 1
        self.write({"id": self.next_id, "method": method, "params": params})
        events = []
        while True:
            message = self.read()
            if message.get("id") == self.next_id and "event" in message:
                events.append(message)
            elif message.get("id") == self.next_id:
                return message, events


@pytest.fixture
def worker(repo_root, tmp_path):
    process = WorkerProcess(repo_root, tmp_path / "embeddings")
    assert process.read()["event"] == "ready"
    yield process
    if process.process.poll() is None:
        process.process.kill()
    process.process.wait(timeout=10)


def test_click_session(worker, tiny_checkpoint, sample_data) -> None:
    assert worker.request("ping")[0]["result"] == {"pong": True}
    info = worker.request("info")[0]["result"]
    assert info["torch"].startswith("2.")
    assert info["device"] in ("cpu", "cuda", "mps")

    loaded = worker.request("load_model", checkpoint=str(tiny_checkpoint.path), device="cpu")[0]["result"]
    assert loaded == {
        "model": "sam2.1_hiera_t", "label": "SAM 2.1 tiny", "image_size": 256, "device": "cpu", "encoder": "exact"
    }  # fmt: skip
    opened = worker.request("open_raster", path=str(sample_data.osbs_image))[0]["result"]
    assert (opened["width"], opened["height"]) == (400, 400)
    raster_id = opened["raster_id"]

    with rasterio.open(sample_data.osbs_image) as src:
        x, y = src.transform * (200.5, 150.5)
        bounds = src.bounds
    response, _ = worker.request("predict", raster_id=raster_id, points=[[x, y]], labels=[1])
    result = response["result"]
    assert result["polygons"]
    assert 0 <= result["score"] <= 1.5
    assert "32617" in result["crs"]
    ring = result["polygons"][0]["coordinates"][0]
    assert all(bounds.left <= px <= bounds.right and bounds.bottom <= py <= bounds.top for px, py in ring)

    encoded, events = worker.request("encode_extent", raster_id=raster_id, extent=list(bounds))
    assert encoded["result"]["tiles"] == 4  # 400 px at 256 with a 192 px stride: 2 x 2 windows
    assert [e["event"] for e in events] == ["progress"] * len(events)
    assert events[-1]["fraction"] == 1.0

    assert worker.request("close_raster", raster_id=raster_id)[0]["result"] == {"closed": True}
    assert worker.request("shutdown")[0]["result"] == {"bye": True}
    assert worker.process.wait(timeout=30) == 0


def test_errors_are_typed_and_the_worker_keeps_serving(worker, tmp_path) -> None:
    error = worker.request("predict", raster_id="r9", points=[[0, 0]], labels=[1])[0]["error"]
    assert error == {
        "type": "InvalidInputError",
        "message": "no open raster 'r9': call open_raster first",
        "expected": True,
    }
    missing = worker.request("open_raster", path=str(tmp_path / "none.tif"))[0]["error"]
    assert missing["type"] == "MissingInputError"
    assert "raster not found" in missing["message"]
    unknown = worker.request("explode")[0]["error"]
    assert unknown["type"] == "UnknownMethod"
    worker.write("this is not json")
    assert worker.read()["error"]["type"] == "ProtocolError"
    (tmp_path / "bad.pt").write_bytes(b"")
    bad_model = worker.request("load_model", checkpoint=str(tmp_path / "bad.pt"))[0]["error"]
    assert bad_model["type"] == "InvalidCheckpointError"
    assert worker.request("ping")[0]["result"] == {"pong": True}


def test_cancel_stops_encoding_between_tiles(worker, tiny_checkpoint, tmp_path) -> None:
    paths = write_synthetic_scene(SyntheticSceneConfig(width=1600, height=1600, seed=3), tmp_path / "scene")
    worker.request("load_model", checkpoint=str(tiny_checkpoint.path), device="cpu")
    raster_id = worker.request("open_raster", path=str(paths.image))[0]["result"]["raster_id"]
    with rasterio.open(paths.image) as src:
        extent = list(src.bounds)
    worker.next_id += 1
    worker.write(
        {"id": worker.next_id, "method": "encode_extent", "params": {"raster_id": raster_id, "extent": extent}}
    )
    worker.write({"method": "cancel", "params": {"id": worker.next_id}})
    while "event" in (message := worker.read()):
        pass
    assert message["error"]["type"] == "CancelledError"
    assert worker.request("ping")[0]["result"] == {"pong": True}


def test_a_line_of_bad_utf8_is_refused_and_the_worker_keeps_serving(worker) -> None:
    assert worker.process.stdin is not None
    worker.process.stdin.buffer.write(b'{"id": 1, "method": "ping", "params": {"x": "\xff\xfe"}}\n')
    worker.process.stdin.buffer.flush()
    error = worker.read()["error"]
    assert error["type"] == "ProtocolError"
    assert "not UTF-8" in error["message"]
    assert worker.request("ping")[0]["result"] == {"pong": True}


def test_a_huge_path_is_an_expected_error_with_a_short_message(worker) -> None:
    error = worker.request("open_raster", path="x" * 10_000_000)[0]["error"]
    assert error["expected"] is True
    assert len(error["message"]) < 3000
    assert worker.request("ping")[0]["result"] == {"pong": True}


def resident_megabytes(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for process {pid}")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads resident memory from /proc")
def test_a_loaded_model_holds_no_more_memory_than_under_glibcs_defaults(repo_root, tiny_checkpoint, tmp_path) -> None:
    """The engine's allocator keeps freed blocks for reuse; loading gives the freed state dict back (else the
    worker would keep a second copy of the weights for its whole life)."""
    resident = {}
    for switch in ("0", "1"):  # glibc's defaults, then as shipped; each a fresh worker
        process = WorkerProcess(repo_root, tmp_path / switch, env={"SAM2_QGIS_REUSE_FREED_MEMORY": switch})
        try:
            assert process.read()["event"] == "ready"
            response, _ = process.request("load_model", checkpoint=str(tiny_checkpoint.path), device="cpu")
            assert "result" in response, response
            resident[switch] = resident_megabytes(process.process.pid)
        finally:
            process.process.kill()
            process.process.wait(timeout=10)
    assert resident["1"] <= 1.05 * resident["0"], resident


def test_the_worker_sleeps_its_idle_threads_unless_told_otherwise(repo_root, tmp_path) -> None:
    """OpenMP's passive wait (bench/bench_worker_threads.py): no spinning on the cores QGIS shares."""
    policies = {}
    for given in ({"OMP_WAIT_POLICY": None}, {"OMP_WAIT_POLICY": "ACTIVE"}):
        process = WorkerProcess(repo_root, tmp_path / str(len(policies)), env=given)
        try:
            assert process.read()["event"] == "ready"
            response, _ = process.request("info")
            policies[given["OMP_WAIT_POLICY"] or "default"] = response["result"]["threads"]["omp_wait_policy"]
        finally:
            process.process.kill()
            process.process.wait(timeout=10)
    assert policies == {"default": "PASSIVE", "ACTIVE": "ACTIVE"}


def test_a_burst_of_hovers_is_answered_newest_only(worker, tiny_checkpoint, tmp_path) -> None:
    scene = write_synthetic_scene(SyntheticSceneConfig(width=512, height=512, seed=3), tmp_path / "scene")
    worker.request("load_model", checkpoint=str(tiny_checkpoint.path), device="cpu")
    raster = worker.request("open_raster", path=str(scene.image))[0]["result"]["raster_id"]
    with rasterio.open(scene.image) as source:
        x, y = source.xy(100, 100)
    far_x, far_y = source.xy(450, 450)
    hover = {"raster_id": raster, "points": [[x, y]], "labels": [1]}
    first, _ = worker.request("hover", **hover)
    assert first["result"]["encoded"] is False  # not encoded yet: answered at once, nothing encoded
    worker.request("prepare", **hover)  # the caller encodes it in the background

    # a burst while the worker is busy encoding another tile: 20 moves, then the mouse rests
    worker.next_id += 1
    busy = worker.next_id
    burst = list(range(busy + 1, busy + 21))
    lines = [{"id": busy, "method": "prepare", "params": {**hover, "points": [[far_x, far_y]]}}]
    lines += [{"id": request_id, "method": "hover", "params": hover} for request_id in burst]
    worker.write("\n".join(json.dumps(line) for line in lines))  # one write: all read while the encode runs
    worker.next_id = burst[-1]
    answers = {}
    while len(answers) < len(burst):
        message = worker.read()
        if message.get("id") in burst and "result" in message:
            answers[message["id"]] = message["result"]
    assert all(answers[i] == {"superseded": True} for i in burst[:-1])  # left behind: never decoded
    assert answers[burst[-1]]["encoded"] is True
    assert answers[burst[-1]]["polygons"]  # the outline a click there would give
    assert set(answers[burst[-1]]["ms"]) == {"decode", "outline"}  # what the answer cost, stage by stage
    assert all(ms > 0 for ms in answers[burst[-1]]["ms"].values())
    counts = worker.request("info")[0]["result"]["hovers"]
    assert counts == {"decoded": 1, "superseded": 19, "stale_decoded": 0, "not_encoded": 1}
    click = worker.request("predict", **hover)[0]["result"]
    assert click["polygons"] == answers[burst[-1]]["polygons"]  # the click confirms what the hover showed
