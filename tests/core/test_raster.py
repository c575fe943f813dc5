"""Raster access: band choice, scaling, nodata, padding, and bad rasters refused with advice."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import rasterio
import torch
from affine import Affine
from rasterio.enums import ColorInterp
from rasterio.windows import Window
from sam2.utils.transforms import SAM2Transforms

from core.errors import InvalidInputError, MissingInputError
from core.inference.preprocess import to_model_input
from core.io.raster import MissingCrsWarning, RasterSource, to_uint8

pytestmark = pytest.mark.quick  # make test-fast


def write_raster(path, data: np.ndarray, crs="EPSG:32633", nodata=None, transform=None) -> str:
    count, height, width = data.shape
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=width,
        height=height,
        count=count,
        dtype=data.dtype,
        crs=crs,
        transform=transform or Affine(0.5, 0, 500_000, 0, -0.5, 5_500_000),
        nodata=nodata,
    ) as dst:
        dst.write(data)
    return str(path)


def test_rgb_uint8_passes_through_and_pads_outside(make_scene) -> None:
    scene, paths = make_scene(width=100, height=80)
    with RasterSource(paths.image) as source:
        rgb, valid = source.read_rgb(Window(60, 40, 64, 64))
    assert rgb.shape == (64, 64, 3)
    assert rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb[:40, :40], scene.image[:, 40:80, 60:100].transpose(1, 2, 0))
    assert valid[:40, :40].all()
    assert not valid[40:].any()
    assert not valid[:, 40:].any()
    assert (rgb[~valid] == 0).all()


def test_rgbi_uses_the_first_three_bands(make_scene) -> None:
    scene, paths = make_scene(width=64, height=64, bands="RGBI")
    with RasterSource(paths.image) as source:
        rgb, _ = source.read_rgb(Window(0, 0, 64, 64))
    assert source.preprocessing.bands == (1, 2, 3)
    np.testing.assert_array_equal(rgb, scene.image[:3].transpose(1, 2, 0))


def test_single_band_is_repeated(tmp_path) -> None:
    data = np.arange(64 * 64, dtype=np.uint8).reshape(1, 64, 64)
    with RasterSource(write_raster(tmp_path / "gray.tif", data)) as source:
        rgb, _ = source.read_rgb(Window(0, 0, 64, 64))
    assert (rgb == data[0][..., None]).all()


def test_uint16_is_stretched_once_per_raster(make_scene) -> None:
    _, paths = make_scene(width=300, height=300, dtype="uint16", seed=3)
    with RasterSource(paths.image) as source:
        stretch = source.preprocessing
        assert stretch.low is not None
        assert all(0 <= lo < hi <= 4095 for lo, hi in zip(stretch.low, stretch.high, strict=True))
        whole, _ = source.read_rgb(Window(0, 0, 300, 300))
        part, _ = source.read_rgb(Window(100, 100, 50, 50))
    assert source.preprocessing is stretch
    np.testing.assert_array_equal(part, whole[100:150, 100:150])  # same stretch for every window
    assert (whole > 0).mean() > 0.9
    assert whole.max() == 255


def test_nodata_pixels_are_black_and_invalid(make_scene) -> None:
    scene, paths = make_scene(width=128, height=128, nodata_border=True, seed=2)
    with RasterSource(paths.image) as source:
        rgb, valid = source.read_rgb(Window(0, 0, 128, 128))
    np.testing.assert_array_equal(valid, scene.mask != 255)
    assert (rgb[~valid] == 0).all()


def boundless_reference(path: str, source: RasterSource, window: Window) -> tuple[np.ndarray, np.ndarray]:
    """What read_rgb gave before it read only inside the raster: rasterio's boundless masked read."""
    with rasterio.open(path) as dataset:
        data = dataset.read(list(source.preprocessing.bands), window=window, boundless=True, masked=True)
    values, invalid = np.ma.getdata(data), np.ma.getmaskarray(data)
    if values.dtype.kind == "f":
        invalid = invalid | ~np.isfinite(values)
        values = np.where(invalid, 0, values)
    valid = ~invalid.any(axis=0)
    rgb = to_uint8(values, source.preprocessing)
    rgb[:, ~valid] = 0
    return rgb.transpose(1, 2, 0), valid


@pytest.mark.parametrize("kind", ["uint8", "uint8 nodata", "float32 nan", "uint16 alpha"])
def test_windows_read_inside_the_raster_equal_a_boundless_masked_read(tmp_path, kind) -> None:
    rng = np.random.default_rng(4)
    dtype = kind.split()[0]
    data = rng.integers(1, 250, (4 if "alpha" in kind else 3, 70, 90)).astype(dtype)
    nodata = 0 if "nodata" in kind else None
    data[:, 10:20, 30:50] = 0
    if "nan" in kind:
        data[1, 40:45, 5:9] = np.nan
    path = str(tmp_path / "r.tif")
    write_raster(path, data, nodata=nodata)
    if "alpha" in kind:
        with rasterio.open(path, "r+") as dataset:
            dataset.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue, ColorInterp.alpha]
            dataset.write(np.where(data[0] > 200, 0, 255).astype(dtype), 4)
    with RasterSource(path) as opened:
        source = opened.duplicate()  # a reading thread's own handle: the same pixels
    assert source.preprocessing == opened.preprocessing
    windows = [Window(0, 0, 32, 32), Window(-10, -5, 32, 32), Window(70, 50, 32, 32), Window(-50, 0, 32, 32)]
    for window in windows:
        rgb, valid = source.read_rgb(window)
        expected_rgb, expected_valid = boundless_reference(path, source, window)
        np.testing.assert_array_equal(valid, expected_valid)
        np.testing.assert_array_equal(rgb, expected_rgb)
        np.testing.assert_array_equal(source.valid_mask(window), expected_valid)
    assert not valid.any()  # the last window lies outside
    source.close()


def test_preprocessing_equals_sam2_transforms_at_model_size() -> None:
    tile = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    reference = SAM2Transforms(resolution=64, mask_threshold=0.0)(tile)
    torch.testing.assert_close(to_model_input(tile)[0], reference, rtol=1e-6, atol=1e-6)


def test_preprocessing_key_changes_with_bands(make_scene) -> None:
    _, paths = make_scene(width=64, height=64, bands="RGBI")
    with RasterSource(paths.image) as rgb, RasterSource(paths.image, bands=(4, 1, 2)) as false_colour:
        assert rgb.preprocessing.key != false_colour.preprocessing.key


# --- bad rasters -------------------------------------------------------------------------------------


def test_missing_raster(tmp_path) -> None:
    with pytest.raises(MissingInputError, match="raster not found"):
        RasterSource(tmp_path / "nothing.tif")


def test_file_that_is_not_a_raster(tmp_path) -> None:
    (tmp_path / "notes.tif").write_text("these are not pixels")
    with pytest.raises(InvalidInputError, match="not a raster GDAL can read"):
        RasterSource(tmp_path / "notes.tif")


def test_raster_without_crs_warns_and_uses_pixel_coordinates(tmp_path) -> None:
    data = np.zeros((3, 32, 32), dtype=np.uint8)
    path = write_raster(tmp_path / "plain.tif", data, crs=None, transform=Affine.identity())
    with pytest.warns(MissingCrsWarning, match="has no CRS"):
        source = RasterSource(path)
    assert source.crs is None
    assert source.warnings == ["plain.tif has no CRS: prompts and polygons use its pixel coordinates"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a reading thread's own handle does not say it again
        source.duplicate().close()
    source.close()


def test_two_band_raster_needs_a_band_choice(tmp_path) -> None:
    path = write_raster(tmp_path / "two.tif", np.zeros((2, 16, 16), dtype=np.uint8))
    with pytest.raises(InvalidInputError, match="has 2 bands: SAM 2 needs RGB"):
        RasterSource(path)
    with RasterSource(path, bands=(1, 2, 1)) as source:
        assert source.preprocessing.bands == (1, 2, 1)


def test_band_numbers_out_of_range(tmp_path) -> None:
    path = write_raster(tmp_path / "rgb.tif", np.zeros((3, 16, 16), dtype=np.uint8))
    with pytest.raises(InvalidInputError, match=r"bands \[1, 2, 5\] do not fit rgb.tif \(3 bands\)"):
        RasterSource(path, bands=(1, 2, 5))


def test_all_nodata_raster(tmp_path) -> None:
    path = write_raster(tmp_path / "empty.tif", np.zeros((3, 16, 16), dtype=np.uint16), nodata=0)
    with pytest.raises(InvalidInputError, match="hold only nodata"):
        RasterSource(path)
