"""Training end to end on a synthetic orthophoto with a tiny random-init SAM 2: it learns, it writes a
usable run folder, it stops and resumes, and bad inputs are refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from osgeo import ogr, osr
from sam2.build_sam import build_sam2

from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene
from core.errors import CancelledError, InvalidCheckpointError, InvalidInputError
from core.io.vectors import PolygonFeature, read_polygons, write_polygons
from core.models.loader import load_model
from core.training import run
from core.training.config import TrainConfig
from core.training.run_folder import RunFolder
from core.training.run_lock import RUN_FILES
from core.training.tiles import build_tiles
from core.training.trainable import add_lora, configure_trainable, merge_lora
from core.training.trainer import Trainer, restore

CONFIG = TrainConfig(
    tile_size=128,
    batch_size=4,
    epochs=2,
    lr=3e-4,
    classes=(1,),
    class_field="class_id",
    augment_variants=2,
    device="cpu",
    seed=0,
    labels_cover="complete",  # the synthetic scenes label every object
)


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """A 1024 x 1024 px synthetic orthophoto at 0.25 m (64 tiles of 128 px) with buildings, trees and roads."""
    return write_synthetic_scene(
        SyntheticSceneConfig(width=1024, height=1024, seed=5), tmp_path_factory.mktemp("scene")
    )


def inputs(scene, checkpoint) -> run.RunInputs:
    return run.RunInputs(scene.image, scene.labels, checkpoint)


@pytest.mark.slow
def test_auto_training_raises_validation_iou_well_above_the_base_model(scene, tiny_checkpoint, tmp_path) -> None:
    summary = run.start(inputs(scene, tiny_checkpoint.path), CONFIG.replace(mode="auto", epochs=5), tmp_path / "run")
    assert summary["best"]["iou"] > summary["base"]["iou"] + 0.1
    tiles = summary["tiles"]
    # Frozen encoder: each tile and augmented variant is encoded once, whatever the number of epochs.
    assert summary["encoded_samples"] <= tiles["train"] * CONFIG.augment_variants + tiles["val"]
    assert summary["encoder_calls"] <= summary["encoded_samples"]


def test_click_training_writes_a_run_folder_the_engine_and_sam2_load(scene, tiny_checkpoint, tmp_path) -> None:
    run_dir = tmp_path / "run"
    summary = run.start(inputs(scene, tiny_checkpoint.path), CONFIG.replace(mode="click"), run_dir)
    names = {p.name for p in run_dir.iterdir()}
    assert names >= set(RUN_FILES)  # and RUN_FILES, what --overwrite clears, names all a run writes
    assert not [n for n in names if ".tmp" in n]
    assert summary["tiles"]["train"] > 0
    assert len((run_dir / "metrics.csv").read_text().splitlines()) == 1 + 1 + 2  # header, base, two epochs
    # sam2 loads the full checkpoint strictly, and the engine applies the small one to the same weights.
    sam = build_sam2(
        tiny_checkpoint.spec.config,
        ckpt_path=str(run_dir / "best.pt"),
        device="cpu",
        hydra_overrides_extra=["++model.image_size=128"],
    )
    applied = load_model(run_dir / "best_trained.pt", device="cpu").model.state_dict()
    for name, tensor in sam.state_dict().items():
        torch.testing.assert_close(applied[name], tensor)
    assert json.loads((run_dir / "summary.json").read_text())["best_sha256"]
    report = (run_dir / "report.html").read_text()
    best = summary["best"]
    assert f"tuned (epoch {best['epoch']})" in report
    assert f"{best['iou']:.4f}" in report
    assert f"{summary['base']['iou']:.4f}" in report
    assert 'src="curves.png"' in report


@pytest.mark.parametrize("trainable", ["decoder", "lora", "full"])
def test_trainable_parameter_counts(tiny_checkpoint, trainable) -> None:
    model = load_model(tiny_checkpoint.path, device="cpu").model
    count = lambda module: sum(p.numel() for p in module.parameters())  # noqa: E731
    heads = count(model.sam_mask_decoder) + count(model.sam_prompt_encoder)
    encoder = count(model.image_encoder)
    adapters = sum(
        4 * (m.in_features + m.out_features)
        for name, m in model.image_encoder.trunk.named_modules()
        if isinstance(m, torch.nn.Linear) and name.endswith(("attn.qkv", "attn.proj"))
    )
    trained = sum(p.numel() for p in configure_trainable(model, trainable, lora_rank=4))
    assert trained == {"decoder": heads, "lora": heads + adapters, "full": heads + encoder}[trainable]
    # hiera-tiny: 4.2 M in the prompt encoder and mask decoder, 110 k in rank-4 adapters, 27.2 M in the encoder
    assert trained == {"decoder": 4_221_329, "lora": 4_331_537, "full": 31_440_465}[trainable]


def test_lora_starts_at_the_base_model_and_merges_exactly(tiny_checkpoint) -> None:
    model = load_model(tiny_checkpoint.path, device="cpu").model
    image = torch.rand(1, 3, 256, 256, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        before = model.forward_image(image)["vision_features"]
        wrapped = add_lora(model, rank=4)
        assert len(wrapped) == 24  # qkv and proj of the 12 blocks of hiera-tiny
        torch.testing.assert_close(model.forward_image(image)["vision_features"], before)
        for module in model.modules():
            if hasattr(module, "lora_b"):
                module.lora_b.normal_(0, 0.01)
        adapted = model.forward_image(image)["vision_features"]
        merge_lora(model)
        torch.testing.assert_close(model.forward_image(image)["vision_features"], adapted, atol=1e-4, rtol=1e-4)


def test_cancel_in_an_epoch_keeps_the_last_good_checkpoint(scene, tiny_checkpoint, tmp_path) -> None:
    run_dir = tmp_path / "run"
    run.start(inputs(scene, tiny_checkpoint.path), CONFIG.replace(mode="auto", epochs=1), run_dir)
    before = (run_dir / "last.pt").read_bytes()
    steps = []
    tiles = build_tiles(scene.image, scene.labels, CONFIG)
    trainer = Trainer(
        CONFIG.replace(mode="auto", epochs=2),
        tiles,
        tiny_checkpoint.path,
        run_dir,
        progress=lambda fraction, **info: steps.append(info.get("step")),
        cancelled=lambda: len(steps) > 2,
    )
    with pytest.raises(CancelledError, match="the last checkpoints are kept"):
        trainer.run(RunFolder(run_dir))
    assert (run_dir / "last.pt").read_bytes() == before
    assert not [p for p in run_dir.iterdir() if ".tmp" in p.name]


def test_step_events_carry_samples_per_second_and_a_falling_time_left(scene, tiny_checkpoint, tmp_path) -> None:
    events: list[dict] = []
    tiles = build_tiles(scene.image, scene.labels, CONFIG)
    trainer = Trainer(
        CONFIG.replace(mode="auto", epochs=2, augment_variants=1),
        tiles,
        tiny_checkpoint.path,
        tmp_path / "run",
        progress=lambda fraction, **info: events.append(info),
    )
    trainer.run(RunFolder(tmp_path / "run"))
    steps = [event for event in events if "step" in event]
    assert len(steps) == trainer.total_steps
    assert all(event["samples_per_second"] > 0 for event in steps)
    elapsed = [event["elapsed_seconds"] for event in steps]
    assert elapsed == sorted(elapsed)
    etas = [event["eta_seconds"] for event in steps]
    assert etas[-1] < etas[0]
    assert etas[-1] > 0  # the last validation is still to come


def test_a_run_stopped_before_its_first_epoch_can_be_resumed(scene, tiny_checkpoint, tmp_path) -> None:
    run_dir, asked = tmp_path / "run", []

    def stop_during_the_base_scoring() -> bool:
        asked.append(1)
        return len(asked) > 2  # the base model is being scored, tile by tile

    config = CONFIG.replace(mode="auto", epochs=1)
    stopped = run.start(
        inputs(scene, tiny_checkpoint.path), config, run_dir, stop_requested=stop_during_the_base_scoring
    )
    assert stopped == {"stopped": True, "epoch": 1, "step": 0, "resume": str(run_dir)}  # nothing scored yet
    assert (run_dir / "resume.pt").exists()
    summary = run.resume(run_dir)
    assert summary["epochs"] == 1
    epochs = [line.split(",")[0] for line in (run_dir / "metrics.csv").read_text().splitlines()[1:]]
    assert epochs == ["0", "1"]


def test_a_run_resumed_mid_epoch_trains_the_batches_it_had_not_and_ends_as_an_uninterrupted_one(
    scene, tiny_checkpoint, tmp_path
) -> None:
    config = CONFIG.replace(mode="auto", epochs=2, patience=0)
    tiles = build_tiles(scene.image, scene.labels, config)

    def training(run_dir: Path, batches: list, fractions: list, stop=None) -> Trainer:
        trainer = Trainer(config, tiles, tiny_checkpoint.path, run_dir, stop_requested=stop,
                          progress=lambda fraction, **info: fractions.append(fraction))  # fmt: skip
        step = trainer._train_step
        trainer._train_step = lambda batch: (batches.append([i for i, _ in batch]), step(batch))[1]
        return trainer

    whole, whole_fractions = [], []
    uninterrupted = training(tmp_path / "whole", whole, whole_fractions)
    uninterrupted.run(RunFolder(tmp_path / "whole"))
    stop_at = uninterrupted.total_steps // 2 + 2  # two steps into the second epoch
    assert uninterrupted.total_steps // 2 > 3

    before, after, fractions = [], [], []
    stopped = training(tmp_path / "run", before, fractions, stop=lambda: len(before) == stop_at)
    assert stopped.run(RunFolder(tmp_path / "run"))["step"] == stop_at
    resumed = training(tmp_path / "run", after, fractions)
    restore(resumed, tmp_path / "run" / "resume.pt")
    resumed.run(RunFolder(tmp_path / "run"))

    assert before + after == whole  # the same batches in the same order: none repeated, none left out
    assert resumed.step == uninterrupted.step == uninterrupted.total_steps
    assert max(fractions) <= 1.0
    for name, tensor in uninterrupted.model.named_parameters():
        assert torch.allclose(dict(resumed.model.named_parameters())[name], tensor, atol=1e-6), name
    assert [row["train_loss"] for row in resumed.history[1:]] == pytest.approx(
        [row["train_loss"] for row in uninterrupted.history[1:]], abs=1e-6
    )


@pytest.mark.slow
def test_a_run_stopped_in_its_second_epoch_names_its_best_so_far(scene, tiny_checkpoint, tmp_path) -> None:
    run_dir, steps = tmp_path / "run", []
    config = CONFIG.replace(mode="auto", epochs=3, lr=1e-3)
    stopped = run.start(
        inputs(scene, tiny_checkpoint.path),
        config,
        run_dir,
        progress=lambda fraction, **info: steps.append(info.get("epoch")),
        stop_requested=lambda: steps.count(2) > 0,
    )
    assert stopped["stopped"] is True
    assert stopped["epoch"] == 2
    assert set(stopped["base"]) == {"iou", "f1"}
    assert stopped["best"]["epoch"] in (0, 1)
    if stopped["best"]["epoch"] == 1:
        assert Path(stopped["best_checkpoint"]).is_file()
    else:
        assert "best_checkpoint" not in stopped  # the base model is no tuned model to offer


@pytest.mark.slow
def test_sigterm_saves_a_resumable_state_and_resume_finishes(
    core_cli, train_args, scene, tiny_checkpoint, tmp_path, stopped_training
) -> None:
    run_dir, events = tmp_path / "run", tmp_path / "events.jsonl"
    code, out, err = stopped_training(
        train_args(scene.image, scene.labels, tiny_checkpoint.path, run_dir, 3, 8), events
    )
    assert code == 0, err
    stopped = json.loads(out)
    assert stopped["stopped"] is True
    assert (run_dir / "resume.pt").exists()
    resumed_events = tmp_path / "resumed.jsonl"
    resumed = core_cli("train", "--resume", str(run_dir), "--events", resumed_events, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["epochs"] == 3
    progress = [json.loads(line) for line in resumed_events.read_text().splitlines()]
    progress = [event for event in progress if event.get("event") == "progress"]
    steps = [event["step"] for event in progress if "step" in event]
    assert steps[0] == stopped["step"] + 1  # it continues after the last step trained, mid-epoch
    assert steps == list(range(steps[0], steps[-1] + 1))
    assert max(event["fraction"] for event in progress) <= 1.0
    epochs = [line.split(",")[0] for line in (run_dir / "metrics.csv").read_text().splitlines()[1:]]
    assert epochs == ["0", "1", "2", "3"]


# --- tiles and bad inputs -------------------------------------------------------------------------------


def test_split_shares_no_pixel_and_is_deterministic(scene) -> None:
    config = CONFIG.replace(overlap=0.5)
    first, second = build_tiles(scene.image, scene.labels, config), build_tiles(scene.image, scene.labels, config)
    assert [t.split for t in first.tiles] == [t.split for t in second.tiles]
    held = [t.window for t in first.tiles if t.split != "train"]
    for tile in first.split("train"):
        for other in held:
            assert not (
                tile.window.col_off < other.col_off + other.width
                and other.col_off < tile.window.col_off + 128
                and tile.window.row_off < other.row_off + other.height
                and other.row_off < tile.window.row_off + 128
            )


def _reprojected(labels: Path, out: Path, epsg: int, shift: float = 0.0) -> Path:
    features, crs_wkt = read_polygons(labels)
    source = osr.SpatialReference()
    source.ImportFromWkt(crs_wkt)
    target = osr.SpatialReference()
    target.ImportFromEPSG(epsg)
    for srs in (source, target):
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    transform = osr.CoordinateTransformation(source, target)
    moved = []
    for feature in features:
        geometry = ogr.CreateGeometryFromJson(json.dumps(feature.geometry))
        geometry.Transform(transform)
        if shift:
            geometry = ogr.CreateGeometryFromWkt(geometry.ExportToWkt())
            for i in range(geometry.GetGeometryCount()):
                part = geometry.GetGeometryRef(i)
                for ring in (
                    (part.GetGeometryRef(j) for j in range(part.GetGeometryCount()))
                    if part.GetGeometryCount()
                    else [part]
                ):
                    for k in range(ring.GetPointCount()):
                        x, y = ring.GetPoint_2D(k)
                        ring.SetPoint_2D(k, x + shift, y)
        moved.append(PolygonFeature(json.loads(geometry.ExportToJson()), feature.attributes))
    return write_polygons(out, moved, target.ExportToWkt(), fields={"class_id": int, "class_name": str})


def test_labels_in_another_crs_are_reprojected(scene, tmp_path) -> None:
    geographic = _reprojected(scene.labels, tmp_path / "labels_4326.gpkg", 4326)
    native = build_tiles(scene.image, scene.labels, CONFIG)
    moved = build_tiles(scene.image, geographic, CONFIG)
    for a, b in zip(native.tiles, moved.tiles, strict=True):
        assert (a.target != b.target).mean() < 0.01  # the same polygons, up to reprojection rounding


def test_labels_that_miss_the_raster_are_refused(scene, tmp_path) -> None:
    far = _reprojected(scene.labels, tmp_path / "far.gpkg", 32633, shift=50_000.0)
    with pytest.raises(InvalidInputError, match="do not overlap the raster"):
        build_tiles(scene.image, far, CONFIG)


def test_no_labels_are_refused(scene, tmp_path) -> None:
    empty = write_polygons(tmp_path / "empty.gpkg", [], read_polygons(scene.labels)[1], fields={"class_id": int})
    with pytest.raises(InvalidInputError, match="holds no polygon labels"):
        build_tiles(scene.image, empty, CONFIG)


def test_nodata_tiles_are_skipped_and_counted(tmp_path) -> None:
    paths = write_synthetic_scene(SyntheticSceneConfig(width=512, height=512, seed=2, nodata_border=True), tmp_path)
    tiles = build_tiles(paths.image, paths.labels, CONFIG.replace(max_nodata=0.05))
    assert tiles.skipped["nodata"] > 0
    assert all(1 - t.labelled.mean() <= 0.05 for t in tiles.tiles)


def test_raster_smaller_than_a_tile_is_padded(tmp_path) -> None:
    paths = write_synthetic_scene(SyntheticSceneConfig(width=200, height=600, seed=4), tmp_path)
    tiles = build_tiles(paths.image, paths.labels, CONFIG.replace(tile_size=256, max_nodata=0.3, classes=()))
    assert {t.rgb.shape for t in tiles.tiles} == {(256, 256, 3)}
    for tile in tiles.tiles:
        assert (tile.rgb[:, 200:] == 0).all()  # columns past the raster's 200 are padding...
        assert not tile.labelled[:, 200:].any()  # ...and count as unlabelled


def test_a_base_checkpoint_of_another_family_is_refused(scene, tmp_path) -> None:
    torch.save({"model": {"conv1.weight": torch.zeros(64, 3, 7, 7)}}, tmp_path / "resnet.pt")
    with pytest.raises(InvalidCheckpointError, match="no SAM 2 image encoder weights"):
        run.start(inputs(scene, tmp_path / "resnet.pt"), CONFIG, tmp_path / "run")


def test_out_of_gpu_memory_says_what_to_change(scene, tiny_checkpoint, tmp_path, monkeypatch) -> None:
    from core.errors import OutOfMemoryError

    tiles = build_tiles(scene.image, scene.labels, CONFIG)
    trainer = Trainer(CONFIG.replace(mode="auto", epochs=1), tiles, tiny_checkpoint.path, tmp_path / "run")

    def no_memory(batch):  # type: ignore[no-untyped-def]
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(trainer, "_train_step", no_memory)
    with pytest.raises(OutOfMemoryError, match="use a smaller --batch-size or --tile-size"):
        trainer.run(RunFolder(tmp_path / "run"))
    assert not (tmp_path / "run" / "last.pt").exists()


@pytest.mark.slow
@pytest.mark.parametrize("trainable", ["lora", "full"])
def test_lora_and_full_runs_give_checkpoints_that_load_strictly(scene, tiny_checkpoint, tmp_path, trainable) -> None:
    run_dir = tmp_path / "run"
    config = CONFIG.replace(mode="auto", trainable=trainable, epochs=1, augment_variants=1)
    summary = run.start(inputs(scene, tiny_checkpoint.path), config, run_dir)
    assert summary["encoder_calls"] > 0
    sam = build_sam2(
        tiny_checkpoint.spec.config,
        ckpt_path=str(run_dir / "best.pt"),
        device="cpu",
        hydra_overrides_extra=["++model.image_size=128"],
    )
    base = load_model(tiny_checkpoint.path, device="cpu").model.state_dict()
    applied = load_model(run_dir / "best_trained.pt", device="cpu").model.state_dict()
    encoder_weight = "image_encoder.trunk.blocks.0.attn.qkv.weight"
    assert not torch.equal(sam.state_dict()[encoder_weight], base[encoder_weight])  # the encoder did train
    for name, tensor in sam.state_dict().items():
        torch.testing.assert_close(applied[name], tensor, atol=1e-5, rtol=1e-5)


@pytest.mark.slow
def test_click_training_raises_validation_iou_well_above_the_base_model(tiny_checkpoint, tmp_path) -> None:
    # Prompt conditioning must be learnt from scratch with a random-init model: that takes a few hundred
    # prompts a step, affordable on a CPU with small tiles (64 px at 0.5 m: 1-2 buildings each, 256 tiles).
    # The default pixel loss (class-balanced BCE) learns here; SAM 2's focal stays at the base (bench_learning).
    scene = write_synthetic_scene(SyntheticSceneConfig(width=1024, height=1024, pixel_size=0.5, seed=5), tmp_path)
    config = CONFIG.replace(
        mode="click",
        tile_size=64,
        batch_size=16,
        lr=1e-3,
        epochs=12,
        objects_per_tile=4,
        correction_clicks=0,
        patience=0,
    )
    summary = run.start(inputs(scene, tiny_checkpoint.path), config, tmp_path / "run")
    assert summary["best"]["iou"] > 2 * summary["base"]["iou"]
    assert summary["best"]["iou"] > summary["base"]["iou"] + 0.08


def test_aoi_limits_where_tiles_are_taken(scene, tmp_path) -> None:
    import rasterio

    with rasterio.open(scene.image) as src:
        left, bottom, right, top = src.bounds
        crs_wkt = src.crs.to_wkt()
    middle = (left + right) / 2
    ring = [[left, bottom], [middle, bottom], [middle, top], [left, top], [left, bottom]]
    aoi = write_polygons(
        tmp_path / "aoi.gpkg",
        [PolygonFeature({"type": "Polygon", "coordinates": [ring]}, {})],
        crs_wkt,
        layer_name="aoi",
        fields={},
    )
    tiles = build_tiles(scene.image, scene.labels, CONFIG, aoi)
    assert tiles.skipped["outside_aoi"] == 32  # the 4 x 8 tiles of the right half
    assert all(t.window.col_off < 512 for t in tiles.tiles)


def test_tile_command_writes_the_seed_layout(core_cli, scene, tmp_path) -> None:
    import rasterio

    result = core_cli(
        "tile",
        "--raster",
        str(scene.image),
        "--labels",
        str(scene.labels),
        "--out",
        str(tmp_path / "tiles"),
        "--tile-size",
        "256",
        "--class-field",
        "class_id",
        "--labels-cover",
        "complete",
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    counts = json.loads(result.stdout)["tiles"]
    assert counts["trai"] + counts["vali"] == 16
    images = sorted((tmp_path / "tiles" / "trai" / "img_tiles").glob("*.tif"))
    masks = sorted((tmp_path / "tiles" / "trai" / "mask_tiles").glob("*.tif"))
    assert [p.name for p in images] == [p.name for p in masks]
    with rasterio.open(images[0]) as image, rasterio.open(masks[0]) as mask, rasterio.open(scene.image) as src:
        assert image.crs == src.crs
        assert image.transform == mask.transform
        assert (image.count, mask.count, mask.nodata) == (3, 1, 255)
        assert set(np.unique(mask.read(1))) <= {0, 1, 2, 3}


def test_mask_raster_labels_match_the_polygons_and_class_zero_marks_nodata_unlabelled(tmp_path) -> None:
    import rasterio

    paths = write_synthetic_scene(SyntheticSceneConfig(width=512, height=512, seed=2, nodata_border=True), tmp_path)
    config = CONFIG.replace(tile_size=256, max_nodata=0.9, class_field=None)
    from_raster = build_tiles(paths.image, paths.mask, config.replace(class_zero=True))
    from_polygons = build_tiles(paths.image, paths.labels, config.replace(class_field="class_id"))
    with rasterio.open(paths.mask) as src:
        mask = src.read(1)
    for raster_tile, polygon_tile in zip(from_raster.tiles, from_polygons.tiles, strict=True):
        window = raster_tile.window
        truth = mask[int(window.row_off) : int(window.row_off) + 256, int(window.col_off) : int(window.col_off) + 256]
        assert (raster_tile.target == (truth == 1)).all()
        assert (raster_tile.labelled == (truth != 255)).all()  # class_zero: the mask's nodata is unlabelled
        assert (raster_tile.target == polygon_tile.target).all()
