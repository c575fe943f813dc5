"""End to end: the real QGIS desktop (Debian's 3.22) under Xvfb loads, uses and unloads the plugin."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

HERE = Path(__file__).parent


def _stage_plugin(repo_root: Path, profiles: Path) -> None:
    """Install the plugin into a fresh QGIS profile, as `make install-plugin` will."""
    target = profiles / "profiles" / "default" / "python" / "plugins" / "sam2_qgis_plugin"
    shutil.copytree(repo_root / "sam2_qgis_plugin", target, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(repo_root / "metadata.txt", target / "metadata.txt")


def _sample_raster(repo_root: Path) -> str:
    # The engine's CLI fetches (or finds in the cache) the real imagery; this process stays torch-free.
    result = subprocess.run(
        [sys.executable, "-m", "core", "sample-data"], cwd=repo_root, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)["osbs_image"]


@pytest.mark.skipif(
    shutil.which("xvfb-run") is None or shutil.which("qgis") is None,
    reason="needs Debian's qgis and xvfb (make setup installs them)",
)
def test_real_qgis_loads_shows_and_unloads_the_plugin(repo_root, tmp_path) -> None:
    profiles, out = tmp_path / "profiles", tmp_path / "out"
    out.mkdir()
    _stage_plugin(repo_root, profiles)
    env = {**os.environ, "SAM2_E2E_RASTER": _sample_raster(repo_root), "SAM2_E2E_OUT": str(out)}
    env.pop("QT_QPA_PLATFORM", None)  # a real (virtual) screen, not offscreen
    command = [
        "xvfb-run",
        "-a",
        "-s",
        "-screen 0 1400x900x24",
        "qgis",
        "--nologo",
        "--noversioncheck",
        "--profiles-path",
        str(profiles),
        "--code",
        str(HERE / "qgis_desktop_script.py"),
    ]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240, check=False)

    result_file = out / "result.json"
    assert result_file.exists(), f"QGIS exited {completed.returncode} without a result:\n{completed.stderr[-3000:]}"
    result = json.loads(result_file.read_text())
    assert "error" not in result, result["error"]
    assert result["layer_valid"]
    assert result["layer_crs"] == "EPSG:32617"
    # QGIS read metadata.txt from the installed plugin folder.
    assert result["metadata"] == {"name": "SAM 2 Segmentation", "qgisMinimumVersion": "3.22", "icon": "icons/sam2.svg"}
    assert result["loaded"]
    assert result["started"]
    assert result["unloaded"]
    assert "&SAM 2" in result["menu_after_start"]
    assert "&SAM 2" not in result["menu_after_unload"]
    assert result["dock_visible"]
    assert result["dock_text"].startswith("Engine:")
    assert result["torch_loaded"] is False
    assert (out / "screenshot.png").stat().st_size > 10_000
