"""The raster's bands chosen as R, G, B reach every job: training tiles and whole-raster prediction read the
chosen bands (the worker and ``segment`` already did)."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene
from core.errors import InvalidConfigError
from core.inference.predict import PredictConfig, predict_raster
from core.training.config import TrainConfig
from core.training.tiles import build_tiles

pytestmark = pytest.mark.quick


@pytest.fixture(scope="module")
def rgbi(tmp_path_factory):
    """A 256 x 256 px four-band (R, G, B, NIR) uint8 scene with labels."""
    return write_synthetic_scene(
        SyntheticSceneConfig(width=256, height=256, seed=3, bands="RGBI"), tmp_path_factory.mktemp("rgbi")
    )


def test_training_tiles_hold_the_chosen_bands(rgbi) -> None:
    config = TrainConfig(tile_size=128, classes=(1,), class_field="class_id", bands=(4, 1, 2), max_nodata=1.0)
    tiles = build_tiles(rgbi.image, rgbi.labels, config).tiles
    assert tiles
    with rasterio.open(rgbi.image) as source:
        for tile in tiles:
            window = Window(tile.window.col_off, tile.window.row_off, 128, 128)
            nir, red = source.read(4, window=window, boundless=True), source.read(1, window=window, boundless=True)
            assert np.array_equal(tile.rgb[..., 0], nir)  # red channel: the near infrared band
            assert np.array_equal(tile.rgb[..., 1], red)


class FirstChannel:
    """A window predictor whose probability is the first channel's brightness: it shows which band was read."""

    size = 128

    def __call__(self, tiles: np.ndarray) -> np.ndarray:
        return tiles[..., 0].astype(np.float32) / 255


def test_prediction_reads_the_chosen_bands(rgbi, tmp_path) -> None:
    config = PredictConfig(overlap=0.0, threshold=0.5)
    for name, bands in (("default", None), ("nir", (4, 1, 2))):
        predict_raster(
            rgbi.image, FirstChannel(), tmp_path / f"{name}.tif", config, tmp_path / f"{name}_p.tif", bands=bands
        )
    with rasterio.open(rgbi.image) as source, rasterio.open(tmp_path / "nir_p.tif") as nir:
        expected = source.read(4).astype(np.float32) / 255
        assert np.allclose(nir.read(1), expected, atol=0.01)
    with rasterio.open(tmp_path / "default_p.tif") as default, rasterio.open(rgbi.image) as source:
        assert np.allclose(default.read(1), source.read(1).astype(np.float32) / 255, atol=0.01)


@pytest.mark.parametrize("bands", [(1, 2), (0, 1, 2), (1, 2, 3, 4)])
def test_band_lists_that_are_not_rgb_are_refused(bands) -> None:
    with pytest.raises(InvalidConfigError, match="must be three band numbers"):
        TrainConfig(bands=bands)
