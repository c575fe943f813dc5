"""Years of one area on one grid: dates from names, the grid shared by rasters of different CRS and pixel size,
each year read through it, and a raster of another area refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.warp import Resampling, calculate_default_transform, reproject

from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene
from core.errors import InvalidInputError
from core.io.years import date_of, dated, on_grid, write_on_grid, year_grid

pytestmark = pytest.mark.quick


@pytest.mark.parametrize(
    ("name", "date"),
    [
        ("ortho_2019.tif", "2019-07-01"),
        ("ortho_nord_aoi1_2022_merged.tif", "2022-07-01"),
        ("2025-05-14.tif", "2025-05-14"),
        ("flight_20230612_rgb.tif", "2023-06-12"),
        ("tile_12345.tif", None),
        ("ortho.tif", None),
    ],
)
def test_a_file_name_gives_its_date(name, date) -> None:
    assert date_of(Path(name)) == date


def test_years_are_ordered_and_each_date_is_given_once() -> None:
    years = dated([Path("b_2022.tif"), Path("a_2019.tif")])
    assert [y.date for y in years] == ["2019-07-01", "2022-07-01"]
    assert [y.date for y in dated([Path("x.tif"), Path("y.tif")], ["2020-05", "2018"])] == ["2018-07-01", "2020-05-01"]
    with pytest.raises(InvalidInputError, match="names no year"):
        dated([Path("ortho.tif"), Path("b_2022.tif")])
    with pytest.raises(InvalidInputError, match="the same date 2019-07-01"):
        dated([Path("a_2019.tif"), Path("b_2019.tif")])
    with pytest.raises(InvalidInputError, match="is not a date"):
        dated([Path("x.tif")], ["June"])
    with pytest.raises(InvalidInputError, match="1 dates for 2 rasters"):
        dated([Path("x.tif"), Path("y.tif")], ["2019"])


def warped_copy(source_path: Path, out: Path, crs: str, resolution: float | None = None) -> Path:
    """``source_path`` reprojected into ``crs`` (at ``resolution`` of its units when given)."""
    with rasterio.open(source_path) as source:
        transform, width, height = calculate_default_transform(
            source.crs, crs, source.width, source.height, *source.bounds, resolution=resolution
        )
        profile = source.profile | {"crs": crs, "transform": transform, "width": width, "height": height}
        profile.pop("blockxsize", None), profile.pop("blockysize", None), profile.update(tiled=False)
        with rasterio.open(out, "w", **profile) as target:
            for band in range(1, source.count + 1):
                reproject(rasterio.band(source, band), rasterio.band(target, band), resampling=Resampling.bilinear)
    return out


@pytest.fixture(scope="module")
def scene(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("years")
    config = SyntheticSceneConfig(width=256, height=256, pixel_size=0.5, seed=4)
    return write_synthetic_scene(config, folder, "ortho_2019").image


def test_rasters_of_other_crss_and_pixel_sizes_share_one_grid(scene, tmp_path) -> None:
    later = warped_copy(scene, tmp_path / "ortho_2022.tif", "EPSG:3035", resolution=0.3)  # LAEA Europe, 30 cm
    grid = year_grid([scene, later])
    assert grid.crs == rasterio.open(scene).crs  # the first year's CRS
    assert grid.pixel == pytest.approx(0.3, rel=0.05)  # the finest of the two
    with rasterio.open(scene) as first:
        left, bottom, right, top = first.bounds
    g_left, g_bottom, g_right, g_top = grid.bounds
    assert left - grid.pixel <= g_left  # inside the area both cover
    assert g_right <= right + grid.pixel
    assert bottom - grid.pixel <= g_bottom
    assert g_top <= top + grid.pixel
    with on_grid(scene, grid) as a, on_grid(later, grid) as b:
        assert a.shape == b.shape == (grid.height, grid.width)
        one, two = a.read(1).astype(float), b.read(1).astype(float)
    inner = (slice(10, -10), slice(10, -10))
    same = np.abs(one[inner] - two[inner]).mean()
    shifted = np.abs(one[inner] - np.roll(two, 6, axis=1)[inner]).mean()
    assert same < 0.5 * shifted  # the same ground in the same pixels, not 6 px off


def test_a_raster_of_another_area_is_refused_by_name(scene, tmp_path) -> None:
    config = SyntheticSceneConfig(width=64, height=64, pixel_size=0.5, seed=1, origin=(600_000.0, 5_400_000.0))
    elsewhere = write_synthetic_scene(config, tmp_path, "ortho_2022").image
    with pytest.raises(InvalidInputError, match=r"ortho_2022_image\.tif does not overlap ortho_2019_image\.tif"):
        year_grid([scene, elsewhere])


def test_a_chosen_pixel_size_is_kept(scene) -> None:
    grid = year_grid([scene, scene], pixel=1.0)
    assert grid.pixel == 1.0
    assert (grid.width, grid.height) == (128, 128)


def test_a_year_written_on_the_grid_holds_what_the_grid_reads(scene, tmp_path) -> None:
    later = warped_copy(scene, tmp_path / "ortho_2022.tif", "EPSG:3035", resolution=0.3)
    grid = year_grid([scene, later])
    written = write_on_grid(later, grid, tmp_path / "on_grid.tif", rows_per_block=37)  # blocks that do not divide
    with rasterio.open(written) as out, on_grid(later, grid) as warped:
        assert (out.crs, out.transform, out.width, out.height) == (grid.crs, grid.transform, grid.width, grid.height)
        np.testing.assert_array_equal(out.read(), warped.read())
