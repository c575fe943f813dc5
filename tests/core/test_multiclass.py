"""Several classes in one model (issue 17 items 1 and 2): class prompt tokens, the multi-class loss and scores,
a run on a synthetic scene with buildings and trees, its class raster and named polygons, and bad inputs."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import rasterio
import torch

from core.errors import InvalidConfigError
from core.evaluation.metrics import ClassConfusion
from core.inference.decode import class_probabilities, decode, decode_classes, no_prompt
from core.io.vectors import read_polygons
from core.models.classes import class_indices, classes_of
from core.models.loader import load_model
from core.training.classes import initial_tokens
from core.training.config import TrainConfig
from core.training.loss import multiclass_loss


def test_every_class_starts_as_the_base_models_promptless_mask(tiny_checkpoint) -> None:
    """Each class's token starts as SAM's own "no point" token: before training, every class answers exactly
    what the promptless base model answers (the design's starting point)."""
    loaded = load_model(tiny_checkpoint.path, device="cpu")
    torch.manual_seed(0)
    embed = torch.randn(2, 256, 16, 16)
    high_res = [torch.randn(2, 32, 64, 64), torch.randn(2, 64, 32, 32)]
    with torch.no_grad():
        coords, labels = no_prompt(2, torch.device("cpu"))
        promptless, _, _ = decode(loaded.model, embed, high_res, coords, labels, multimask=False)
        per_class = decode_classes(loaded.model, initial_tokens(loaded.model, 3), embed, high_res)
    assert per_class.shape == (2, 3, 64, 64)
    for k in range(3):
        torch.testing.assert_close(per_class[:, k], promptless[:, 0], rtol=1e-4, atol=1e-4)


def test_the_loss_rewards_the_right_class_and_ignores_unlabelled_pixels() -> None:
    target = torch.tensor([[[0, 1], [2, 255]]])  # background, class 1, class 2, unlabelled
    right = torch.tensor([[[[-9.0, 9.0], [-9.0, 0.0]], [[-9.0, -9.0], [9.0, 0.0]]]])  # (1, K=2, 2, 2)
    wrong = right.flip(1)  # classes 1 and 2 swapped
    weights = torch.ones(3)
    assert multiclass_loss(right, target, weights).total < 0.1
    assert multiclass_loss(wrong, target, weights).total > 2.0
    unlabelled_changed = right.clone()
    unlabelled_changed[..., 1, 1] = torch.tensor([50.0, -50.0])  # anything where the label is 255
    torch.testing.assert_close(
        multiclass_loss(unlabelled_changed, target, weights).total, multiclass_loss(right, target, weights).total
    )
    probs = class_probabilities(right)
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(1, 2, 2))


def test_class_scores_are_per_class_and_their_mean() -> None:
    confusion = ClassConfusion((1, 3))
    truth = np.array([[0, 1, 1, 2], [2, 2, 0, 0]])  # indices: 0 background, 1 = class 1, 2 = class 3
    predicted = np.array([[0, 1, 2, 2], [2, 0, 0, 1]])
    confusion.add(predicted, truth)
    per_class = confusion.per_class()
    assert per_class[1]["iou"] == pytest.approx(1 / 3)  # tp 1, fn 1 (predicted 2), fp 1
    assert per_class[3]["iou"] == pytest.approx(2 / 4)  # tp 2, fn 1, fp 1
    assert confusion.scores()["iou"] == pytest.approx((1 / 3 + 2 / 4) / 2)
    assert confusion.matrix() == [[2, 1, 0], [0, 1, 1], [1, 0, 2]]


def test_class_indices_keep_only_the_classes_learned() -> None:
    values = np.array([[0, 1, 2], [3, 255, 2]], dtype=np.uint8)
    assert class_indices(values, (2, 3)).tolist() == [[0, 0, 1], [2, 255, 1]]


@pytest.fixture(scope="module")
def buildings_and_trees(tmp_path_factory, tiny_checkpoint, repo_root):  # type: ignore[no-untyped-def]
    """A multi-class run (buildings and trees, names from the labels' class_name) on a synthetic scene."""
    from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene

    folder = tmp_path_factory.mktemp("multiclass")
    scene = write_synthetic_scene(SyntheticSceneConfig(width=512, height=512, seed=5), folder / "scene")
    run = subprocess.run(
        [sys.executable, "-m", "core", "train", "--raster", str(scene.image), "--labels", str(scene.labels),
         "--class-field", "class_id", "--name-field", "class_name", "--classes", "1,2", "--multiclass",
         "--checkpoint", str(tiny_checkpoint.path), "--out", str(folder / "run"), "--tile-size", "128",
         "--epochs", "3", "--batch-size", "4", "--lr", "3e-3", "--min-gain", "0", "--device", "cpu",
         "--labels-cover", "complete"],  # every building and tree of the scene is labelled
        cwd=repo_root, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    return scene, folder, json.loads(run.stdout)


def test_one_run_learns_buildings_and_trees_and_says_how_each_scored(buildings_and_trees) -> None:
    _, folder, summary = buildings_and_trees
    assert set(summary["classes"]) == {"1", "2"}
    assert summary["classes"]["1"]["name"] == "building"
    assert summary["classes"]["2"]["name"] == "tree"
    for scores in summary["classes"].values():
        assert {"iou", "f1", "precision", "recall"} <= set(scores["best"])
    classes = classes_of(torch.load(folder / "run" / "best.pt", weights_only=True)["meta"])
    assert classes is not None
    assert classes.ids == (1, 2)
    assert classes.names == ("building", "tree")
    assert len(classes.tokens) == 2
    assert len(classes.tokens[0]) == 256
    report = (folder / "run" / "classification_report.txt").read_text()
    assert "building" in report
    assert "tree" in report


def test_its_prediction_is_a_class_raster_with_named_polygons(buildings_and_trees, core_cli, tmp_path) -> None:
    scene, folder, _ = buildings_and_trees
    out, vector, probabilities = tmp_path / "classes.tif", tmp_path / "classes.gpkg", tmp_path / "p.tif"
    result = core_cli(
        "predict", "--raster", scene.image, "--checkpoint", folder / "run" / "best.pt", "--out", out,
        "--vector", vector, "--probabilities", probabilities, "--device", "cpu",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["classes"] == {"1": "building", "2": "tree"}
    with rasterio.open(out) as src:
        values = set(np.unique(src.read(1)).tolist())
        assert values <= {0, 1, 2, 255}
        assert values & {1, 2}  # some pixels of a class
        assert json.loads(src.tags(1)["CLASS_NAMES"]) == {"1": "building", "2": "tree"}
        assert src.colormap(1)[1][:3] != src.colormap(1)[2][:3]  # each class its own colour
    with rasterio.open(probabilities) as src:
        assert src.count == 2  # one band per class
    features, _ = read_polygons(vector)
    assert features
    assert {(f.attributes["class"], f.attributes["class_id"]) for f in features} <= {("building", 1), ("tree", 2)}
    assert all(f.attributes["score"] is None or 0 <= f.attributes["score"] <= 1 for f in features)


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--classes", "1,7"], "classes [7] are not in the labels"),
        (["--classes", "1"], "needs at least two classes"),
    ],
)
def test_class_choices_that_cannot_be_learned_say_why(core_cli, make_scene, tiny_checkpoint, tmp_path, flags, says):
    _, paths = make_scene(width=256, height=256, seed=2)
    result = core_cli(
        "train", "--raster", paths.image, "--labels", paths.labels, "--class-field", "class_id", "--multiclass",
        *flags, "--checkpoint", tiny_checkpoint.path, "--out", tmp_path / "run", "--tile-size", "128",
        "--epochs", "1", "--device", "cpu",
    )  # fmt: skip
    assert result.returncode == 2
    assert says in result.stderr
    assert not (tmp_path / "run" / "best.pt").exists()


def test_multiclass_training_is_for_whole_raster_prediction() -> None:
    with pytest.raises(InvalidConfigError, match="use mode auto"):
        TrainConfig(multiclass=True, mode="click")
    with pytest.raises(InvalidConfigError, match="id=name"):
        TrainConfig(multiclass=True, class_names=("building",))
    assert TrainConfig(class_names=("1=building", "2 = tree")).names_given() == {1: "building", 2: "tree"}


def test_a_stopped_multiclass_run_resumes_with_its_class_tokens(
    buildings_and_trees, core_cli, tiny_checkpoint, tmp_path, stopped_training
) -> None:
    scene, _, _ = buildings_and_trees
    run_dir, events = tmp_path / "run", tmp_path / "events.jsonl"
    args = [
        "train", "--raster", str(scene.image), "--labels", str(scene.labels), "--class-field", "class_id",
        "--classes", "1,2", "--multiclass", "--checkpoint", str(tiny_checkpoint.path), "--out", str(run_dir),
        "--tile-size", "128", "--epochs", "2", "--batch-size", "2", "--device", "cpu",
    ]  # fmt: skip
    code, out, err = stopped_training(args, events)
    assert code == 0, err
    assert json.loads(out)["stopped"] is True
    assert "class_tokens" in torch.load(run_dir / "resume.pt", weights_only=True)
    resumed = core_cli("train", "--resume", str(run_dir), timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["epochs"] == 2
    assert set(summary["classes"]) == {"1", "2"}


def test_resuming_restores_the_class_tokens_trained_so_far(buildings_and_trees, tiny_checkpoint, tmp_path) -> None:
    from core.training.run_folder import RunFolder
    from core.training.tiles import build_tiles
    from core.training.trainer import Trainer, restore

    scene, _, _ = buildings_and_trees
    config = TrainConfig(multiclass=True, class_field="class_id", classes=(1, 2), tile_size=128, epochs=1, device="cpu")
    tiles = build_tiles(scene.image, scene.labels, config)
    first = Trainer(config, tiles, tiny_checkpoint.path, tmp_path / "run")
    with torch.no_grad():
        first.class_tokens.copy_(torch.randn_like(first.class_tokens))
    RunFolder(tmp_path / "run").save_resume(first)
    second = Trainer(config, tiles, tiny_checkpoint.path, tmp_path / "run")
    assert not torch.equal(second.class_tokens, first.class_tokens)
    restore(second, tmp_path / "run" / "resume.pt")
    torch.testing.assert_close(second.class_tokens, first.class_tokens)


def test_tuning_a_multiclass_model_further_starts_from_its_class_tokens(buildings_and_trees, tmp_path) -> None:
    from core.training.tiles import build_tiles
    from core.training.trainer import Trainer

    scene, folder, _ = buildings_and_trees
    tuned = folder / "run" / "best.pt"
    config = TrainConfig(multiclass=True, class_field="class_id", classes=(1, 2), tile_size=128, device="cpu")
    trainer = Trainer(config, build_tiles(scene.image, scene.labels, config), tuned, tmp_path / "again")
    recorded = classes_of(torch.load(tuned, weights_only=True)["meta"])
    assert not torch.equal(torch.tensor(recorded.tokens), initial_tokens(trainer.model, 2).cpu())  # they learned
    torch.testing.assert_close(trainer.class_tokens.detach(), torch.tensor(recorded.tokens))


@pytest.fixture(scope="module")
def perfect_class_raster(buildings_and_trees, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The scene's true buildings (1) and trees (2) written as a multi-class prediction would be."""
    scene, _, _ = buildings_and_trees
    out = tmp_path_factory.mktemp("perfect") / "classes.tif"
    with rasterio.open(scene.mask) as src:
        truth, profile = src.read(1), src.profile
    with rasterio.open(out, "w", **profile) as dst:
        dst.write(np.where(np.isin(truth, (1, 2)), truth, 0).astype(np.uint8), 1)
        dst.update_tags(1, CLASS_NAMES=json.dumps({"1": "building", "2": "tree"}))
    return out


def test_evaluate_scores_each_class_with_its_own_objects(buildings_and_trees, perfect_class_raster, core_cli):
    scene, _, _ = buildings_and_trees
    result = core_cli(
        "evaluate", "--pred", perfect_class_raster, "--truth", scene.labels, "--class-field", "class_id",
        "--classes", "1,2",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report["per_class"]) == {"1", "2"}
    for class_id, name in (("1", "building"), ("2", "tree")):
        scores = report["per_class"][class_id]
        assert scores["name"] == name
        assert scores["iou"] == pytest.approx(1.0, abs=0.01)  # the truth itself
        assert {"f1", "precision", "recall"} <= set(scores)
        assert scores["objects"]["true"] > 0
        assert scores["objects"]["f1"] > 0.8  # objects matched within their class (touching crowns merge)
    assert len(report["class_confusion_matrix"]) == 3


def test_evaluate_tells_the_classes_apart(buildings_and_trees, perfect_class_raster, core_cli, tmp_path) -> None:
    """Swapping the two classes keeps every object found but scores each class 0."""
    scene, _, _ = buildings_and_trees
    swapped = tmp_path / "swapped.tif"
    with rasterio.open(perfect_class_raster) as src:
        values, profile, tags = src.read(1), src.profile, src.tags(1)
    with rasterio.open(swapped, "w", **profile) as dst:
        dst.write(np.select([values == 1, values == 2], [2, 1], values).astype(np.uint8), 1)
        dst.update_tags(1, **tags)
    report = json.loads(
        core_cli("evaluate", "--pred", swapped, "--truth", scene.labels, "--class-field", "class_id").stdout
    )
    assert report["pixel"]["iou"] == pytest.approx(1.0, abs=0.01)  # objects against background: all right
    assert report["per_class"]["1"]["iou"] == 0.0
    assert report["per_class"]["2"]["iou"] == 0.0


def test_evaluating_a_class_the_raster_does_not_predict_says_which_it_has(
    buildings_and_trees, perfect_class_raster, core_cli
) -> None:
    scene, _, _ = buildings_and_trees
    result = core_cli(
        "evaluate", "--pred", perfect_class_raster, "--truth", scene.labels, "--class-field", "class_id",
        "--classes", "1,3",
    )  # fmt: skip
    assert result.returncode == 2
    assert "classes [3] are not predicted" in result.stderr
    assert "1 building" in result.stderr
