"""``python -m core``: weights and segment commands, and their errors (exit 2, a message, no traceback)."""

from __future__ import annotations

import json
import subprocess
import sys

import rasterio
from rasterio.crs import CRS

from core.io.atomic import sha256_file
from core.io.vectors import read_polygons


def run(repo_root, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core", *args], cwd=repo_root, capture_output=True, text=True, check=False, timeout=300
    )


def test_weights_init_writes_the_same_bytes_for_the_same_seed(repo_root, tmp_path, tiny_checkpoint) -> None:
    out = tmp_path / tiny_checkpoint.path.name  # same file name: torch records it nowhere, bytes must match
    result = run(
        repo_root,
        "weights",
        "init",
        "--model",
        "sam2.1_hiera_t",
        "--image-size",
        "256",
        "--seed",
        "0",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["checkpoint"] == str(out)
    assert sha256_file(out) == sha256_file(tiny_checkpoint.path)
    assert json.loads(out.with_suffix(".json").read_text())["image_size"] == 256


def test_weights_list_names_every_official_checkpoint(repo_root, tmp_path) -> None:
    result = run(repo_root, "weights", "list", "--cache-dir", str(tmp_path))
    models = json.loads(result.stdout)["models"]
    assert len(models) == 8
    assert {m["name"] for m in models} >= {"sam2.1_hiera_t", "sam2.1_hiera_l", "sam2_hiera_b+"}
    assert not any(m["downloaded"] for m in models)


def segment(repo_root, sample_data, tiny_checkpoint, *args: str) -> subprocess.CompletedProcess[str]:
    raster, checkpoint = str(sample_data.osbs_image), str(tiny_checkpoint.path)
    return run(repo_root, "segment", "--raster", raster, "--checkpoint", checkpoint, *args)


def test_segment_writes_polygons_in_the_raster_crs(repo_root, tmp_path, tiny_checkpoint, sample_data) -> None:
    with rasterio.open(sample_data.osbs_image) as src:
        x, y = src.transform * (200.5, 150.5)
        crs = src.crs
    out = tmp_path / "trees.gpkg"
    result = segment(
        repo_root,
        sample_data,
        tiny_checkpoint,
        "--point",
        f"{x},{y}",
        "--point",
        f"{x + 2},{y - 2},0",
        "--out",
        str(out),
        "--label",
        "tree",
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    features, crs_wkt = read_polygons(out, "segments")
    assert len(features) == summary["polygons"] > 0
    assert CRS.from_wkt(crs_wkt) == crs
    assert features[0].attributes["class"] == "tree"
    assert features[0].attributes["model"] == "sam2.1_hiera_t"


def test_segment_errors_are_messages(repo_root, tmp_path, tiny_checkpoint, sample_data) -> None:
    outside = segment(repo_root, sample_data, tiny_checkpoint, "--point", "0,0", "--out", str(tmp_path / "x.gpkg"))
    assert outside.returncode == 2
    assert "is outside the raster OSBS_029.tif" in outside.stderr
    assert "Traceback" not in outside.stderr
    assert not (tmp_path / "x.gpkg").exists()
    no_prompt = segment(repo_root, sample_data, tiny_checkpoint, "--out", str(tmp_path / "x.gpkg"))
    assert no_prompt.returncode == 2
    assert "no prompt" in no_prompt.stderr
    bad_point = run(
        repo_root, "segment", "--raster", "r.tif", "--checkpoint", "c.pt", "--point", "1,2,7", "--out", "x.gpkg"
    )
    assert bad_point.returncode == 2
    assert "the label is 1 (foreground) or 0 (background)" in bad_point.stderr
