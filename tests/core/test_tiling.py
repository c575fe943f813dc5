"""Window placement: the grid, and the window chosen for prompts."""

from __future__ import annotations

import pytest
from rasterio.windows import Window

from core.io.tiling import grid_origins, tile_grid, window_for_prompts

pytestmark = pytest.mark.quick  # make test-fast


def test_grid_covers_the_raster_and_ends_at_its_edge() -> None:
    assert grid_origins(1000, 256, 192) == [0, 192, 384, 576, 744]
    assert grid_origins(200, 256, 192) == [0]
    assert len(tile_grid(1000, 200, 256, 192)) == 5


def test_prompt_well_inside_a_grid_tile_uses_that_tile() -> None:
    window = window_for_prompts([300.0], [100.0], 2000, 2000, 256, 192, 32)
    assert window == Window(192, 0, 256, 256)


def test_prompts_spread_beyond_any_tile_get_a_centred_window() -> None:
    window = window_for_prompts([200.0, 420.0], [500.0, 520.0], 2000, 2000, 256, 192, 32)
    assert window.col_off == (310 - 128)
    assert window.row_off in grid_origins(2000, 256, 192)


def test_centred_windows_stay_inside_the_raster() -> None:
    window = window_for_prompts([5.0, 250.0], [5.0, 250.0], 300, 300, 256, 192, 64)
    assert (window.col_off, window.row_off) == (0, 0) or window.col_off + 256 <= 300
