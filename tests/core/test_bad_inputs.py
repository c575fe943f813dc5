"""Bad inputs an analyst (or a damaged disk) hands the engine: each is an expected error that says what to do,
or works as promised; nothing is left half-written."""

from __future__ import annotations

import json
import math
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import rasterio
import torch
from rasterio.windows import Window

from core.cli.args import attach_negative_coordinates
from core.cli.parser import build_parser
from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene
from core.errors import InvalidCheckpointError, InvalidInputError, MissingInputError, OutputWriteError
from core.inference.segment import prompt_crs
from core.io.labels import read_vector_labels
from core.io.raster import RasterSource
from core.io.vectors import PolygonFeature, read_polygons, write_polygons
from core.jobs.events import json_line
from core.models.loader import load_model

SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]]}


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    return write_synthetic_scene(SyntheticSceneConfig(width=256, height=256, seed=2), tmp_path_factory.mktemp("bad"))


def whole(source: RasterSource) -> Window:
    return Window(0, 0, source.width, source.height)


# -- rasters ----------------------------------------------------------------------------------------------


@pytest.mark.quick
def test_a_truncated_geotiff_says_it_cannot_be_read_to_the_end(scene, tmp_path) -> None:
    truncated = tmp_path / "cut.tif"
    truncated.write_bytes(Path(scene.image).read_bytes()[:20_000])
    with pytest.raises(InvalidInputError, match=r"cannot be read to the end.*truncated"), RasterSource(truncated) as r:
        r.read_rgb(whole(r))


@pytest.mark.quick
def test_a_vrt_whose_source_is_gone_says_so(scene, tmp_path) -> None:
    from osgeo import gdal

    source = tmp_path / "source.tif"
    shutil.copy(scene.image, source)
    gdal.Translate(str(tmp_path / "mosaic.vrt"), str(source), format="VRT")
    source.unlink()
    vrt = tmp_path / "mosaic.vrt"
    with pytest.raises(InvalidInputError, match="source of a VRT may be missing"), RasterSource(vrt) as raster:
        raster.read_rgb(whole(raster))


@pytest.mark.quick
def test_a_vrt_with_a_python_pixel_function_is_refused_and_its_code_never_runs(scene, tmp_path) -> None:
    marker = tmp_path / "code-ran"
    vrt = tmp_path / "evil.vrt"
    vrt.write_text(
        f"""<VRTDataset rasterXSize="256" rasterYSize="256">
  <VRTRasterBand dataType="Byte" band="1" subClass="VRTDerivedRasterBand">
    <PixelFunctionType>evil</PixelFunctionType>
    <PixelFunctionLanguage>Python</PixelFunctionLanguage>
    <PixelFunctionCode><![CDATA[
import pathlib
def evil(in_ar, out_ar, *args, **kwargs):
    pathlib.Path({str(marker)!r}).write_text("ran")
    out_ar[:] = 0
]]></PixelFunctionCode>
    <SimpleSource>
      <SourceFilename relativeToVRT="0">{scene.image}</SourceFilename><SourceBand>1</SourceBand>
    </SimpleSource>
  </VRTRasterBand>
</VRTDataset>"""
    )
    with pytest.raises(InvalidInputError, match="Python pixel function"):
        RasterSource(vrt)
    assert not marker.exists()


@pytest.mark.quick
def test_nan_in_a_float_raster_without_nodata_is_nodata(scene, tmp_path) -> None:
    with rasterio.open(scene.image) as source:
        profile, data = source.profile, source.read().astype("float32")
    data[:, :64, :] = np.nan
    profile.update(dtype="float32", nodata=None)
    path = tmp_path / "float.tif"
    with rasterio.open(path, "w", **profile) as target:
        target.write(data)
    with RasterSource(path) as raster:
        assert all(math.isfinite(v) for v in (*raster.preprocessing.low, *raster.preprocessing.high))
        rgb, valid = raster.read_rgb(whole(raster))
        assert not valid[:64].any()
        assert valid[64:].all()
        assert rgb[64:].std() > 10  # the rest is a picture, not black
        assert (raster.valid_mask(whole(raster)) == valid).all()


@pytest.mark.quick
def test_polygons_of_a_raster_without_a_crs_are_written_in_pixel_coordinates(tmp_path) -> None:
    path = write_polygons(tmp_path / "segments.gpkg", [PolygonFeature(SQUARE, {"class": "x"})], "", "segments",
                          {"class": str})  # fmt: skip
    features, crs = read_polygons(path)
    assert crs == "" or "Undefined" in crs  # GeoPackage records "undefined" (srs_id 0), not a real CRS
    assert list(features[0].geometry["coordinates"][0][0][0][:2]) == [0.0, 0.0]  # a multipolygon, in pixels


# -- prompts and labels -----------------------------------------------------------------------------------


@pytest.mark.quick
@pytest.mark.parametrize("crs", ["EPSG:999999", "nonsense"])
def test_an_unknown_prompt_crs_says_what_to_give(crs) -> None:
    with pytest.raises(InvalidInputError, match=f"unknown CRS '{crs}' for the prompts: give an EPSG code"):
        prompt_crs(crs)


@pytest.mark.quick
def test_a_longitude_west_of_greenwich_is_a_point_not_an_option() -> None:
    argv = ["segment", "--raster", "a.tif", "--checkpoint", "b.pt", "--out", "s.gpkg",
            "--point", "-71.25,42.5", "--point", "-.5,1,0", "--box", "-72,42,-71,43"]  # fmt: skip
    args = build_parser().parse_args(attach_negative_coordinates(argv))
    assert args.point == [[-71.25, 42.5], [-0.5, 1.0, 0.0]]
    assert args.box == [-72.0, 42.0, -71.0, 43.0]
    assert attach_negative_coordinates(["--point", "--box"]) == ["--point", "--box"]  # only values move


@pytest.mark.quick
def test_a_class_field_holding_words_says_to_use_numbers(scene, tmp_path) -> None:
    from osgeo import gdal

    labels = tmp_path / "named.gpkg"
    gdal.VectorTranslate(str(labels), str(scene.labels), SQLStatement="SELECT geom, 'roof' AS kind FROM labels",
                         layerName="labels")  # fmt: skip
    with pytest.raises(InvalidInputError, match=r"the class field 'kind' of named.gpkg holds 'roof', not a class"):
        read_vector_labels(labels, None, "kind")
    numbered = tmp_path / "numbered.gpkg"
    gdal.VectorTranslate(str(numbered), str(scene.labels), SQLStatement="SELECT geom, '2' AS kind FROM labels",
                         layerName="labels")  # fmt: skip
    assert {p.class_id for p in read_vector_labels(numbered, None, "kind")} == {2}  # numbers as text are fine


# -- checkpoints ------------------------------------------------------------------------------------------


def edited_checkpoint(tiny_checkpoint, path: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    payload = torch.load(tiny_checkpoint.path, map_location="cpu", weights_only=True)
    edit(payload["model"])
    torch.save(payload, path)
    shutil.copy(tiny_checkpoint.metadata_path, path.with_suffix(".json"))
    return path


@pytest.mark.quick
def test_a_checkpoint_with_a_wrongly_shaped_tensor_says_it_does_not_fit(tiny_checkpoint, tmp_path) -> None:
    def reshape(weights: dict) -> None:
        weights["sam_prompt_encoder.mask_downscaling.0.weight"] = torch.zeros(3, 3)

    path = edited_checkpoint(tiny_checkpoint, tmp_path / "edited.pt", reshape)
    with pytest.raises(InvalidCheckpointError, match=r"does not fit SAM 2.1 tiny: size mismatch for sam_prompt"):
        load_model(path, device="cpu")


@pytest.mark.quick
def test_a_checkpoint_with_nan_weights_is_refused_at_load(tiny_checkpoint, tmp_path) -> None:
    def diverge(weights: dict) -> None:
        weights["sam_mask_decoder.iou_token.weight"] = weights["sam_mask_decoder.iou_token.weight"] * float("nan")

    path = edited_checkpoint(tiny_checkpoint, tmp_path / "diverged.pt", diverge)
    with pytest.raises(InvalidCheckpointError, match=r"not numbers .* sam_mask_decoder.iou_token.weight"):
        load_model(path, device="cpu")


@pytest.mark.quick
def test_nan_never_reaches_json() -> None:
    assert json.loads(json_line({"score": float("nan"), "scores": [1.0, float("inf")]})) == {
        "score": None,
        "scores": [1.0, None],
    }


@pytest.mark.quick
@pytest.mark.parametrize("text", ["{not json", '["a list"]', '{"image_size": "big"}'])
def test_a_corrupt_json_sidecar_names_the_file(tiny_checkpoint, tmp_path, text) -> None:
    path = tmp_path / "model.pt"
    shutil.copy(tiny_checkpoint.path, path)
    path.with_suffix(".json").write_text(text)
    with pytest.raises(InvalidCheckpointError, match=r"model.json, the description beside model.pt"):
        load_model(path, device="cpu")


@pytest.mark.quick
@pytest.mark.parametrize("size", [0, -32, 100])
def test_an_image_size_that_is_not_a_positive_multiple_of_32_is_refused(tiny_checkpoint, size) -> None:
    with pytest.raises(InvalidInputError, match=f"image size {size} px: SAM 2 needs a positive multiple of 32"):
        load_model(tiny_checkpoint.path, device="cpu", image_size=size)


# -- stopping and resuming --------------------------------------------------------------------------------


def wait_for(predicate, timeout: float = 180) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_sigterm_during_predict_keeps_nothing_half_written(repo_root, tiny_checkpoint, tmp_path) -> None:
    big = write_synthetic_scene(SyntheticSceneConfig(width=1024, height=1024, seed=4), tmp_path / "scene")
    out = tmp_path / "out"
    out.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "core", "predict", "--raster", big.image, "--checkpoint", tiny_checkpoint.path,
         "--out", out / "mask.tif", "--vector", out / "objects.gpkg", "--device", "cpu", "--events", "-"],
        cwd=repo_root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    first = process.stdout.readline()
    assert json.loads(first)["event"] == "progress"
    process.send_signal(signal.SIGTERM)
    rest, _ = process.communicate(timeout=120)
    assert process.returncode == 2
    last = json.loads(rest.splitlines()[-1])
    assert last["event"] == "error"
    assert last["cancelled"] is True
    assert list(out.iterdir()) == []  # no mask, no hidden temporary file


@pytest.fixture(scope="module")
def stopped_run(repo_root, scene, tiny_checkpoint, tmp_path_factory, train_args):  # type: ignore[no-untyped-def]
    """A training stopped with Ctrl-C (SIGINT) after its first step: (run folder, exit code, stdout)."""
    run_dir = tmp_path_factory.mktemp("stopped") / "run"
    events = run_dir.parent / "events.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "core", *train_args(scene.image, scene.labels, tiny_checkpoint.path, run_dir, 50, 8),
         "--events", events],
        cwd=repo_root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    wait_for(lambda: events.exists() and '"step"' in events.read_text())
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=180)
    return run_dir, process.returncode, out


@pytest.mark.slow
def test_ctrl_c_during_training_saves_a_resumable_state_and_exits_cleanly(stopped_run) -> None:
    run_dir, returncode, out = stopped_run
    assert returncode == 0
    assert json.loads(out)["stopped"] is True
    assert (run_dir / "resume.pt").exists()
    assert not [p for p in run_dir.iterdir() if ".tmp" in p.name]


def copy_of(run_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    return copy


@pytest.mark.slow
def test_resuming_a_run_whose_record_is_damaged_says_so(stopped_run, tmp_path) -> None:
    from core.training import run

    run_dir = copy_of(stopped_run[0], tmp_path)
    (run_dir / "run.json").write_text('{"inputs": {"raster"')
    with pytest.raises(InvalidInputError, match=r"run.json is damaged .* cannot be resumed"):
        run.resume(run_dir)


@pytest.mark.slow
def test_resuming_a_run_whose_raster_is_gone_says_which(stopped_run, tmp_path) -> None:
    from core.training import run

    run_dir = copy_of(stopped_run[0], tmp_path)
    record = json.loads((run_dir / "run.json").read_text())
    record["inputs"]["raster"] = str(tmp_path / "moved.tif")
    (run_dir / "run.json").write_text(json.dumps(record))
    with pytest.raises(MissingInputError, match=r"the run's raster .*moved.tif is gone: put it back"):
        run.resume(run_dir)


class RunsCode:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, ("touch code-ran",))


@pytest.mark.slow
def test_resuming_from_an_unsafe_state_file_refuses_it_and_never_runs_it(stopped_run, tmp_path, monkeypatch) -> None:
    from core.training import run

    monkeypatch.chdir(tmp_path)
    run_dir = copy_of(stopped_run[0], tmp_path)
    (run_dir / "resume.pt").write_bytes(pickle.dumps({"trained": RunsCode()}))
    with pytest.raises(InvalidCheckpointError, match=r"resume.pt cannot be resumed .* start a new run"):
        run.resume(run_dir)
    assert not (tmp_path / "code-ran").exists()


# -- outputs that cannot be written -----------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):  # type: ignore[no-untyped-def]
    """``mount(size, read_only)``: a real tmpfs of ``size`` at a folder under tmp_path (needs root, as CI has)."""
    mounted: list[Path] = []

    def mount(size: str = "1m", read_only: bool = False) -> Path:
        point = tmp_path / f"disk{len(mounted)}"
        point.mkdir()
        options = f"size={size}" + (",ro" if read_only else "")
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True, text=True
        )
        if done.returncode:
            pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip()}): these checks need root")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", "-l", str(point)], check=False)


def fill(disk: Path, leave: int) -> None:
    """Fill ``disk`` up to ``leave`` bytes free."""
    free = shutil.disk_usage(disk).free
    (disk / "filler").write_bytes(b"\0" * max(0, free - leave))


@pytest.mark.quick
def test_saving_a_checkpoint_on_a_full_disk_keeps_the_previous_one(small_disk) -> None:
    from core.training.run_folder import save_torch

    disk = small_disk("4m")
    (disk / "best.pt").write_bytes(b"the previous checkpoint")
    fill(disk, 0)
    with pytest.raises(OutputWriteError, match=r"no space left on the device for best.pt .*best.pt is unchanged"):
        save_torch(disk / "best.pt", {"weights": torch.zeros(1_000_000)})
    assert (disk / "best.pt").read_bytes() == b"the previous checkpoint"
    assert sorted(p.name for p in disk.iterdir()) == ["best.pt", "filler"]


def test_predict_on_a_full_disk_says_so_and_keeps_the_previous_mask(core_cli, scene, tiny_checkpoint, small_disk):  # type: ignore[no-untyped-def]
    disk = small_disk("2m")
    (disk / "mask.tif").write_bytes(b"the previous mask")
    fill(disk, 0)
    out = disk / "mask.tif"
    done = core_cli("predict", "--raster", scene.image, "--checkpoint", tiny_checkpoint.path, "--out", out,
                    "--probabilities", disk / "probabilities.tif", "--device", "cpu")  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "no space left on the device" in done.stderr
    assert "Traceback" not in done.stderr
    assert (disk / "mask.tif").read_bytes() == b"the previous mask"
    assert sorted(p.name for p in disk.iterdir()) == ["filler", "mask.tif"]


@pytest.fixture(scope="module")
def large_scene(tmp_path_factory):
    """1024 x 1024 px: its probabilities fill a small disk part of the way through."""
    return write_synthetic_scene(SyntheticSceneConfig(width=1024, height=1024, seed=2), tmp_path_factory.mktemp("big"))


@pytest.mark.parametrize("leave", [50_000, 150_000])  # full while the probabilities / the polygons are written
def test_predict_filling_the_disk_says_so_and_keeps_every_previous_output(  # type: ignore[no-untyped-def]
    core_cli, large_scene, tiny_checkpoint, small_disk, leave
):
    disk = small_disk("2m")
    (disk / "mask.tif").write_bytes(b"the previous mask")
    (disk / "objects.gpkg").write_bytes(b"the previous polygons")
    fill(disk, leave)
    done = core_cli("predict", "--raster", large_scene.image, "--checkpoint", tiny_checkpoint.path, "--out",
                    disk / "mask.tif", "--vector", disk / "objects.gpkg", "--device", "cpu")  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "no space left on the device" in done.stderr
    assert "Traceback" not in done.stderr
    assert (disk / "mask.tif").read_bytes() == b"the previous mask"
    assert (disk / "objects.gpkg").read_bytes() == b"the previous polygons"
    assert sorted(p.name for p in disk.iterdir()) == ["filler", "mask.tif", "objects.gpkg"]


def segment_into(core_cli, scene, checkpoint, out: Path) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    """``segment`` one click in the middle of ``scene`` into ``out``."""
    with rasterio.open(scene.image) as source:
        x, y = source.xy(128, 128)
    return core_cli("segment", "--raster", scene.image, "--checkpoint", checkpoint.path, "--point", f"{x},{y}",
                    "--out", out, "--device", "cpu")  # fmt: skip


@pytest.mark.parametrize("leave", [0, 20_000, 100_000])  # SQLite fails differently as the disk fills
def test_segment_into_a_geopackage_on_a_full_disk_says_so(core_cli, scene, tiny_checkpoint, small_disk, leave) -> None:
    disk = small_disk("2m")
    (disk / "segments.gpkg").write_bytes(b"the previous segments")
    fill(disk, leave)
    done = segment_into(core_cli, scene, tiny_checkpoint, disk / "segments.gpkg")
    assert done.returncode == 2, done.stderr
    assert "no space left on the device for segments.gpkg" in done.stderr
    assert "Traceback" not in done.stderr
    assert (disk / "segments.gpkg").read_bytes() == b"the previous segments"
    assert sorted(p.name for p in disk.iterdir()) == ["filler", "segments.gpkg"]


@pytest.mark.quick
def test_a_checkpoint_that_fills_the_disk_while_saved_keeps_the_previous_one(small_disk) -> None:
    from core.training.run_folder import save_torch

    disk = small_disk("4m")
    (disk / "best.pt").write_bytes(b"the previous checkpoint")
    fill(disk, 500_000)  # torch.save gets part of the way: "[enforce fail ...] unexpected pos"
    with pytest.raises(OutputWriteError, match=r"no space left on the device for best.pt .*best.pt is unchanged"):
        save_torch(disk / "best.pt", {"weights": torch.zeros(1_000_000)})
    assert (disk / "best.pt").read_bytes() == b"the previous checkpoint"
    assert sorted(p.name for p in disk.iterdir()) == ["best.pt", "filler"]


@pytest.mark.quick
def test_the_embedding_cache_on_a_full_disk_keeps_the_features_in_memory(small_disk) -> None:
    from core.inference.embeddings import EmbeddingCache, TileFeatures

    disk = small_disk("1m")
    fill(disk, 0)
    cache = EmbeddingCache(folder=disk)
    features = TileFeatures(torch.ones(8, 4, 4), (torch.ones(2, 16, 16), torch.ones(4, 8, 8)), 1.0)
    cache.put("key", features)  # no error: a cache that cannot write is a cache in memory
    assert cache.get("key") is features
    assert [p.name for p in disk.rglob("*") if p.is_file() and p.name != "filler"] == []


def test_segment_into_a_read_only_folder_says_so(core_cli, scene, tiny_checkpoint, small_disk) -> None:
    disk = small_disk(read_only=True)
    done = segment_into(core_cli, scene, tiny_checkpoint, disk / "segments.gpkg")
    assert done.returncode == 2, done.stderr
    assert "choose a folder you can write to" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.quick
def test_resuming_a_folder_without_a_resumable_state_says_to_start_a_new_run(tmp_path) -> None:
    from core.training import run

    (tmp_path / "run.json").write_text("{}")
    with pytest.raises(MissingInputError, match=r"holds no resumable run .*: start a new one"):
        run.resume(tmp_path)


@pytest.mark.quick
@pytest.mark.parametrize("option", [{"epochs": 0}, {"batch_size": 0}])
def test_zero_epochs_or_batch_size_is_refused(option) -> None:
    from core.errors import InvalidConfigError
    from core.training.config import TrainConfig

    with pytest.raises(InvalidConfigError, match="epochs and batch_size must be at least 1"):
        TrainConfig(**option)
