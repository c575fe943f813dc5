"""A region of many rasters: one resumable job, on one process or on torchrun's ranks, with the same masks as
predicting each raster alone and objects cut by raster edges joined into one polygon."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window
from shapely.geometry import shape

from core.devtools.synthetic import SyntheticSceneConfig, cut_into_tiles, write_synthetic_scene
from core.io.atomic import sha256_file
from core.io.catalog import describe_catalog, resolve_catalog
from core.io.polygon_layers import export_polygons
from core.io.region_polygons import write_region_polygons
from core.io.vectors import read_polygons
from core.workflows.region import Rank, share_of

TILE = 128
THRESHOLD = 0.53  # random-init promptless probabilities lie about 0.46-0.57: blobs that cross raster edges


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> list[Path]:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("region")
    scene = write_synthetic_scene(SyntheticSceneConfig(width=3 * TILE, height=2 * TILE, seed=5), folder / "scene")
    return cut_into_tiles(scene.image, folder / "tiles", TILE)


def region_args(sources, checkpoint, out: Path, *extra: object) -> list[str]:  # type: ignore[no-untyped-def]
    rasters = [item for source in sources for item in ("--raster", str(source))]
    return ["predict", *rasters, "--checkpoint", str(checkpoint), "--out", str(out), "--device", "cpu",
            "--vector", str(out.parent / f"{out.name}.gpkg"), "--mode", "auto", "--threshold", str(THRESHOLD),
            *map(str, extra)]  # fmt: skip


def masks_of(folder: Path) -> dict[str, str]:
    return {path.name: sha256_file(path) for path in sorted((folder / "masks").glob("*.tif"))}


@pytest.fixture(scope="module")
def one_process(catalog, tiny_checkpoint, core_cli, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The region predicted by one process, from its folder."""
    out = tmp_path_factory.mktemp("one") / "region"
    events = out.parent / "events.jsonl"
    done = core_cli(*region_args([catalog[0].parent], tiny_checkpoint.path, out), "--events", events, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return out, json.loads(done.stdout)


def test_a_region_has_the_masks_of_each_raster_alone(one_process, catalog, tiny_checkpoint, tmp_path) -> None:
    from core.inference.predict_config import PredictConfig
    from core.workflows.prediction import PredictionJob, predict_to_files

    out, result = one_process
    assert result["rasters"] == len(catalog) == 6
    assert sorted(result["predicted"]) == sorted(path.stem for path in catalog)
    assert result["skipped"] == []
    lines = [json.loads(line) for line in (out.parent / "events.jsonl").read_text().splitlines()]
    region = [e for e in lines if e.get("stage") == "predicting the region"]
    assert [e["fraction"] for e in region] == sorted(e["fraction"] for e in region)  # the region's, rising
    assert region[-1]["fraction"] == 1.0
    assert region[-1]["parts_finished"] == region[-1]["parts"] == 6
    assert region[-1]["mpx_per_s"] > 0
    assert region[-1]["seconds_left"] == 0.0
    for raster in catalog:  # as `predict --raster <one>` does
        alone = PredictionJob(
            raster, tiny_checkpoint.path, tmp_path / f"{raster.stem}.tif", vector=tmp_path / f"{raster.stem}.gpkg",
            device="cpu", config=PredictConfig(threshold=THRESHOLD), mode="auto",
        )  # fmt: skip
        predict_to_files(alone)
        assert sha256_file(tmp_path / f"{raster.stem}.tif") == sha256_file(out / "masks" / f"{raster.stem}.tif")
    with rasterio.open(out / "region.vrt") as mosaic:  # the mosaic shows every mask where it lies
        assert (mosaic.width, mosaic.height) == (3 * TILE, 2 * TILE)
        with rasterio.open(out / "masks" / "tile_1_2.tif") as last:
            assert np.array_equal(mosaic.read(1, window=Window(2 * TILE, TILE, TILE, TILE)), last.read(1))

    # the region's polygons are the rasters' own, joined where raster edges cut objects
    rasters = describe_catalog(catalog)
    expected = tmp_path / "expected.gpkg"
    count = write_region_polygons(
        [tmp_path / f"{r.path.stem}.gpkg" for r in rasters],
        [r.bounds for r in rasters],
        rasters[0].pixel_size,
        expected,
        rasters[0].crs,
    )
    region, _ = read_polygons(out.parent / "region.gpkg")
    assert result["polygons"] == count == len(region) > 0
    wanted, _ = read_polygons(expected)
    assert [shape(f.geometry).wkt for f in region] == [shape(f.geometry).wkt for f in wanted]
    assert [f.attributes["instance_id"] for f in region] == list(range(1, count + 1))  # unique across the region
    parts = sum(len(read_polygons(tmp_path / f"{r.path.stem}.gpkg")[0]) for r in rasters)
    assert count < parts  # some objects crossed raster edges and were joined


def test_an_object_across_two_rasters_is_one_polygon(tmp_path) -> None:
    transform = rasterio.Affine(0.5, 0, 1000, 0, -0.5, 2000)
    profile = dict(driver="GTiff", width=64, height=64, count=1, dtype="uint8", crs="EPSG:32617", nodata=255)
    region = np.zeros((64, 128), np.uint8)
    region[20:40, 50:90] = 1  # a building across the line between the two rasters (column 64)
    region[5:10, 5:10] = 1  # and one inside the first only
    masks, footprints = [], []
    for index in range(2):
        path = tmp_path / f"{'ab'[index]}.tif"
        grid = transform * rasterio.Affine.translation(64 * index, 0)
        with rasterio.open(path, "w", transform=grid, **profile) as out:
            out.write(region[:, 64 * index : 64 * (index + 1)], 1)
        export_polygons(path, tmp_path / f"{path.stem}.gpkg", source_name=path.name)
        masks.append(tmp_path / f"{path.stem}.gpkg")
        with rasterio.open(path) as opened:
            footprints.append(tuple(opened.bounds))
    count = write_region_polygons(masks, footprints, 0.5, tmp_path / "region.gpkg", "EPSG:32617")
    features, _ = read_polygons(tmp_path / "region.gpkg")
    assert count == len(features) == 2
    building = max(features, key=lambda f: shape(f.geometry).area)
    assert len(shape(building.geometry).geoms) == 1  # one part: the seam is gone
    assert shape(building.geometry).area == pytest.approx(20 * 40 * 0.25)
    assert building.attributes["area_m2"] == pytest.approx(200.0)
    assert building.attributes["source"] == "b.tif;a.tif"  # b holds more of it (26 of 40 columns)


def test_overlapping_rasters_give_an_object_once(tmp_path) -> None:
    transform = rasterio.Affine(0.5, 0, 1000, 0, -0.5, 2000)
    profile = dict(driver="GTiff", width=64, height=64, count=1, dtype="uint8", crs="EPSG:32617", nodata=255)
    region = np.zeros((64, 96), np.uint8)
    region[20:30, 40:50] = 1  # inside the strip both rasters cover (columns 32-63)
    parts, footprints = [], []
    for index, start in enumerate((0, 32)):
        path = tmp_path / f"r{index}.tif"
        with rasterio.open(path, "w", transform=transform * rasterio.Affine.translation(start, 0), **profile) as out:
            out.write(region[:, start : start + 64], 1)
        export_polygons(path, tmp_path / f"r{index}.gpkg", source_name=path.name)
        parts.append(tmp_path / f"r{index}.gpkg")
        with rasterio.open(path) as opened:
            footprints.append(tuple(opened.bounds))
    assert write_region_polygons(parts, footprints, 0.5, tmp_path / "region.gpkg", "EPSG:32617") == 1


def test_shares_balance_pixels_and_cover_every_raster_once(catalog) -> None:
    rasters = describe_catalog(catalog)
    names = [r.path.stem for r in rasters]
    shares = [share_of(rasters, names, Rank(rank, 2)) for rank in range(2)]
    assert sorted(shares[0] + shares[1]) == list(range(6))
    assert len(shares[0]) == len(shares[1]) == 3  # equal sizes: equal shares


def torchrun(args: list[str], repo_root: Path, logs: Path, ranks: int = 2) -> subprocess.Popen[str]:
    """``torchrun --nproc-per-node ranks -m core ARGS``, each rank's output in its own file under ``logs``."""
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(ranks), "--master-port",
               "0", "--log-dir", str(logs), "--redirects", "3", "-m", "core", *args]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        command,
        cwd=repo_root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def rank_pids(launcher: int) -> dict[int, int]:
    """The process of each rank torchrun ``launcher`` started, by its RANK (Linux: read from /proc)."""
    found: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            environ = dict(item.split("=", 1) for item in (entry / "environ").read_text().split("\0") if "=" in item)
        except (OSError, IndexError, ValueError):
            continue
        if parent == launcher and "RANK" in environ:
            found[int(environ["RANK"])] = int(entry.name)
    return found


@pytest.mark.slow
def test_two_ranks_under_torchrun_give_the_masks_of_one_process(
    one_process, catalog, tiny_checkpoint, tmp_path, repo_root
) -> None:
    out = tmp_path / "region"
    process = torchrun(region_args(catalog, tiny_checkpoint.path, out), repo_root, tmp_path / "logs")
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr[-3000:]
    results = [json.loads(log.read_text()) for log in sorted((tmp_path / "logs").rglob("stdout.log"))]
    assert sorted(r["rank"] for r in results) == [0, 1]
    predicted = [set(r["predicted"]) for r in results]
    assert predicted[0]
    assert predicted[1]
    assert not predicted[0] & predicted[1]
    assert masks_of(out) == masks_of(one_process[0])
    region, _ = read_polygons(out.parent / "region.gpkg")
    alone, _ = read_polygons(one_process[0].parent / "region.gpkg")
    assert [shape(f.geometry).wkt for f in region] == [shape(f.geometry).wkt for f in alone]


@pytest.mark.slow
def test_a_killed_rank_leaves_a_region_that_resume_finishes(
    one_process, catalog, tiny_checkpoint, tmp_path, repo_root, core_cli
) -> None:
    out = tmp_path / "region"
    args = region_args(catalog, tiny_checkpoint.path, out)
    process = torchrun(args, repo_root, tmp_path / "logs")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not list((out / "parts").glob("*.json")):
        time.sleep(0.02)
    os.kill(rank_pids(process.pid)[1], signal.SIGKILL)  # rank 1 dies mid-region; torchrun stops rank 0
    process.communicate(timeout=120)
    assert process.returncode != 0
    recorded = {path.stem for path in (out / "parts").glob("*.json")}
    assert 0 < len(recorded) < len(catalog), recorded
    damaged = sorted(recorded)[0]  # a part whose mask changed after its record: redone, never trusted
    (out / "masks" / f"{damaged}.tif").write_bytes(b"half a GeoTIFF")

    again = core_cli(*args, "--resume", timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    result = json.loads(again.stdout)
    assert set(result["skipped"]) == recorded - {damaged}  # only what was finished and intact is kept
    assert set(result["predicted"]) == {path.stem for path in catalog} - set(result["skipped"])
    assert masks_of(out) == masks_of(one_process[0])  # as if never interrupted
    assert not [p for p in out.rglob(".*") if p.is_file()]  # no temporary file left behind


def test_a_catalog_comes_from_folders_patterns_lists_and_mosaics(catalog, tmp_path) -> None:
    folder = catalog[0].parent
    listing = tmp_path / "tiles.txt"
    listing.write_text("# the north row\n" + "\n".join(os.path.relpath(p, tmp_path) for p in catalog[:3]) + "\n\n")
    assert resolve_catalog([listing]) == [p.resolve() for p in catalog[:3]]
    assert resolve_catalog([str(folder / "tile_1_*.tif")]) == [p.resolve() for p in catalog[3:]]
    assert resolve_catalog([folder]) == [p.resolve() for p in catalog]
    assert resolve_catalog([catalog[0], folder]) == [p.resolve() for p in catalog]  # each once
    mosaic = tmp_path / "mosaic.vrt"
    subprocess.run(["gdalbuildvrt", "-q", str(mosaic), *map(str, catalog)], check=True)
    assert resolve_catalog([mosaic]) == [p.resolve() for p in catalog]


# -- bad inputs: each refused before any raster is predicted, with what to do ---------------------------------


def test_rasters_in_different_crss_are_refused_with_the_list(catalog, tmp_path) -> None:
    from core.errors import InvalidInputError

    other = tmp_path / "other.tif"
    with rasterio.open(catalog[0]) as source:
        profile = {**source.profile, "crs": "EPSG:3857"}
        with rasterio.open(other, "w", **profile) as out:
            out.write(source.read())
    with pytest.raises(InvalidInputError, match=r"2 different CRSs.*EPSG:3857: other.tif.*gdalwarp"):
        describe_catalog(resolve_catalog([*catalog, other]))


def test_an_unreadable_raster_stops_the_region_before_it_starts(catalog, tmp_path, tiny_checkpoint, core_cli) -> None:
    broken = tmp_path / "broken.tif"
    broken.write_bytes(b"II*\x00 not really a tiff")
    out = tmp_path / "region"
    done = core_cli(*region_args([*catalog, broken], tiny_checkpoint.path, out))
    assert done.returncode != 0
    assert "1 of 7 rasters cannot be read" in done.stderr
    assert "broken.tif" in done.stderr
    assert not out.exists()  # nothing started


def test_an_empty_folder_is_refused(tmp_path, tiny_checkpoint, core_cli) -> None:
    (tmp_path / "empty").mkdir()
    done = core_cli(*region_args([tmp_path / "empty"], tiny_checkpoint.path, tmp_path / "region"))
    assert done.returncode != 0
    assert "no raster found in" in done.stderr


def test_a_region_folder_that_holds_its_inputs_is_refused(catalog, tiny_checkpoint, core_cli) -> None:
    folder = catalog[0].parent
    done = core_cli(*region_args([folder], tiny_checkpoint.path, folder))
    assert done.returncode != 0
    assert "holds the input" in done.stderr
    assert not (folder / "masks").exists()


def test_resume_with_other_settings_and_a_second_run_without_resume_are_refused(
    one_process, catalog, tiny_checkpoint, core_cli
) -> None:
    out = one_process[0]
    before = masks_of(out)
    again = core_cli(*region_args(catalog, tiny_checkpoint.path, out))
    assert again.returncode != 0
    assert "add --resume" in again.stderr
    other = core_cli(*region_args(catalog, tiny_checkpoint.path, out, "--resume", "--overlap", "0.5"))
    assert other.returncode != 0
    assert "another model or other settings" in other.stderr
    assert masks_of(out) == before


def test_outputs_for_one_raster_are_refused_for_a_region(catalog, tiny_checkpoint, tmp_path, core_cli) -> None:
    done = core_cli(*region_args(catalog, tiny_checkpoint.path, tmp_path / "r", "--probabilities", tmp_path / "p.tif"))
    assert done.returncode != 0
    assert "--probabilities is for one raster" in done.stderr
