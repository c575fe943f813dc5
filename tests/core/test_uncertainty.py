"""How unsure the model is, per pixel (predict --uncertainty): on the input's grid, 0 where the model is sure, the
same streamed as computed over the whole raster in memory, and memory flat in the raster's height."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import rasterio

from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene
from core.inference.predict import PredictConfig, predict_raster, taper
from core.io.tiling import grid_origins
from tests.core.test_predict import Constant

pytestmark = pytest.mark.quick


@pytest.fixture(scope="module")
def odd_scene(tmp_path_factory):
    return write_synthetic_scene(SyntheticSceneConfig(width=300, height=220, seed=9), tmp_path_factory.mktemp("odd"))


@pytest.mark.parametrize(("value", "expected"), [(0.0, 0.0), (1.0, 0.0), (0.5, 1.0), (0.1, 0.469)])
def test_entropy_is_zero_where_the_model_is_sure_and_one_where_it_cannot_tell(
    odd_scene, tmp_path, value, expected
) -> None:
    unsure = tmp_path / "unsure.tif"
    predict_raster(odd_scene.image, Constant(value), tmp_path / "mask.tif", uncertainty=unsure)
    with rasterio.open(odd_scene.image) as src, rasterio.open(unsure) as out:
        assert (out.width, out.height, out.crs, out.transform) == (src.width, src.height, src.crs, src.transform)
        assert out.dtypes == ("float32",)
        assert out.tags(1)["SIGNAL"] == "entropy"
        np.testing.assert_allclose(out.read(1), expected, atol=1e-3)


class Ramp:
    """A stand-in model whose probability rises from a window's left edge to its right: overlapping windows
    disagree about the pixels they share."""

    size = 128

    def __call__(self, tiles: np.ndarray) -> np.ndarray:
        ramp = np.linspace(0.0, 1.0, self.size, dtype=np.float32)
        return np.broadcast_to(ramp, (len(tiles), self.size, self.size)).copy()


def in_memory(image: np.ndarray, size: int, overlap: float) -> tuple[np.ndarray, np.ndarray]:
    """The blend's weighted mean of p and of p squared (rows, cols), every window accumulated at once."""
    height, width = image.shape[:2]
    stride = size - round(size * overlap)
    weights = taper(size, round(size * overlap) // 2)
    total, square, weight = (np.zeros((height, width)) for _ in range(3))
    for row in grid_origins(height, size, stride):
        for col in grid_origins(width, size, stride):
            tile = np.zeros((size, size, 3), dtype=np.uint8)
            part = image[row : row + size, col : col + size]
            tile[: part.shape[0], : part.shape[1]] = part
            prob = Ramp()(tile[None])[0][: part.shape[0], : part.shape[1]].astype(np.float64)
            w = weights[: part.shape[0], : part.shape[1]]
            total[row : row + size, col : col + size] += prob * w
            square[row : row + size, col : col + size] += prob**2 * w
            weight[row : row + size, col : col + size] += w
    return total / weight, square / weight


@pytest.mark.parametrize("signal", ["entropy", "disagreement"])
def test_streamed_uncertainty_equals_the_whole_raster_computed_in_memory(odd_scene, tmp_path, signal) -> None:
    unsure = tmp_path / "unsure.tif"
    config = PredictConfig(overlap=0.4, batch_size=2, uncertainty_signal=signal)
    predict_raster(odd_scene.image, Ramp(), tmp_path / "mask.tif", config, uncertainty=unsure)
    with rasterio.open(odd_scene.image) as src:
        image = src.read([1, 2, 3]).transpose(1, 2, 0)
    mean, square = in_memory(image, 128, 0.4)
    if signal == "entropy":
        p = np.clip(mean, 1e-6, 1 - 1e-6)
        expected = -(p * np.log(p) + (1 - p) * np.log(1 - p)) / math.log(2)
    else:
        expected = 2 * np.sqrt(np.clip(square - mean**2, 0, None))
    with rasterio.open(unsure) as out:
        np.testing.assert_allclose(out.read(1), expected, atol=2e-3)
    if signal == "disagreement":
        assert expected.max() > 0.05  # the windows do disagree where they overlap: the check is not vacuous
        assert (expected[:, :70] < 1e-3).all()  # one window alone covers the left columns


def test_uncertainty_streams_memory_does_not_grow_with_the_rasters_height(tmp_path) -> None:
    """Peak resident memory of a prediction writing mask, probabilities and uncertainty (the memory bench's
    child, its own process) for a raster 2048 px wide and 8192 or 16384 px tall: both past GDAL's write cache
    (32 MiB), so what grows would be the prediction's own (one float32 band of the taller one is 128 MiB)."""
    from bench.bench_predict_memory import CHILD

    def peak_mb(height: int) -> float:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(height), str(tmp_path)], capture_output=True, text=True, check=True
        )
        return json.loads(done.stdout.strip().splitlines()[-1])["peak_kb"] / 1024

    tall, short = peak_mb(16384), peak_mb(8192)
    with rasterio.open(tmp_path / "u16384.tif") as written:
        assert written.height == 16384
    assert tall - short < 32, f"{tall - short:.0f} MB more for 8192 more rows"


def test_predict_command_writes_the_uncertainty_and_says_so(odd_scene, tiny_checkpoint, tmp_path, core_cli) -> None:
    unsure = tmp_path / "unsure.tif"
    done = core_cli(
        "predict", "--raster", odd_scene.image, "--checkpoint", tiny_checkpoint.path, "--out", tmp_path / "mask.tif",
        "--uncertainty", unsure, "--uncertainty-signal", "disagreement", "--device", "cpu",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["uncertainty"] == str(unsure)
    assert result["uncertainty_signal"] == "disagreement"
    with rasterio.open(unsure) as out:
        values = out.read(1, masked=True)
    assert 0 <= values.min() <= values.max() <= 1
