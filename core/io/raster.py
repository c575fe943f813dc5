"""Reading orthophoto windows as the RGB uint8 tiles SAM 2 sees, the same way for inference and training.

Band choice: RGB as is, RGBI -> its first three bands, one band -> repeated three times, or any three
bands chosen by the caller. Scaling: uint8 as is; other types by a 2-98 percentile stretch per band,
computed once per raster (from an overview-sized read) and reused for every window. Nodata pixels become
black and are reported in a validity mask, and so are NaN and infinite values of float rasters (a float
raster without a nodata tag often marks nodata with NaN). Windows outside the raster are padded with nodata.

A file GDAL cannot read to the end (a truncated GeoTIFF, a VRT whose source is gone) is an InvalidInputError
that says so; VRTs with Python pixel functions (code run on read) are refused.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.enums import MaskFlags
from rasterio.errors import NotGeoreferencedWarning, RasterioIOError
from rasterio.windows import Window

from core.errors import InvalidInputError, MissingInputError

STRETCH_PERCENTILES = (2.0, 98.0)
STATS_MAX_SIDE = 1024
os.environ["GDAL_VRT_ENABLE_PYTHON"] = "NO"  # never run code embedded in a VRT, nested ones included


def gdal_block_cache(megabytes: int) -> rasterio.Env:
    """A rasterio environment whose GDAL block cache holds ``megabytes`` MiB (restored on leaving it).

    rasterio hands an integer GDAL_CACHEMAX to GDAL as bytes (GDAL's own "below 100 000 means megabytes" rule
    applies to its environment variable only), so ``GDAL_CACHEMAX=32`` would give a 32-byte cache that makes
    GDAL decompress every tile again for each read."""
    return rasterio.Env(GDAL_CACHEMAX=megabytes * 1024 * 1024)


def refuse_code_in_vrt(path: Path) -> None:
    """A VRT with a Python pixel function runs that code when read: refuse it before GDAL opens the file. Only a
    file that starts as a VRT is read on (its first MiB): any other raster costs one small read."""
    try:
        with path.open("rb") as file:
            head = file.read(256)
            if not head.lstrip().startswith(b"<VRTDataset"):
                return
            head += file.read((1 << 20) - len(head))
    except OSError:
        return  # GDAL's open says what is wrong
    if b"pixelfunctionlanguage>python" in head.lower().replace(b" ", b""):
        raise InvalidInputError(
            f"{path.name} is a VRT with a Python pixel function, which would run code while reading: "
            "write the raster out (gdal_translate, with that function trusted) and open the result"
        )


class MissingCrsWarning(UserWarning):
    """The raster has no CRS: prompts and polygons are in its pixel coordinates."""


@dataclass(frozen=True)
class RasterIdentity:
    """What makes cached results of a raster valid: resolved path, size and modification time."""

    path: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> RasterIdentity:
        stat = path.stat()
        return cls(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@dataclass(frozen=True)
class Preprocessing:
    """How raster values become RGB uint8: which bands (1-based) and, for non-uint8 data, the stretch."""

    bands: tuple[int, int, int]
    low: tuple[float, float, float] | None = None
    high: tuple[float, float, float] | None = None

    @property
    def key(self) -> str:
        """A short digest that changes whenever the produced pixels would."""
        return hashlib.sha256(repr((self.bands, self.low, self.high)).encode()).hexdigest()[:16]


def default_bands(count: int, requested: tuple[int, ...] | None, name: str) -> tuple[int, int, int]:
    """RGB bands for a raster of ``count`` bands: the requested ones, 1-2-3 for 3+ bands, 1-1-1 for one."""
    if requested is not None:
        if len(requested) == 1:
            requested = requested * 3
        if len(requested) != 3 or any(not 1 <= b <= count for b in requested):
            raise InvalidInputError(
                f"bands {list(requested)} do not fit {name} ({count} bands): give one or three band numbers "
                f"between 1 and {count}"
            )
        return (requested[0], requested[1], requested[2])
    if count >= 3:
        return (1, 2, 3)
    if count == 1:
        return (1, 1, 1)
    raise InvalidInputError(
        f"{name} has {count} bands: SAM 2 needs RGB. Choose the bands to use (e.g. --bands 1,2,1) or a "
        "raster with one or three or more bands"
    )


class RasterSource:
    """An open raster that serves RGB uint8 windows, (rows, cols, 3), with a validity mask.

    ``transform`` maps (col, row) to (x, y) in ``crs``; without a CRS both are pixel coordinates (a
    MissingCrsWarning says so).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        bands: tuple[int, ...] | None = None,
        preprocessing: Preprocessing | None = None,
    ) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise MissingInputError(f"raster not found: {self.path}")
        refuse_code_in_vrt(self.path)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NotGeoreferencedWarning)
                self._dataset = rasterio.open(self.path)
        except RasterioIOError:
            raise InvalidInputError(
                f"{self.path.name} is not a raster GDAL can read: open a GeoTIFF or another GDAL raster format"
            ) from None
        dataset = self._dataset
        self.identity = RasterIdentity.of(self.path)
        self.width, self.height = dataset.width, dataset.height
        self.crs = dataset.crs
        self.transform: Affine = dataset.transform
        self.warnings: list[str] = []
        if self.crs is None:
            message = f"{self.path.name} has no CRS: prompts and polygons use its pixel coordinates"
            self.warnings.append(message)
            warnings.warn(message, MissingCrsWarning, stacklevel=2)
        self.preprocessing = preprocessing or self._preprocessing(default_bands(dataset.count, bands, self.path.name))
        chosen = [b - 1 for b in self.preprocessing.bands]
        # no nodata, no mask band, no alpha: every pixel is valid and no mask needs reading
        self._all_valid = all(dataset.mask_flag_enums[i] == [MaskFlags.all_valid] for i in chosen)
        self._float = any(dataset.dtypes[i].startswith("float") for i in chosen)

    def duplicate(self) -> RasterSource:
        """Another handle on the same file with the same preprocessing (GDAL handles are not shared between
        threads: each reading thread takes its own)."""
        with warnings.catch_warnings():  # said once, when the raster was first opened
            warnings.simplefilter("ignore", MissingCrsWarning)
            return RasterSource(self.path, preprocessing=self.preprocessing)

    def _preprocessing(self, bands: tuple[int, int, int]) -> Preprocessing:
        if all(self._dataset.dtypes[b - 1] == "uint8" for b in bands):
            return Preprocessing(bands)
        scale = max(self.width, self.height) / STATS_MAX_SIDE
        shape = (max(1, round(self.height / max(scale, 1))), max(1, round(self.width / max(scale, 1))))
        sample = self._read(list(bands), out_shape=(3, *shape), masked=True).astype("float64")
        lows, highs = [], []
        for band in sample:
            values = band.compressed()
            values = values[np.isfinite(values)]
            if values.size == 0:
                raise InvalidInputError(f"{self.path.name}: bands {list(bands)} hold only nodata")
            low, high = np.percentile(values, STRETCH_PERCENTILES)
            lows.append(float(low))
            highs.append(float(high) if high > low else float(low) + 1.0)
        return Preprocessing(bands, (lows[0], lows[1], lows[2]), (highs[0], highs[1], highs[2]))

    def read_rgb(self, window: Window) -> tuple[np.ndarray, np.ndarray]:
        """RGB uint8 (rows, cols, 3) and validity bool (rows, cols) of ``window``; outside the raster is invalid."""
        col, row, width, height = (int(v) for v in (window.col_off, window.row_off, window.width, window.height))
        rgb = np.zeros((height, width, 3), dtype=np.uint8)
        valid = np.zeros((height, width), dtype=bool)
        inside = self._inside(window)
        if inside is not None:  # read only the part inside the raster: boundless reads are slow
            values = self._read(list(self.preprocessing.bands), window=inside)
            ok = self._valid_inside(inside, values)
            if self._float:
                values = np.where(ok, values, 0)
            part = to_uint8(values, self.preprocessing)
            part[:, ~ok] = 0
            rows, cols = (
                slice(inside.row_off - row, inside.row_off - row + inside.height),
                slice(inside.col_off - col, inside.col_off - col + inside.width),
            )
            rgb[rows, cols] = part.transpose(1, 2, 0)
            valid[rows, cols] = ok
        return rgb, valid

    def valid_mask(self, window: Window) -> np.ndarray:
        """Validity bool (rows, cols) of ``window``: inside the raster and not nodata in any chosen band."""
        col, row, width, height = (int(v) for v in (window.col_off, window.row_off, window.width, window.height))
        valid = np.zeros((height, width), dtype=bool)
        inside = self._inside(window)
        if inside is not None:
            values = self._read(list(self.preprocessing.bands), window=inside) if self._float else None
            valid[
                inside.row_off - row : inside.row_off - row + inside.height,
                inside.col_off - col : inside.col_off - col + inside.width,
            ] = self._valid_inside(inside, values)
        return valid

    def _inside(self, window: Window) -> Window | None:
        """The part of ``window`` inside the raster (integer offsets and sizes), or None."""
        col, row, width, height = (int(v) for v in (window.col_off, window.row_off, window.width, window.height))
        c0, r0 = max(col, 0), max(row, 0)
        c1, r1 = min(col + width, self.width), min(row + height, self.height)
        return Window(c0, r0, c1 - c0, r1 - r0) if c0 < c1 and r0 < r1 else None

    def _valid_inside(self, inside: Window, values: np.ndarray | None) -> np.ndarray:
        """Validity (rows, cols) of a window inside the raster: every chosen band valid, and finite for floats
        (``values``: the bands read, needed for float rasters)."""
        shape = (int(inside.height), int(inside.width))
        if self._all_valid:
            ok = np.ones(shape, dtype=bool)
        else:
            ok = (self._read(list(self.preprocessing.bands), window=inside, masks_only=True) > 0).all(axis=0)
        if self._float and values is not None:
            ok &= np.isfinite(values).all(axis=0)
        return ok

    def _read(self, bands: list[int], masks_only: bool = False, **options: object) -> np.ndarray:
        """``bands`` read with rasterio's ``options`` (their masks with ``masks_only``); a failed read says why."""
        try:
            if masks_only:
                return self._dataset.read_masks(bands, **options)
            return self._dataset.read(bands, **options)
        except RasterioIOError as error:
            raise InvalidInputError(
                f"{self.path.name} cannot be read to the end ({error}): the file may be truncated or damaged, or "
                f'the source of a VRT may be missing; check it with gdalinfo -checksum "{self.path}"'
            ) from None

    def window_transform(self, window: Window) -> Affine:
        return rasterio.windows.transform(window, self.transform)

    def close(self) -> None:
        self._dataset.close()

    def __enter__(self) -> RasterSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def to_uint8(values: np.ndarray, preprocessing: Preprocessing) -> np.ndarray:
    """Bands (3, rows, cols) of any dtype -> uint8 by the preprocessing's stretch (uint8 passes through)."""
    if preprocessing.low is None or preprocessing.high is None:
        return values.astype(np.uint8, copy=True)
    low = np.asarray(preprocessing.low, dtype=np.float32)[:, None, None]
    high = np.asarray(preprocessing.high, dtype=np.float32)[:, None, None]
    scaled = (values.astype(np.float32) - low) / (high - low) * 255.0
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
