"""`make demo` end to end (``python -m core demo``, as the Makefile runs it), and its outputs opened with the
QGIS API: every layer valid, in its raster's CRS, with features; the report complete; the summary printed."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from qgis.core import QgsRasterLayer, QgsVectorLayer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(repo_root, tmp_path_factory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("demo") / "demo-output"
    done = subprocess.run(
        [sys.executable, "-m", "core", "demo", "--out", str(out)],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out, done.stdout


def test_the_demo_says_which_model_it_used(demo) -> None:
    out, stdout = demo
    metrics = json.loads((out / "report" / "metrics.json").read_text())
    assert f"model: {metrics['model']['note']}" in stdout
    if not metrics["model"]["pretrained"]:
        assert "NO PRETRAINED WEIGHTS FOUND" in stdout
        assert "test the machinery, not SAM 2" in stdout


def test_fine_tuning_beats_the_base_model_and_the_summary_is_printed(demo) -> None:
    out, stdout = demo
    scenes = json.loads((out / "report" / "metrics.json").read_text())["scenes"]
    assert set(scenes) == {"synthetic", "osbs"}
    synthetic = scenes["synthetic"]
    assert synthetic["tuned"]["iou"] > synthetic["base"]["iou"] + 0.1  # held-out validation tiles
    assert synthetic["heldout"]["pixel"]["iou"] > 0.2  # the eastern part it never trained on
    for name, scene in scenes.items():
        assert len(scene["click_iou"]) == 4
        assert scene["polygon_count"] > 0
        assert scene["throughput"]["predict_mpx_per_s"] > 0
        row = next(line for line in stdout.splitlines() if line.startswith(name + " "))
        assert f"{scene['base']['iou']:.3f}" in row
        assert f"{scene['tuned']['iou']:.3f}" in row
    assert "demo done in" in stdout
    for name in ("metrics.json", "overlay.png", "curves_synthetic.png", "curves_osbs.png"):
        assert (out / "report" / name).stat().st_size > 500


def test_the_outputs_open_in_qgis_with_the_printed_command(demo) -> None:
    _, stdout = demo
    command = next(line.strip() for line in stdout.splitlines() if line.strip().startswith("make qgis OPEN="))
    make, target, assignment = shlex.split(command)  # as the shell reads it
    assert (make, target) == ("make", "qgis")
    files = [Path(p) for p in assignment.removeprefix("OPEN=").split()]
    assert len(files) == 10
    crs = {"synthetic": "EPSG:32633", "osbs": "EPSG:32617"}
    for path in files:
        expected = crs["osbs"] if "osbs" in path.name.lower() else crs["synthetic"]
        if path.suffix == ".tif":
            layer = QgsRasterLayer(str(path), path.stem)
            assert layer.isValid(), path
            assert layer.crs().authid() == expected, path
        else:
            layer = QgsVectorLayer(str(path), path.stem, "ogr")
            assert layer.isValid(), path
            assert layer.crs().authid() == expected, path
            assert layer.featureCount() > 0, path
    assert {p.name for p in files} >= {
        "synthetic_mask.tif",
        "synthetic_polygons.gpkg",
        "osbs_mask.tif",
        "osbs_polygons.gpkg",
        "clicks_synthetic.gpkg",
        "clicks_osbs.gpkg",
    }
