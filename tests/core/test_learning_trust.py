"""Fine-tuning never hands over a worse model, says how much its validation is worth, uses at prediction the
mode it was tuned for, and learns promptless masks on a sparse scene (objects <= 5 % of the pixels)."""

from __future__ import annotations

import json
import re

import pytest
import torch

from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene
from core.inference.predict_config import PredictConfig
from core.inference.predict_config import describe as describe_prediction
from core.models.checkpoint import read_checkpoint
from core.training.config import TrainConfig, describe
from core.training.run_folder import verdict
from core.training.selection import best_row


@pytest.fixture(scope="module")
def scene(tmp_path_factory):  # type: ignore[no-untyped-def]
    return write_synthetic_scene(SyntheticSceneConfig(width=512, height=512, seed=5), tmp_path_factory.mktemp("s"))


def train(core_cli, train_args, scene, checkpoint, out, epochs, *extra: object):  # type: ignore[no-untyped-def]
    return core_cli(*train_args(scene.image, scene.labels, checkpoint, out, epochs, 4), *extra, timeout=600)


def tensors(path) -> dict[str, torch.Tensor]:  # type: ignore[no-untyped-def]
    return read_checkpoint(path).state_dict


def test_the_base_model_stands_when_no_epoch_beats_it(core_cli, train_args, scene, tiny_checkpoint, tmp_path):
    run = tmp_path / "run"
    done = train(core_cli, train_args, scene, tiny_checkpoint.path, run, 4, "--lr", "1e-12", "--patience", "2")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["improved"] is False
    assert summary["best"]["epoch"] == 0
    assert "the base model stands" in done.stderr  # the one line the CLI prints
    assert summary["stopped_early"] is True
    assert summary["epochs"] == 2
    base, best = tensors(tiny_checkpoint.path), tensors(run / "best.pt")
    assert base.keys() == best.keys()
    assert all(torch.equal(base[k], best[k]) for k in base)  # best.pt holds the base weights
    assert read_checkpoint(run / "best.pt").metadata["improved"] is False
    assert "the base model stands" in (run / "report.html").read_text()
    assert summary["started_from"] == "base"

    again = train(core_cli, train_args, scene, run / "best.pt", tmp_path / "again", 1, "--lr", "1e-12")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["started_from"] == "tuned"  # a tuned model tuned again: no "base model"
    assert "the model you started from stands" in again.stderr
    report = (tmp_path / "again" / "report.html").read_text()
    assert "starting model" in report
    assert "base model" not in report


def test_best_is_the_first_row_with_the_highest_score_the_base_included() -> None:
    worse = [{"epoch": 0, "iou": 0.07}, {"epoch": 1, "iou": 0.05}, {"epoch": 2, "iou": 0.06}]
    assert best_row(worse, "iou")["epoch"] == 0
    tie = [{"epoch": 0, "iou": 0.07}, {"epoch": 1, "iou": 0.07}]
    assert best_row(tie, "iou")["epoch"] == 0  # a tuned model must beat the base, not match it
    better = [{"epoch": 0, "iou": 0.07}, {"epoch": 1, "iou": 0.09}, {"epoch": 2, "iou": 0.09}]
    assert best_row(better, "iou")["epoch"] == 1


def test_an_epoch_within_the_noise_margin_does_not_replace_the_base() -> None:
    noise = [{"epoch": 0, "iou": 0.0500}, {"epoch": 1, "iou": 0.0504}, {"epoch": 2, "iou": 0.0530}]
    assert best_row(noise, "iou", min_gain=0.005)["epoch"] == 0
    assert best_row(noise, "iou")["epoch"] == 2
    beyond = [*noise, {"epoch": 3, "iou": 0.0600}, {"epoch": 4, "iou": 0.0580}]
    assert best_row(beyond, "iou", min_gain=0.005)["epoch"] == 3
    line = verdict(noise[0], noise[0], "iou", 0.005)
    assert "base model stands" in line
    assert "by more than 0.005" in line


def test_a_run_that_improves_says_so_and_records_its_mode(core_cli, train_args, scene, tiny_checkpoint, tmp_path):
    run = tmp_path / "run"
    done = train(core_cli, train_args, scene, tiny_checkpoint.path, run, 3, "--lr", "1e-3", "--patience", "0")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["improved"] is True, summary
    assert summary["best"]["epoch"] >= 1
    assert "improved validation iou" in done.stderr
    assert summary["validation"]["tiles"] >= 1
    assert summary["validation"]["objects"] >= 5
    metadata = read_checkpoint(run / "best.pt").metadata
    assert (metadata["mode"], metadata["improved"]) == ("auto", True)


@pytest.mark.parametrize(("mode", "expected"), [("auto", "auto"), ("click", "grid")])
def test_predict_runs_the_mode_the_checkpoint_was_tuned_for(
    core_cli, train_args, scene, tiny_checkpoint, tmp_path, mode, expected
) -> None:
    run = tmp_path / "run"
    args = [*train_args(scene.image, scene.labels, tiny_checkpoint.path, run, 1, 4), "--mode", mode]
    trained = core_cli(*args, "--patience", "0", timeout=600)
    assert trained.returncode == 0, trained.stderr
    assert read_checkpoint(run / "last.pt").metadata["mode"] == mode
    done = core_cli(
        "predict", "--raster", scene.image, "--checkpoint", run / "last.pt", "--out", tmp_path / "m.tif", "--device",
        "cpu",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["mode"], result["mode_from"]) == (expected, "checkpoint")


def test_a_base_model_predicts_with_a_grid_of_clicks_and_forcing_auto_warns(
    core_cli, scene, tiny_checkpoint, tmp_path
) -> None:
    common = ["predict", "--raster", scene.image, "--checkpoint", tiny_checkpoint.path, "--device", "cpu"]
    done = core_cli(*common, "--out", tmp_path / "a.tif")
    assert json.loads(done.stdout)["mode"] == "grid"
    forced = core_cli(*common, "--out", tmp_path / "b.tif", "--mode", "auto")
    assert json.loads(forced.stdout)["mode"] == "auto"
    assert "was not tuned for promptless prediction" in forced.stderr


def test_too_few_validation_objects_are_reported(core_cli, train_args, tiny_checkpoint, tmp_path) -> None:
    sparse = write_synthetic_scene(
        SyntheticSceneConfig(width=256, height=256, seed=1, buildings_per_ha=8), tmp_path / "sparse"
    )
    done = train(core_cli, train_args, sparse, tiny_checkpoint.path, tmp_path / "run", 1, "--events", "-")
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"event"')]
    warnings = [e["message"] for e in events if e["event"] == "warning"]
    assert warnings
    assert re.search(r"only \d+ labelled objects in the \d+ validation tiles", warnings[0])
    assert events[-1]["event"] == "result"  # the job's outputs are the last event
    summary = events[-1]
    assert summary["warnings"] == warnings
    assert summary["validation"]["objects"] < 5


def test_labels_covering_the_whole_training_area_are_refused_before_training(
    core_cli, tiny_checkpoint, tmp_path
) -> None:
    from core.io.aoi import write_rectangle

    scene = write_synthetic_scene(SyntheticSceneConfig(width=256, height=256, seed=1), tmp_path / "s")
    import rasterio

    with rasterio.open(scene.image) as src:
        everything = write_rectangle(tmp_path / "all.gpkg", tuple(src.bounds), src.crs.to_wkt())
    done = core_cli(
        "train", "--raster", scene.image, "--labels", everything, "--checkpoint", tiny_checkpoint.path,
        "--out", tmp_path / "run", "--tile-size", "128", "--device", "cpu",
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "cover 100% of the training area" in done.stderr
    assert not (tmp_path / "run" / "best.pt").exists()


def test_the_defaults_shown_by_train_help_are_trainconfigs(core_cli) -> None:
    shown = core_cli("train", "--help").stdout
    flat = " ".join(shown.split())
    defaults = TrainConfig()
    for name in ("mode", "trainable", "epochs", "batch_size", "lr", "tile_size", "val_fraction", "patience"):
        flag = f"--{name.replace('_', '-')}"
        assert flag in flat
        after = flat[flat.rindex(f"{flag} ") :]  # the option's help, not the usage line
        assert f"(default: {getattr(defaults, name)})" in after[: after.index("(default:") + 40], name


def test_the_defaults_shown_by_predict_help_are_predictconfigs(core_cli) -> None:
    flat = " ".join(core_cli("predict", "--help").stdout.split())
    defaults = PredictConfig()
    for name in ("threshold", "overlap", "batch_size", "grid_points", "min_grid_iou"):
        after = flat[flat.rindex(f"--{name.replace('_', '-')} ") :]
        assert f"(default: {getattr(defaults, name)})" in after[: after.index("(default:") + 40], name
    mode = flat[flat.rindex("--mode {auto,grid} ") :]
    assert "(default: from the checkpoint)" in mode[: mode.index("(default:") + 40]


def test_the_plugins_job_defaults_file_is_what_the_engine_describes(repo_root) -> None:
    written = json.loads((repo_root / "sam2_qgis_plugin" / "job_defaults.json").read_text())
    from core.cli.service import describe_jobs
    from core.models.registry import MODELS
    from core.workflows.find import describe as describe_find

    expected = describe_jobs()
    assert expected["train"] == describe()
    assert expected["predict"] == describe_prediction()
    assert expected["find"] == describe_find()
    assert expected["engine"]["model"]["choices"] == list(MODELS)  # the plugin's model list is the registry's
    assert written == json.loads(json.dumps(expected)), (
        "run: .venv/bin/python -m core describe --out sam2_qgis_plugin/job_defaults.json"
    )


@pytest.mark.slow
def test_promptless_tuning_beats_the_base_on_held_out_blocks_of_a_sparse_scene(tiny_checkpoint, tmp_path) -> None:
    """Buildings <= 5 % of the pixels: trained on the west half, scored on the east half that never trained."""
    from bench.bench_learning import one_run, synthetic

    scene = synthetic(tmp_path, "sparse", 2.5, TrainConfig(tile_size=128, patience=0, val_fraction=0.25))
    row = one_run(scene, "auto", 0, tiny_checkpoint.path, 6, "cpu", tmp_path)
    assert row["foreground"] <= 0.05
    assert row["tuned_iou"] >= row["base_iou"] + 0.05, row
