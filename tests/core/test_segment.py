"""Click-to-segment: same logits and masks as Meta's SAM2ImagePredictor, cache hits, prompts in any CRS."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rasterio.warp import transform as transform_coords
from sam2.build_sam import build_sam2
from sam2.sam2_image_predictor import SAM2ImagePredictor
from torch.nn import functional

from core.errors import InvalidInputError
from core.inference.embeddings import EmbeddingCache
from core.inference.segment import ClickSegmenter, Prompts, upsample_mask
from core.io.raster import RasterSource
from core.models.loader import load_model


@pytest.fixture(scope="module")
def model_1024(tiny_checkpoint):
    """The seeded hiera-tiny at the official input size, 1024."""
    return load_model(tiny_checkpoint.path, device="cpu", image_size=1024)


@pytest.fixture(scope="module")
def osbs(sample_data):
    with RasterSource(sample_data.osbs_image) as source:
        yield source


@pytest.fixture(scope="module")
def reference(tiny_checkpoint, osbs):
    """Meta's predictor on the very tile our engine encodes (the 400x400 image padded to 1024)."""
    model = build_sam2(
        tiny_checkpoint.spec.config,
        ckpt_path=str(tiny_checkpoint.path),
        device="cpu",
        hydra_overrides_extra=["++model.image_size=1024"],
    )
    predictor = SAM2ImagePredictor(model)
    from rasterio.windows import Window

    rgb, _ = osbs.read_rgb(Window(0, 0, 1024, 1024))
    predictor.set_image(rgb)
    return predictor


@pytest.fixture(scope="module")
def segmenter(model_1024, osbs):
    return ClickSegmenter(model_1024, osbs, EmbeddingCache())


def map_xy(raster, col: float, row: float) -> tuple[float, float]:
    x, y = raster.transform * (col, row)
    return float(x), float(y)


CASES = {
    "one point": dict(points=[(200.5, 150.5)], labels=[1], box=None),
    "fg and bg points": dict(points=[(200.5, 150.5), (240.5, 170.5)], labels=[1, 0], box=None),
    "box": dict(points=[], labels=[], box=(150.0, 100.0, 260.0, 210.0)),
    "box and point": dict(points=[(200.5, 150.5)], labels=[1], box=(150.0, 100.0, 260.0, 210.0)),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_logits_and_masks_match_sam2_image_predictor(case, segmenter, reference, osbs) -> None:
    spec = CASES[case]
    prompts = Prompts(
        points=tuple(map_xy(osbs, *p) for p in spec["points"]),
        labels=tuple(spec["labels"]),
        box=None
        if spec["box"] is None
        else (*map_xy(osbs, spec["box"][0], spec["box"][3]), *map_xy(osbs, spec["box"][2], spec["box"][1])),
    )
    result = segmenter.segment(prompts)
    assert (result.window.col_off, result.window.row_off, result.window.width) == (0, 0, 1024)

    # The reference gets SAM's pixel indices: our continuous coordinates minus half a pixel.
    points = np.array(spec["points"], dtype=np.float32).reshape(-1, 2) - 0.5
    box = None if spec["box"] is None else np.array(spec["box"], dtype=np.float32) - 0.5
    multimask = len(spec["points"]) == 1 and spec["box"] is None
    masks, ious, low_res = reference.predict(
        point_coords=points if len(points) else None,
        point_labels=np.array(spec["labels"]) if len(points) else None,
        box=box,
        multimask_output=multimask,
    )
    best = int(np.argmax(ious))
    assert result.score == pytest.approx(float(ious[best]), abs=1e-4)
    np.testing.assert_allclose(result.low_res_logits, low_res[best], atol=1e-3, rtol=1e-4)

    # Masks: ours, rebuilt from the crop the segmenter polygonizes, against the reference's full mask.
    crop, row0, col0 = upsample_mask(torch.from_numpy(result.low_res_logits), (1024, 1024), 0.0)
    ours = np.zeros((1024, 1024), dtype=bool)
    ours[row0 : row0 + crop.shape[0], col0 : col0 + crop.shape[1]] = crop
    assert (ours != masks[best].astype(bool)).sum() <= 20, "more than a handful of boundary pixels differ"
    valid = osbs.valid_mask(result.window)  # 400x400 of data (its nodata value is 255), the rest padding
    assert valid[:400, :400].mean() > 0.95
    assert not valid[400:].any()
    assert (ours & valid).sum() == result.mask_pixels


def test_cropped_upsampling_equals_full_upsampling() -> None:
    generator = torch.Generator().manual_seed(1)
    for _ in range(20):
        logits = torch.randn(64, 64, generator=generator) - 2.0  # sparse positive blobs
        logits[torch.randint(0, 64, (2,), generator=generator).tolist()] = 3.0
        full = functional.interpolate(logits[None, None], (256, 256), mode="bilinear", align_corners=False)[0, 0] > 0
        crop, row0, col0 = upsample_mask(logits, (256, 256), 0.0)
        rebuilt = np.zeros((256, 256), dtype=bool)
        rebuilt[row0 : row0 + crop.shape[0], col0 : col0 + crop.shape[1]] = crop
        np.testing.assert_array_equal(rebuilt, full.numpy())


def test_second_click_and_reopened_raster_cost_no_encoder_call(tiny_checkpoint, sample_data, tmp_path) -> None:
    model = load_model(tiny_checkpoint.path, device="cpu")
    cache_folder = tmp_path / "embeddings"
    with RasterSource(sample_data.osbs_image) as raster:
        first = ClickSegmenter(model, raster, EmbeddingCache(folder=cache_folder))
        click = Prompts(points=(map_xy(raster, 100, 100),), labels=(1,))
        first_score = first.segment(click).score
        first.segment(Prompts(points=(map_xy(raster, 110, 90),), labels=(1,)))
        assert first.encoder.encoder_calls == 1
    with RasterSource(sample_data.osbs_image) as reopened:  # a new session: empty memory, same disk cache
        second = ClickSegmenter(model, reopened, EmbeddingCache(folder=cache_folder))
        again = second.segment(click)
        assert second.encoder.encoder_calls == 0
    assert again.score == pytest.approx(first_score)


def test_prompts_in_another_crs_land_on_the_same_pixels(segmenter, osbs) -> None:
    x, y = map_xy(osbs, 120.5, 80.5)
    (lon,), (lat,) = transform_coords(osbs.crs, "EPSG:4326", [x], [y])
    points, _ = segmenter.to_pixels(Prompts(points=((lon, lat),), labels=(1,), crs="EPSG:4326"))
    np.testing.assert_allclose(points[0], [120.5, 80.5], atol=1e-3)


def test_polygons_are_in_the_raster_crs_inside_the_raster(segmenter, osbs) -> None:
    result = segmenter.segment(Prompts(points=(map_xy(osbs, 200.5, 150.5),), labels=(1,)))
    assert result.polygons
    left, bottom, right, top = osbs._dataset.bounds
    for polygon in result.polygons:
        xs, ys = np.array(polygon["coordinates"][0]).T
        assert left - 1e-6 <= xs.min()
        assert xs.max() <= right + 1e-6
        assert bottom - 1e-6 <= ys.min()
        assert ys.max() <= top + 1e-6


def test_prompt_outside_the_raster_is_refused(segmenter, osbs) -> None:
    x, y = map_xy(osbs, 450, 100)
    with pytest.raises(InvalidInputError, match=r"is outside the raster OSBS_029\.tif"):
        segmenter.segment(Prompts(points=((x, y),), labels=(1,)))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"points": ((0.0, 0.0),), "labels": ()}, "1 points but 0 labels"),
        ({"points": ((0.0, 0.0),), "labels": (2,)}, "labels are 1"),
        ({}, "no prompt"),
        ({"box": (5.0, 5.0, 1.0, 9.0)}, "is empty"),
    ],
)
def test_malformed_prompts_are_refused(kwargs, message) -> None:
    with pytest.raises(InvalidInputError, match=message):
        Prompts(**kwargs)


def test_raster_without_crs_takes_pixel_coordinates(tiny_checkpoint, tmp_path, sample_data) -> None:
    import rasterio
    from affine import Affine

    with rasterio.open(sample_data.osbs_image) as src:
        data = src.read()
    plain = tmp_path / "plain.tif"
    with rasterio.open(
        plain, "w", driver="GTiff", width=400, height=400, count=3, dtype="uint8", transform=Affine.identity()
    ) as dst:
        dst.write(data)
    with pytest.warns(UserWarning, match="has no CRS"):
        raster = RasterSource(plain)
    segmenter = ClickSegmenter(load_model(tiny_checkpoint.path, device="cpu"), raster, EmbeddingCache())
    result = segmenter.segment(Prompts(points=((200.5, 150.5),), labels=(1,)))
    xs, ys = np.array(result.polygons[0]["coordinates"][0]).T
    assert 0 <= xs.min() <= xs.max() <= 400  # pixel columns and rows, not metres
    assert 0 <= ys.min() <= ys.max() <= 400
    raster.close()
