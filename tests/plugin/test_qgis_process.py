"""QGIS's own command-line runner with the packaged plugin in a fresh profile: it lists our algorithms and runs
one (``hasProcessingProvider=yes``, ``initProcessing``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from osgeo import gdal

QGIS_PROCESS = Path("/usr/bin/qgis_process.bin")
ALGORITHMS = {
    "sam2:createtrainingtiles",
    "sam2:finetune",
    "sam2:findtherest",
    "sam2:wheretolabelnext",
    "sam2:predictraster",
    "sam2:predictregion",
    "sam2:evaluatesegmentation",
    "sam2:segmentfrompoints",
    "sam2:followyears",
}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not QGIS_PROCESS.exists(), reason="needs Debian's qgis (make setup installs it)"),
]


@pytest.fixture(scope="module")
def qgis_process(repo_root, tmp_path_factory):  # type: ignore[no-untyped-def]
    """``run(*args)``: qgis_process in a fresh profile holding only the unzipped package, the plugin enabled."""
    home = tmp_path_factory.mktemp("qgis-home")
    built = subprocess.run(
        [sys.executable, str(repo_root / "scripts" / "package_plugin.py"), str(home / "dist")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    plugins = home / "profiles" / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    with zipfile.ZipFile(built.stdout.strip()) as archive:
        archive.extractall(plugins)
    env = {**os.environ, "QGIS_CUSTOM_CONFIG_PATH": str(home), "QT_QPA_PLATFORM": "offscreen",
           "SAM2_QGIS_PYTHON": sys.executable}  # fmt: skip

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(QGIS_PROCESS), *args], env=env, capture_output=True, text=True, timeout=300)

    enabled = run("plugins", "enable", "sam2_qgis_plugin")
    assert enabled.returncode == 0, enabled.stderr
    return run


def test_qgis_process_lists_every_algorithm_of_the_package(qgis_process) -> None:
    listed = qgis_process("--json", "list")
    assert listed.returncode == 0, listed.stderr
    providers = json.loads(listed.stdout[listed.stdout.index("{") :])["providers"]
    assert set(providers["sam2"]["algorithms"]) == ALGORITHMS


def test_qgis_process_runs_a_prediction(qgis_process, engine_files, tmp_path) -> None:
    mask = tmp_path / "mask.tif"
    done = qgis_process(
        "run", "sam2:predictraster", "--", f"RASTER={engine_files['raster']}",
        f"CHECKPOINT={engine_files['checkpoint']}", f"OUTPUT={mask}", "EXTRA=--device cpu",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    source, written = gdal.Open(engine_files["raster"]), gdal.Open(str(mask))
    assert (written.RasterXSize, written.RasterYSize) == (source.RasterXSize, source.RasterYSize)
    assert set(int(v) for v in set(written.ReadAsArray().ravel())) <= {0, 1, 255}
