"""Training building blocks: loss on hand-computed values, metrics, config, prompts, augmentation, LoRA."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from core.errors import InvalidConfigError
from core.evaluation.metrics import Confusion
from core.training.augment import augment, dihedral
from core.training.config import TrainConfig
from core.training.loss import dice_loss, focal_loss, mask_iou, sam_loss
from core.training.prompts import correction_click, pad_prompts, sample_click
from core.training.trainer import Throughput, warmup_cosine

pytestmark = pytest.mark.quick  # make test-fast


def test_focal_loss_by_hand() -> None:
    # logit 0 -> p = 0.5; target 1: ce = ln 2, (1 - p_t)^2 = 1/4, alpha = 1/4.
    value = focal_loss(torch.zeros(1, 1), torch.ones(1, 1), torch.ones(1, 1))
    assert float(value) == pytest.approx(math.log(2) * 0.25 * 0.25)
    # target 0 with logit ln 3 (p = 3/4): ce = ln 4, p_t = 1/4, (3/4)^2, weight 3/4.
    value = focal_loss(torch.full((1, 1), math.log(3)), torch.zeros(1, 1), torch.ones(1, 1))
    assert float(value) == pytest.approx(math.log(4) * 0.5625 * 0.75)


def test_dice_loss_and_iou_by_hand() -> None:
    logits = torch.tensor([[100.0, 100.0], [-100.0, -100.0]])  # prediction: top row
    target = torch.tensor([[1.0, 0.0], [1.0, 0.0]])  # truth: left column
    weight = torch.ones(2, 2)
    assert float(dice_loss(logits, target, weight)) == pytest.approx(1 - (2 * 1 + 1) / (2 + 2 + 1))
    assert float(mask_iou(logits, target, weight)) == pytest.approx(1 / 3)
    weight = torch.tensor([[1.0, 0.0], [1.0, 0.0]])  # only the left column is labelled
    assert float(mask_iou(logits, target, weight)) == pytest.approx(1 / 2)


def test_sam_loss_backpropagates_the_best_of_several_masks() -> None:
    target = torch.zeros(1, 4, 4)
    target[0, :2] = 1
    good = torch.where(target[0] > 0, 10.0, -10.0)
    logits = torch.stack([-good, good, torch.zeros(4, 4)])[None].requires_grad_(True)
    parts = sam_loss(logits, torch.tensor([[0.0, 1.0, 0.5]]), target, torch.ones(1, 4, 4))
    parts.total.backward()
    assert logits.grad[0, 0].abs().sum() == 0  # the bad candidates get no mask gradient
    assert logits.grad[0, 2].abs().sum() == 0
    assert float(parts.dice) < 0.01


def test_dataset_level_metrics_and_empty_validation() -> None:
    confusion = Confusion()
    confusion.add(np.array([True, True, False, False]), np.array([True, False, True, False]))
    confusion.add(np.zeros(4, bool), np.zeros(4, bool))  # an empty tile predicted empty: only true negatives
    assert confusion.matrix() == [[5, 1], [1, 1]]
    assert confusion.scores() == {"iou": 1 / 3, "f1": 0.5, "precision": 0.5, "recall": 0.5}
    assert Confusion().scores()["iou"] == 1.0  # nothing to find, nothing found


def test_config_from_yaml_flags_override_and_errors(tmp_path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text("mode: click\nepochs: 3\nclasses: [1, 2]\n")
    config = TrainConfig.from_yaml(path).replace(epochs=5, lr=None)
    assert (config.mode, config.epochs, config.classes, config.lr) == ("click", 5, (1, 2), 1e-4)
    path.write_text("epochz: 3\n")
    with pytest.raises(InvalidConfigError, match=r"unknown options \['epochz'\]"):
        TrainConfig.from_yaml(path)
    with pytest.raises(InvalidConfigError, match="tile_size 100 must be a multiple of 16"):
        TrainConfig(tile_size=100)


def test_configs_written_by_an_earlier_version_still_load(tmp_path) -> None:
    """Run folders and YAML files keep options that were retired since (``num_workers``): resuming such a run,
    or reusing its config.yaml, must not fail on them."""
    old = {**TrainConfig(mode="click", classes=(2,)).to_dict(), "num_workers": 2}
    assert TrainConfig.from_dict(old) == TrainConfig(mode="click", classes=(2,))
    path = tmp_path / "config.yaml"
    path.write_text("num_workers: 0\nepochs: 2\n")
    assert TrainConfig.from_yaml(path).epochs == 2


def test_warmup_then_cosine_to_zero() -> None:
    factor = warmup_cosine(100, 0.1)
    assert factor(0) == pytest.approx(0.1)
    assert factor(9) == pytest.approx(1.0)
    assert factor(55) == pytest.approx(0.5, abs=0.02)
    assert factor(100) == pytest.approx(0.0)


def test_augmentation_moves_image_and_labels_together() -> None:
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[0, 1] = 200
    mask = rgb[..., 0] > 0
    for variant in range(1, 6):
        out_rgb, out_mask = augment((rgb, mask), 0, variant, (0, 0), 0.0)
        assert (out_rgb[..., 0] > 0).tolist() == out_mask.tolist()
    assert len({dihedral(mask, k).tobytes() for k in range(8)}) == 8


def test_click_prompts_fall_inside_and_around_the_object() -> None:
    instances = np.zeros((64, 64), np.int32)
    instances[10:30, 10:30] = 1
    instances[40:60, 40:60] = 2
    rng = np.random.default_rng(0)
    config = TrainConfig(points_per_object=2, background_points=2, box_probability=1.0)
    prompt = sample_click(instances, np.ones((64, 64), bool), rng, config)
    assert prompt is not None
    obj = instances[prompt.target].max()
    box, points = prompt.coords[:2], prompt.coords[2:]
    assert prompt.labels.tolist() == [2, 3, 1, 1, 0, 0]
    for (x, y), label in zip(points, prompt.labels[2:], strict=True):
        assert (instances[int(y), int(x)] == obj) == (label == 1)
    assert box[0, 0] < box[1, 0]
    assert sample_click(np.zeros((8, 8), np.int32), np.ones((8, 8), bool), rng, config) is None
    point, label = correction_click(np.zeros((64, 64), bool), prompt.target, np.ones((64, 64), bool), rng)
    assert label == 1
    assert prompt.target[int(point[1]), int(point[0])]
    coords, labels = pad_prompts([(np.zeros((1, 2)), np.array([1])), (np.zeros((3, 2)), np.array([1, 0, 0]))])
    assert coords.shape == (2, 3, 2)
    assert labels.tolist() == [[1, -1, -1], [1, 0, 0]]


def test_balanced_bce_weighs_foreground_and_background_the_same_in_total() -> None:
    from core.training.loss import balanced_bce

    logits = torch.tensor([[0.0, -100.0], [-100.0, -100.0]])  # the one object pixel unsure, background right
    target = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    value = balanced_bce(logits, target, torch.ones(2, 2))
    assert float(value) == pytest.approx(3 * math.log(2) / 6)  # object pixel weight 3 = 3 background pixels


def test_promptless_loss_pulls_a_sparse_tile_towards_its_objects() -> None:
    """An empty prediction on a tile with 2 % foreground: the gradient raises the object pixels."""
    from core.training.loss import promptless_loss

    target = torch.zeros(2, 50, 50)
    target[0, :5, :10] = 1  # 2 % of the batch's pixels; the second tile is empty
    logits = torch.full((2, 1, 50, 50), -3.0, requires_grad=True)
    parts = promptless_loss(logits, torch.zeros(2, 1), target, torch.ones(2, 50, 50))
    parts.total.backward()
    assert float(logits.grad[0, 0][target[0] > 0].mean()) < 0  # descent raises them
    assert float(parts.dice) > 0.9


def test_throughput_gives_samples_per_second_and_time_left_from_the_epochs_pace(monkeypatch) -> None:
    now = [100.0]
    monkeypatch.setattr("core.training.trainer.time.monotonic", lambda: now[0])
    throughput = Throughput(total_steps=20, samples_per_step=8, validation_seconds=5.0)  # base scored in 5 s
    now[0] = 110.0  # the first epoch starts 10 s later
    throughput.start_epoch(step=0)
    assert throughput.at(0, validations_left=2) == {"elapsed_seconds": 10.0}  # no pace yet
    now[0] = 114.0  # 4 steps in 4 s: 8 samples/s; 16 steps and 2 validations of 5 s left
    assert throughput.at(4, validations_left=2) == {"elapsed_seconds": 14.0, "samples_per_second": 8.0,
                                                     "eta_seconds": 26.0}  # fmt: skip
    throughput.validated(3.0)
    now[0] = 130.0
    throughput.start_epoch(step=10)  # the second epoch runs twice as fast (embeddings cached)
    now[0] = 135.0
    assert throughput.at(20, validations_left=1) == {"elapsed_seconds": 35.0, "samples_per_second": 16.0,
                                                      "eta_seconds": 3.0}  # fmt: skip
