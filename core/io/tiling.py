"""Windows of the model's input size over a raster, in pixel coordinates (col, row)."""

from __future__ import annotations

from rasterio.windows import Window


def grid_origins(length: int, size: int, stride: int) -> list[int]:
    """Start offsets of windows of ``size`` every ``stride`` pixels; the last one ends at ``length``.

    A raster shorter than ``size`` has the single origin 0 (the window is padded past its end).
    """
    if length <= size:
        return [0]
    origins = list(range(0, length - size, stride))
    return [*origins, length - size]


def tile_grid(width: int, height: int, size: int, stride: int) -> list[Window]:
    """Windows covering a (width, height) raster, row by row."""
    return [
        Window(col, row, size, size)
        for row in grid_origins(height, size, stride)
        for col in grid_origins(width, size, stride)
    ]


def _origin_for(low: float, high: float, length: int, size: int, stride: int, margin: int) -> int | None:
    """A grid origin whose window holds [low, high] at least ``margin`` pixels inside its interior borders."""
    last = max(length - size, 0)
    for origin in grid_origins(length, size, stride):
        left_ok = origin == 0 or low >= origin + margin
        right_ok = origin == last or high <= origin + size - margin
        if left_ok and right_ok and origin <= low and high <= origin + size:
            return origin
    return None


def window_for_prompts(
    xs: list[float], ys: list[float], width: int, height: int, size: int, stride: int, margin: int
) -> Window:
    """The window to encode for prompts at pixel positions (xs, ys).

    A grid window (shared by later clicks and by pre-encoding) if one holds every prompt ``margin`` pixels
    away from its inner borders; otherwise a window centred on the prompts, clamped to the raster.
    """
    col = _origin_for(min(xs), max(xs), width, size, stride, margin)
    row = _origin_for(min(ys), max(ys), height, size, stride, margin)
    if col is None:
        col = min(max(round((min(xs) + max(xs)) / 2 - size / 2), 0), max(width - size, 0))
    if row is None:
        row = min(max(round((min(ys) + max(ys)) / 2 - size / 2), 0), max(height - size, 0))
    return Window(col, row, size, size)
