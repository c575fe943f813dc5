"""Evaluation: perfect on itself, right on a hand-built case, sane on empty masks, files written."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
from affine import Affine

from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene
from core.evaluation.evaluate import evaluate

pytestmark = pytest.mark.quick  # make test-fast

TRANSFORM = Affine(0.5, 0, 500_000, 0, -0.5, 5_500_000)


def write_mask(path, array: np.ndarray) -> str:
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=array.shape[1],
        height=array.shape[0],
        count=1,
        dtype="uint8",
        crs="EPSG:32633",
        transform=TRANSFORM,
        nodata=255,
    ) as dst:
        dst.write(array.astype(np.uint8), 1)
    return str(path)


def test_truth_against_itself_scores_one(tmp_path) -> None:
    scene = write_synthetic_scene(SyntheticSceneConfig(width=256, height=256, seed=4), tmp_path)
    with rasterio.open(scene.mask) as src:
        profile, buildings = src.profile, (src.read(1) == 1)
    pred = tmp_path / "pred.tif"
    with rasterio.open(pred, "w", **profile) as dst:
        dst.write(buildings.astype(np.uint8), 1)
    evaluation, *_ = evaluate(pred, scene.labels, classes=(1,), class_field="class_id")
    assert evaluation.pixel == {"iou": 1.0, "f1": 1.0, "precision": 1.0, "recall": 1.0}
    assert evaluation.objects["precision"] == evaluation.objects["recall"] == 1.0
    assert evaluation.objects["true"] == evaluation.objects["predicted"] > 0


def test_hand_built_case(tmp_path) -> None:
    truth = np.zeros((20, 20), np.uint8)
    truth[2:6, 2:6] = 1  # object A: 16 px
    truth[10:14, 10:14] = 1  # object B: 16 px
    pred = np.zeros((20, 20), np.uint8)
    pred[2:6, 2:5] = 1  # 12 px inside A: IoU 0.75 -> a match
    pred[10:11, 10:12] = 1  # 2 px of B: IoU 0.125 -> no match
    pred[17:19, 17:19] = 1  # 4 px of nothing
    evaluation, *_ = evaluate(write_mask(tmp_path / "p.tif", pred), write_mask(tmp_path / "t.tif", truth))
    tp, fp, fn = 14, 4, 18
    assert evaluation.confusion == [[400 - tp - fp - fn, fp], [fn, tp]]
    assert evaluation.pixel["iou"] == pytest.approx(tp / (tp + fp + fn))
    assert evaluation.pixel["precision"] == pytest.approx(tp / (tp + fp))
    assert evaluation.objects == {
        "predicted": 3,
        "true": 2,
        "matched": 1,
        "precision": 1 / 3,
        "recall": 0.5,
        "f1": pytest.approx(0.4),
        "match_iou": 0.5,
    }


def test_empty_prediction_and_empty_truth(tmp_path) -> None:
    empty, some = np.zeros((10, 10), np.uint8), np.zeros((10, 10), np.uint8)
    some[2:5, 2:5] = 1
    nothing, *_ = evaluate(write_mask(tmp_path / "e.tif", empty), write_mask(tmp_path / "s.tif", some))
    assert nothing.pixel["iou"] == 0.0
    assert nothing.pixel["recall"] == 0.0
    assert nothing.objects["recall"] == 0.0
    both_empty, *_ = evaluate(write_mask(tmp_path / "e.tif", empty), write_mask(tmp_path / "e2.tif", empty))
    assert both_empty.pixel["iou"] == 1.0
    assert both_empty.objects["f1"] == 0.0 or both_empty.objects["precision"] == 1.0


def test_command_prints_json_and_writes_csv_and_png(core_cli, tmp_path) -> None:
    truth = np.zeros((30, 30), np.uint8)
    truth[5:15, 5:15] = 1
    result = core_cli(
        "evaluate",
        "--pred",
        write_mask(tmp_path / "p.tif", truth),
        "--truth",
        write_mask(tmp_path / "t.tif", truth),
        "--out",
        str(tmp_path / "report"),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["pixel"]["iou"] == 1.0
    assert (tmp_path / "report.csv").read_text().startswith("level,metric,value")
    assert (tmp_path / "report.png").stat().st_size > 5_000
    assert json.loads((tmp_path / "report.json").read_text())["objects"]["matched"] == 1


def test_scores_do_not_depend_on_the_strips_read(monkeypatch, tmp_path) -> None:
    """Evaluation reads the mask in strips (bounded memory): strips cutting through objects change nothing."""
    import core.evaluation.evaluate

    scene = write_synthetic_scene(SyntheticSceneConfig(width=256, height=256, seed=4), tmp_path)
    with rasterio.open(scene.mask) as src:
        profile, pred = src.profile, np.roll(src.read(1) == 1, 3, axis=0)  # imperfect: matching is not trivial
    pred[:, :96] = False  # the west misses its objects
    path = tmp_path / "pred.tif"
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(pred.astype(np.uint8), 1)
    monkeypatch.setattr(core.evaluation.evaluate, "OVERVIEW_SIDE", 100)  # every 2nd pixel in the report's picture
    whole, whole_overview = evaluate(path, scene.labels, classes=(1,), class_field="class_id")
    monkeypatch.setattr(
        core.evaluation.evaluate, "STRIP_PIXELS", 37 * 256
    )  # strips of 37 rows: they cut objects, a short last
    striped, striped_overview = evaluate(path, scene.labels, classes=(1,), class_field="class_id")
    assert striped.to_dict() == whole.to_dict()
    assert 0 < whole.objects["matched"] < whole.objects["true"]
    assert whole_overview.predicted.shape == (128, 128)
    assert (striped_overview.predicted == whole_overview.predicted).all()
