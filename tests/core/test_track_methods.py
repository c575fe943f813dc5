"""Carrying last year's objects into this year: SAM 2 prompted with last year's outlines (box and mask,
core.inference.carry), SAM 2's memory over the years as frames (core.inference.memory), and how their answers
become this year's statuses (core.tracking.match.follow_year).

Random-init weights find noise, so what is asserted is what must hold whatever the weights: the prompts reach
the decoder as SAM 2's own prompt encoder takes them, one batch per window, the object score decides what is
gone, the frames are the orthophoto's pixels, the masks lie on the grid, and every object gets an answer."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
import torch
from PIL import Image
from shapely import affinity
from shapely.geometry import box, mapping

from core.devtools.synthetic import SyntheticSceneConfig
from core.devtools.synthetic.config import BUILDING
from core.devtools.synthetic.years import YearsConfig, write_year_sequence
from core.errors import InvalidInputError
from core.inference.carry import PromptCarry, carry_by_prompts
from core.inference.decode import decode_prompted
from core.inference.embeddings import EmbeddingCache
from core.inference.memory import carry_by_memory, object_windows, write_frames
from core.inference.preprocess import to_model_input
from core.inference.segment import ClickSegmenter
from core.io.raster import RasterSource
from core.io.vectors import PolygonFeature, read_layer, write_polygons
from core.models.loader import load_model
from core.tracking.match import MatchConfig, Tracked, estimate_shift, follow_year, iou


@pytest.fixture(scope="module")
def years(tmp_path_factory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("years")
    config = YearsConfig(SyntheticSceneConfig(width=192, height=192, pixel_size=0.5, seed=1), years=(2019, 2022, 2025))
    return write_year_sequence(config, folder)


@pytest.fixture(scope="module")
def buildings(years):  # type: ignore[no-untyped-def]
    """The first year's buildings that stand all three years: object id -> outline."""
    truth = [read_layer(y.changes, "changes")[0] for y in years]
    kept = {a["object_id"] for _, a in truth[-1] if a["status"] in ("unchanged", "changed")}
    return {a["object_id"]: g for g, a in truth[0] if a["class_id"] == BUILDING and a["object_id"] in kept}


@pytest.fixture(scope="module")
def loaded(tiny_checkpoint):  # type: ignore[no-untyped-def]
    return load_model(tiny_checkpoint.path, device="cpu")


def test_prompts_in_one_batch_decode_as_sam2_decodes_each_alone(loaded) -> None:
    """Boxes and mask logits, batched over one image, give what SAM2ImagePredictor's path gives for each prompt
    alone: the box as corner points labelled 2 and 3 into sam2's prompt encoder, then MaskDecoder.forward."""
    model = loaded.model
    size, cells = loaded.image_size, loaded.feature_sizes[0][0]
    generator = torch.Generator().manual_seed(0)
    embed = torch.randn(1, 256, size // 16, size // 16, generator=generator)
    high_res = [torch.randn(1, 32, cells, cells, generator=generator), torch.randn(1, 64, cells // 2, cells // 2)]
    boxes = torch.tensor([[10.0, 20.0, 90.0, 70.0], [100.0, 100.0, 200.0, 180.0], [5.0, 150.0, 60.0, 250.0]])
    masks = torch.where(torch.rand(3, 1, cells, cells, generator=generator) > 0.5, 8.0, -8.0)
    with torch.inference_mode():
        logits, scores, object_scores = decode_prompted(model, embed, high_res, boxes, masks)
        assert logits.shape == (3, cells, cells)
        assert scores.shape == object_scores.shape == (3,)
        for index in range(3):
            corners = (boxes[index].reshape(1, 2, 2), torch.tensor([[2, 3]], dtype=torch.int32))
            sparse, dense = model.sam_prompt_encoder(points=corners, boxes=None, masks=masks[index : index + 1])
            alone, alone_iou, _, alone_object = model.sam_mask_decoder(
                image_embeddings=embed, image_pe=model.sam_prompt_encoder.get_dense_pe(),
                sparse_prompt_embeddings=sparse, dense_prompt_embeddings=dense, multimask_output=False,
                repeat_image=False, high_res_features=high_res,
            )  # fmt: skip
            torch.testing.assert_close(logits[index], alone[0, 0], atol=1e-4, rtol=1e-4)
            torch.testing.assert_close(scores[index], alone_iou[0, 0], atol=1e-5, rtol=1e-5)
            torch.testing.assert_close(object_scores[index], alone_object[0, 0], atol=1e-5, rtol=1e-5)
        other, _, _ = decode_prompted(model, embed, high_res, boxes, -masks)
    assert not torch.allclose(other, logits)  # the mask prompt reaches the decoder


@pytest.mark.parametrize(("bias", "present"), [(50.0, True), (-50.0, False)])
def test_the_object_score_decides_what_is_gone_and_each_window_is_encoded_once(
    years, buildings, tiny_checkpoint, bias, present
) -> None:
    loaded = load_model(tiny_checkpoint.path, device="cpu")
    head = loaded.model.sam_mask_decoder.pred_obj_score_head
    last = head.layers[-1] if hasattr(head, "layers") else head
    with torch.no_grad():
        last.weight.zero_()
        last.bias.fill_(bias)
    with rasterio.open(years[1].scene.image) as dataset:
        footprint = box(*dataset.bounds).buffer(1e-6)
    with RasterSource(years[1].scene.image) as raster:
        segmenter = ClickSegmenter(loaded, raster, EmbeddingCache(memory_items=8))
        shift = (1.0, -0.5)
        found = carry_by_prompts(segmenter, buildings, shift, PromptCarry(margin_px=4))
        windows = {segmenter.window_for(np.zeros((0, 2)), np.array([0, 0, 1, 1]))}  # 192 px: one window holds all
        assert segmenter.encoder.encoder_calls == len(windows) == 1
    assert set(found) == set(buildings)
    for object_id, carried in found.items():
        assert (carried.geometry is not None) == present
        assert carried.object_score == pytest.approx(bias)
        if present:  # inside the raster, in its CRS; with a mask of noise it may spill beyond the box
            assert carried.geometry.is_valid
            assert carried.geometry.within(footprint)
            assert carried.geometry.geom_type == "Polygon"  # its largest part
            assert object_id in buildings


def test_frames_are_the_orthophoto_pixels_and_the_masks_lie_on_the_grid(
    years, buildings, tiny_checkpoint, tmp_path
) -> None:
    video = load_model(tiny_checkpoint.path, device="cpu", video=True)
    rasters = [RasterSource(y.scene.image) for y in years]
    try:
        windows = object_windows(buildings, rasters[0], video.image_size)
        assert sorted(i for ids in windows.values() for i in ids) == sorted(buildings)
        window = next(iter(windows))
        write_frames(rasters, window, tmp_path)
        for index, raster in enumerate(rasters):
            frame = np.asarray(Image.open(tmp_path / f"{index}.jpg").convert("RGB"))
            np.testing.assert_array_equal(frame, raster.read_rgb(window)[0])  # lossless
        with torch.inference_mode():
            state = video.model.init_state(str(tmp_path), offload_video_to_cpu=True)
        expected = to_model_input(rasters[1].read_rgb(window)[0])[0]
        torch.testing.assert_close(state["images"][1].float(), expected, atol=1e-5, rtol=1e-5)

        followed = carry_by_memory(video, rasters, buildings)
    finally:
        for raster in rasters:
            raster.close()
    assert len(followed) == 3
    assert all(set(year) == set(buildings) for year in followed)  # every object answered every year
    for object_id, outline in buildings.items():
        held = followed[0][object_id]  # the first year: the given mask as SAM 2 holds it (4x coarser)
        assert held is not None
        assert iou(held, outline) > 0.7
        assert held.centroid.distance(outline.centroid) < 1.0  # metres: two pixels
    moved = {i: affinity.translate(g, 4.0, 0.0) for i, g in buildings.items()}
    rasters = [RasterSource(y.scene.image) for y in years]
    try:
        again = carry_by_memory(video, rasters, moved)
    finally:
        for raster in rasters:
            raster.close()
    assert any(  # what SAM 2 remembers of frame 0 reaches the later frames
        (again[1][i] is None) != (followed[1][i] is None)
        or (again[1][i] is not None and not again[1][i].equals(followed[1][i]))
        for i in buildings
    )


def test_memory_refuses_an_image_model_and_years_off_the_grid(years, buildings, loaded, tmp_path) -> None:
    rasters = [RasterSource(y.scene.image) for y in years[:2]]
    try:
        with pytest.raises(InvalidInputError, match="video predictor"):
            carry_by_memory(loaded, rasters, buildings)
    finally:
        for raster in rasters:
            raster.close()


def test_carried_answers_become_statuses_as_the_truth_says(years) -> None:
    """Each later year with the truth as the carried outlines (None for gone) and as the year's own outlines:
    every status and identity comes out as the truth says."""
    truth = [read_layer(y.changes, "changes")[0] for y in years]
    before = [Tracked(a["object_id"], a["class_id"], "new", g) for g, a in truth[0]]
    ids = {t.object_id for t in before}
    config = MatchConfig()
    for rows in truth[1:]:
        standing = {a["object_id"]: g for g, a in rows if a["status"] != "gone"}
        earlier = [t.geometry for t in before if t.status != "gone"]
        shift_m = estimate_shift(earlier, list(standing.values()), config.max_shift_m)  # as track does
        previous = {t.object_id for t in before if t.status != "gone"}
        carried = {i: standing.get(i) for i in previous}
        own = [(g, a) for g, a in rows if a["status"] != "gone"]
        next_id = max(ids) + 1
        tracked = follow_year(
            before, carried, [g for g, _ in own], [a["class_id"] for _, a in own], next_id, shift_m, config
        )
        want = {a["object_id"]: a["status"] for _, a in rows}
        new_ids = iter(range(next_id, next_id + 1000))
        for t in tracked:
            if t.status == "new":
                next(new_ids)
                continue
            assert t.status == want[t.object_id], t.object_id
        assert sum(t.status == "new" for t in tracked) == sum(s == "new" for s in want.values()) > 0
        assert sum(t.status == "gone" for t in tracked) == sum(s == "gone" for s in want.values()) > 0
        ids |= {t.object_id for t in tracked}
        before = tracked


def test_an_outline_a_carried_object_covers_is_that_object_not_a_new_one() -> None:
    earlier = [Tracked(1, 1, "new", box(0, 0, 10, 10)), Tracked(2, 1, "new", box(20, 0, 30, 10))]
    carried = {1: box(0, 0, 10, 14), 2: None}  # 1 extended by 40 %, 2 demolished
    own = [box(0.2, 0, 10, 13.8), box(40, 0, 50, 10), box(1, 1, 4, 4)]  # 1 seen again, a new one, a part of 1
    tracked = follow_year(earlier, carried, own, [1, 1, 1], 3, (0.0, 0.0))
    by_id = {t.object_id: t for t in tracked}
    assert by_id[1].status == "changed"
    assert by_id[1].area_change_m2 == pytest.approx(40.0)
    assert by_id[2].status == "gone"
    assert [t.geometry.bounds for t in tracked if t.status == "new"] == [(40.0, 0.0, 50.0, 10.0)]


@pytest.mark.slow
@pytest.mark.parametrize("method", ["prompt", "memory"])
def test_track_carries_the_start_layer_through_the_orthophotos(
    years, buildings, tiny_checkpoint, core_cli, tmp_path, method
) -> None:
    start = tmp_path / "start.gpkg"
    features = [PolygonFeature(mapping(g), {"object_id": i, "class_id": BUILDING}) for i, g in buildings.items()]
    crs_wkt = read_layer(years[0].changes, "changes")[1]
    write_polygons(start, features, crs_wkt, fields={"object_id": int, "class_id": int})
    out = tmp_path / "out" / "tracks.gpkg"
    out.parent.mkdir()
    pixel = ["--pixel", "1.0"] if method == "prompt" else []  # a chosen grid: 1 m instead of the rasters' 0.5 m
    done = core_cli(
        "track", *[a for y in years[:2] for a in ("--year", y.scene.image)], "--start", start, "--method", method,
        "--checkpoint", tiny_checkpoint.path, "--mode", "auto", "--device", "cpu", "--out", out, *pixel,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "propagate in video" not in done.stderr  # SAM 2's progress bars stay off the engine's log
    summary = json.loads(done.stdout)
    assert summary["method"] == method
    assert summary["grid"] == (
        {"pixel": 1.0, "width": 96, "height": 96} if pixel else {"pixel": 0.5, "width": 192, "height": 192}
    )
    objects, _, _ = read_layer(out, "objects")
    first = {a["object_id"] for _, a in objects if a["year"] == 2019}
    assert len(first) == len(buildings)  # the start layer, not the first year's prediction
    later = {a["object_id"]: a["status"] for _, a in objects if a["year"] == 2022}
    assert first <= set(later)  # every start object is answered: carried (same id) or gone
    assert {later[i] for i in first} <= {"unchanged", "changed", "gone"}
    assert sorted(p.name for p in out.parent.iterdir()) == ["tracks.gpkg"]


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["--method", "prompt", "--year", "{a}", "--year", "{b}"], "reads each year's orthophoto"),
        (
            ["--year", "{image}", "--year", "{image2}", "--start", "{image}", "--checkpoint", "{image}"],
            "a polygon layer",
        ),
    ],
)
def test_what_a_method_cannot_follow_is_refused(years, core_cli, tmp_path, arguments, said) -> None:
    names = {
        "a": years[0].scene.labels,
        "b": years[1].scene.labels,
        "image": years[0].scene.image,
        "image2": years[1].scene.image,
    }
    out = tmp_path / "tracks.gpkg"
    done = core_cli("track", *[a.format(**names) for a in arguments], "--out", out)
    assert done.returncode != 0
    assert said in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()
