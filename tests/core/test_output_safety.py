"""Outputs never destroy inputs: every job refuses, before any work, an output that names one of its inputs,
another output or a folder; a run folder is locked while a run writes it and never replaces another run."""

from __future__ import annotations

import json
import os

import pytest
from osgeo import gdal

from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene
from core.io.atomic import sha256_file
from core.training.run_lock import LOCK_NAME, run_lock


@pytest.fixture(scope="module")
def scene(tmp_path_factory):  # type: ignore[no-untyped-def]
    return write_synthetic_scene(SyntheticSceneConfig(width=256, height=256, seed=3), tmp_path_factory.mktemp("s"))


def refused(done, *names: object) -> str:  # type: ignore[no-untyped-def]
    """The error line of a refused command: exit 2, no traceback, naming every one of ``names``."""
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    for name in names:
        assert str(name) in done.stderr, done.stderr
    return done.stderr


def predict(core_cli, raster, checkpoint, out, *extra: object):  # type: ignore[no-untyped-def]
    return core_cli("predict", "--raster", raster, "--checkpoint", checkpoint, "--out", out, "--device", "cpu", *extra)


def test_predict_out_equal_to_the_raster_is_refused_and_the_raster_kept(core_cli, scene, tiny_checkpoint, tmp_path):
    raster = tmp_path / "ortho.tif"
    raster.write_bytes(scene.image.read_bytes())
    before = sha256_file(raster)
    error = refused(predict(core_cli, raster, tiny_checkpoint.path, raster), "--out", "--raster")
    assert "destroy the input" in error
    assert sha256_file(raster) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ortho.tif"]  # no temporary file left


def test_an_output_reaching_the_raster_through_a_link_or_a_relative_path_is_refused(
    core_cli, scene, tiny_checkpoint, tmp_path
) -> None:
    raster = tmp_path / "ortho.tif"
    raster.write_bytes(scene.image.read_bytes())
    link = tmp_path / "link.tif"
    link.symlink_to(raster)
    refused(predict(core_cli, raster, tiny_checkpoint.path, link), "--out", "--raster")
    refused(predict(core_cli, raster, tiny_checkpoint.path, tmp_path / "sub" / ".." / "ortho.tif"), "--raster")
    assert sha256_file(raster) == sha256_file(scene.image)


def test_predict_vector_equal_to_the_aoi_is_refused(core_cli, scene, tiny_checkpoint, tmp_path) -> None:
    aoi = tmp_path / "aoi.gpkg"
    aoi.write_bytes(scene.labels.read_bytes())
    before = sha256_file(aoi)
    done = predict(core_cli, scene.image, tiny_checkpoint.path, tmp_path / "m.tif", "--aoi", aoi, "--vector", aoi)
    refused(done, "--vector", "--aoi", aoi)
    assert sha256_file(aoi) == before
    assert not (tmp_path / "m.tif").exists()  # refused before any work


def test_predict_probabilities_equal_to_out_and_out_naming_a_folder_are_refused_before_any_work(
    core_cli, scene, tiny_checkpoint, tmp_path
) -> None:
    out = tmp_path / "mask.tif"
    refused(predict(core_cli, scene.image, tiny_checkpoint.path, out, "--probabilities", out), "--probabilities")
    assert not out.exists()
    folder = tmp_path / "outputs"
    folder.mkdir()
    error = refused(predict(core_cli, scene.image, tiny_checkpoint.path, folder), "--out", folder)
    assert "is a folder" in error
    assert list(folder.iterdir()) == []


def test_segment_out_equal_to_the_geopackage_holding_the_raster_is_refused(
    core_cli, scene, tiny_checkpoint, tmp_path
) -> None:
    package = tmp_path / "ortho.gpkg"
    gdal.Translate(str(package), str(scene.image), format="GPKG", creationOptions=["RASTER_TABLE=ortho"])
    before = sha256_file(package)
    for raster in (package, f"GPKG:{package}:ortho"):
        done = core_cli(
            "segment", "--raster", raster, "--checkpoint", tiny_checkpoint.path, "--point", "10,10", "--out", package
        )
        refused(done, "--out", "--raster")
    assert sha256_file(package) == before


def test_evaluate_report_named_like_the_json_truth_is_refused(core_cli, scene, tmp_path) -> None:
    truth = tmp_path / "report.json"
    gdal.VectorTranslate(str(truth), str(scene.labels), format="GeoJSON")
    before = sha256_file(truth)
    done = core_cli("evaluate", "--pred", scene.mask, "--truth", truth, "--out", tmp_path / "report.json")
    refused(done, "--out", "--truth")
    assert sha256_file(truth) == before
    done = core_cli("evaluate", "--pred", scene.mask, "--truth", truth, "--out", tmp_path / "report")  # .json too
    refused(done, "--truth")
    assert sha256_file(truth) == before


def train(core_cli, train_args, scene, checkpoint, out, *extra: object):  # type: ignore[no-untyped-def]
    return core_cli(*train_args(scene.image, scene.labels, checkpoint, out, 1, 2), *extra, timeout=600)


def test_training_into_the_folder_of_its_own_base_checkpoint_is_refused(
    core_cli, train_args, scene, tiny_checkpoint, tmp_path
) -> None:
    run = tmp_path / "runs" / "a"
    run.mkdir(parents=True)
    base = run / "best.pt"
    base.write_bytes(tiny_checkpoint.path.read_bytes())
    error = refused(train(core_cli, train_args, scene, base, run, "--overwrite"), "--checkpoint", base, "best.pt")
    assert "another --out" in error
    assert sha256_file(base) == sha256_file(tiny_checkpoint.path)
    assert sorted(p.name for p in run.iterdir()) == ["best.pt"]


def test_a_run_folder_in_use_by_another_training_is_refused(
    core_cli, train_args, scene, tiny_checkpoint, tmp_path
) -> None:
    run = tmp_path / "run"
    with run_lock(run):  # another training holds the folder
        error = refused(train(core_cli, train_args, scene, tiny_checkpoint.path, run), run)
        assert "another training is writing" in error
        assert not (run / "run.json").exists()
    assert not (run / LOCK_NAME).exists()  # released and removed


def test_a_finished_run_is_never_replaced_without_overwrite_and_stale_temporaries_are_cleaned(
    core_cli, train_args, scene, tiny_checkpoint, tmp_path
) -> None:
    run = tmp_path / "run"
    first = train(core_cli, train_args, scene, tiny_checkpoint.path, run)
    assert first.returncode == 0, first.stderr
    best = sha256_file(run / "best.pt")
    error = refused(train(core_cli, train_args, scene, tiny_checkpoint.path, run), "--resume", "--overwrite")
    assert "already holds a run" in error
    assert sha256_file(run / "best.pt") == best
    stale = run / ".best.k3j4.tmp.pt"  # what a SIGKILL during a checkpoint write leaves
    stale.write_bytes(b"half a checkpoint")
    again = train(core_cli, train_args, scene, tiny_checkpoint.path, run, "--overwrite")
    assert again.returncode == 0, again.stderr
    assert not stale.exists()
    assert json.loads((run / "summary.json").read_text())["epochs"] == 1
    assert not (run / LOCK_NAME).exists()


def test_train_out_naming_a_file_is_refused(core_cli, train_args, scene, tiny_checkpoint, tmp_path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("analyst's notes")
    refused(train(core_cli, train_args, scene, tiny_checkpoint.path, target), target, "is a file")
    assert target.read_text() == "analyst's notes"
    assert os.listdir(tmp_path) == ["notes.txt"]


def test_weights_init_never_replaces_an_existing_checkpoint(core_cli, tiny_checkpoint, tmp_path) -> None:
    real = tmp_path / "sam2.1_hiera_large.pt"
    real.write_bytes(b"an analyst's downloaded weights")
    refused(core_cli("weights", "init", "--out", real), "--out", real, "already exists")
    assert real.read_bytes() == b"an analyst's downloaded weights"


def test_the_archive_behind_a_vsizip_path_is_an_input(tmp_path) -> None:
    import zipfile

    from core.io.output_paths import files_behind

    archive = tmp_path / "labels.zip"
    with zipfile.ZipFile(archive, "w") as packed:
        packed.writestr("labels.geojson", "{}")
    for source in (f"/vsizip/{archive}/labels.geojson", f"/vsizip/{str(archive).lstrip('/')}/labels.geojson"):
        assert archive in files_behind(source), source


def test_an_events_file_naming_one_of_the_jobs_files_is_refused(core_cli, scene, tiny_checkpoint, tmp_path) -> None:
    """``--events FILE`` appends to FILE: naming the raster (or any other file of the job) would corrupt it."""
    before = scene.image.read_bytes()
    done = core_cli(
        "predict", "--raster", scene.image, "--checkpoint", tiny_checkpoint.path, "--out", tmp_path / "m.tif",
        "--events", scene.image,
    )  # fmt: skip
    refused(done, "--events", "--raster", scene.image)
    assert scene.image.read_bytes() == before
    assert not (tmp_path / "m.tif").exists()
