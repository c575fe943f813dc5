"""Shared by every test process. Imports nothing heavy: core tests run without QGIS, plugin tests
without torch (see the Makefile's two pytest runs)."""

from __future__ import annotations

import http.server
import io
import json
import subprocess
import sys
import threading
from functools import partial
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def engine_files(repo_root: Path) -> dict[str, str]:
    """Paths of the tiny model and the sample raster, from the engine's command line (this process stays
    torch-free: it may be a QGIS process)."""

    def core(*args: str) -> dict[str, str]:
        done = subprocess.run(
            [sys.executable, "-m", "core", *args],
            cwd=repo_root,
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        )
        return json.loads(done.stdout)

    sample = core("sample-data")
    return {
        "checkpoint": core("weights", "init")["checkpoint"],
        "raster": sample["osbs_image"],
        "labels": sample["osbs_boxes"],
    }


@pytest.fixture(scope="session")
def core_cli(repo_root: Path):  # type: ignore[no-untyped-def]
    """Run ``python -m core ARGS`` from the repository; returns the completed process (text output)."""

    def run(*args: object, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "core", *map(str, args)],
            cwd=repo_root,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run


@pytest.fixture(scope="session")
def synthetic_scene(tmp_path_factory, core_cli):  # type: ignore[no-untyped-def]
    """``make(size)``: the folder of a size x size synthetic scene (seed 5), made once per session through
    the engine's command line, so that QGIS test processes stay torch-free."""
    made: dict[int, Path] = {}

    def make(size: int) -> Path:
        if size not in made:
            folder = tmp_path_factory.mktemp(f"scene{size}")
            core_cli("synthetic", "--out", folder, "--width", size, "--height", size, "--seed", 5).check_returncode()
            made[size] = folder
        return made[size]

    return make


@pytest.fixture(scope="session")
def flights(tmp_path_factory, core_cli):  # type: ignore[no-untyped-def]
    """Three synthetic flights of one area (2019, 2022, 2025, 192 px) with the truth of each, made by the engine's
    command line (QGIS test processes stay torch-free)."""
    folder = tmp_path_factory.mktemp("flights")
    made = core_cli(
        "synthetic", "--out", folder, "--width", 192, "--height", 192, "--seed", 3, "--years", "2019,2022,2025"
    )
    made.check_returncode()
    return folder


@pytest.fixture(scope="session")
def train_request():  # type: ignore[no-untyped-def]
    """``request(image, labels, checkpoint, out, epochs, batch_size)``: the options of a small ``core train``
    run in auto mode on the buildings (class 1) of a synthetic scene, 128 px tiles, on the CPU."""

    def request(image: object, labels: object, checkpoint: object, out: object, epochs: int, batch_size: int) -> dict:
        return {
            "raster": str(image),
            "labels": str(labels),
            "checkpoint": str(checkpoint),
            "out": str(out),
            "mode": "auto",
            "epochs": epochs,
            "tile_size": 128,
            "batch_size": batch_size,
            "class_field": "class_id",
            "classes": "1",
            "device": "cpu",
            "labels_cover": "complete",
        }  # fmt: skip  (every building of the scene is labelled)

    return request


@pytest.fixture(scope="session")
def train_args(train_request):  # type: ignore[no-untyped-def]
    """``args(image, labels, checkpoint, out, epochs, batch_size)``: ``train_request`` as a command line."""

    def args(*given: object) -> list[str]:
        return ["train", *(f"--{k.replace('_', '-')}={v}" for k, v in train_request(*given).items())]

    return args


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Files over HTTP, with range requests as GDAL's /vsicurl/ makes them (for a cloud-optimised GeoTIFF)."""

    def send_head(self):  # type: ignore[no-untyped-def]
        wanted = self.headers.get("Range")
        path = Path(self.translate_path(self.path))
        if not wanted or not path.is_file():
            return super().send_head()
        data = path.read_bytes()
        start, _, end = wanted.removeprefix("bytes=").partition("-")
        first, last = int(start), min(int(end) if end else len(data) - 1, len(data) - 1)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Range", f"bytes {first}-{last}/{len(data)}")
        self.send_header("Content-Length", str(last - first + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        return io.BytesIO(data[first : last + 1])

    def log_message(self, *args):  # type: ignore[no-untyped-def]
        pass


@pytest.fixture(scope="session")
def serve_folder():  # type: ignore[no-untyped-def]
    """``serve_folder(folder)`` serves a folder from 127.0.0.1 (range requests too) and returns its URL."""
    servers = []

    def serve(folder: Path) -> str:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(RangeHandler, directory=str(folder)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield serve
    for server in servers:
        server.shutdown()


def write_wheel(folder: Path, name: str, version: str, files: dict[str, str]) -> Path:
    """A pure-Python wheel ``name-version`` holding ``files`` (path in the wheel -> text), as pip installs it."""
    import zipfile

    info = f"{name.replace('-', '_')}-{version}.dist-info"
    contents = {
        **files,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    contents[f"{info}/RECORD"] = "".join(f"{path},,\n" for path in contents) + f"{info}/RECORD,,\n"
    wheel = folder / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in contents.items():
            archive.writestr(path, text)
    return wheel


@pytest.fixture(scope="session")
def linked_engine_wheels(tmp_path_factory) -> Path:
    """A folder holding one wheel, ``sam2-engine-link 1.0``, and ``requirements.txt`` naming it: installed by the
    engine installer offline, its ``.pth`` file points the new environment at this test run's packages (torch,
    sam2, rasterio, pyogrio...), so the install takes seconds and the environment really runs the engine.
    It stands in for the gigabyte of wheels that PyPI would give (tests never download)."""
    folder = tmp_path_factory.mktemp("engine-wheels")
    site_folders = [entry for entry in sys.path if entry.endswith(("site-packages", "dist-packages"))]
    write_wheel(folder, "sam2-engine-link", "1.0", {"sam2_engine_link.pth": "".join(f"{e}\n" for e in site_folders)})
    (folder / "requirements.txt").write_text("sam2-engine-link==1.0\n")
    return folder


@pytest.fixture(scope="session")
def stopped_training(repo_root: Path):  # type: ignore[no-untyped-def]
    """``stop(args, events)``: start ``python -m core train ARGS --events EVENTS``, send SIGTERM once it reports
    its first step, and return the finished process's (exit code, stdout, stderr)."""
    import os
    import signal
    import time

    def stop(args: list[str], events: Path, timeout: float = 180) -> tuple[int, str, str]:
        command = [sys.executable, "-m", "core", *args, "--events", str(events)]
        process = subprocess.Popen(command, cwd=repo_root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not (events.exists() and '"step"' in events.read_text()):
            time.sleep(0.2)
        os.kill(process.pid, signal.SIGTERM)
        out, err = process.communicate(timeout=timeout)
        return process.returncode, out, err

    return stop
