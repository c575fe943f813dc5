"""A region's rasters: many orthophoto tiles given as files, folders, glob patterns, text lists or a VRT mosaic,
checked before any work (every file readable, one CRS), and the VRT mosaic written over their masks.

Sources, in any mix (``--raster`` repeated):
- a raster file;
- a folder: its rasters (``.tif``, ``.tiff``, ``.jp2``, ``.img``, ``.vrt``), sorted by name, not recursive;
- a glob pattern (``tiles/*.tif``, ``**`` recursive);
- a text list (``.txt``): one path per line, relative to the list's folder; blank lines and ``#`` comments skipped;
- a VRT mosaic: the rasters it reads (its ``SourceFilename`` entries), so that each is predicted on its own grid
  (a VRT over one file, e.g. choosing bands, is a raster of its own).
"""

from __future__ import annotations

import glob
import html
import os
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import rasterio
from rasterio.errors import RasterioIOError

from core.errors import InvalidInputError, MissingInputError
from core.io.raster import refuse_code_in_vrt

RASTER_SUFFIXES = (".tif", ".tiff", ".jp2", ".img", ".vrt")
GLOB_CHARACTERS = ("*", "?", "[")


@dataclass(frozen=True)
class CatalogRaster:
    """One raster of a region: its file, its CRS (WKT), size (px) and georeferencing (``transform``: the affine's
    a, b, c, d, e, f; ``bounds``: left, bottom, right, top in the CRS)."""

    path: Path
    crs: str
    width: int
    height: int
    transform: tuple[float, float, float, float, float, float]
    bounds: tuple[float, float, float, float]

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def pixel_size(self) -> float:
        return abs(self.transform[0])


def resolve_catalog(sources: Sequence[str | Path]) -> list[Path]:
    """The raster files ``sources`` name, in order, each once (see the module's docstring for the kinds)."""
    found: list[Path] = []
    for source in sources:
        found += _files_of(str(source))
    unique = list(dict.fromkeys(path.resolve() for path in found))
    if not unique:
        raise MissingInputError(
            f"no raster found in {', '.join(str(s) for s in sources)}: give raster files, a folder of them "
            f"({', '.join(RASTER_SUFFIXES)}), a glob pattern, a .txt list or a VRT"
        )
    return unique


def names_several(source: str) -> bool:
    """Whether ``source`` names several rasters by its kind (a folder, a pattern, a list, a VRT mosaic), before
    any of them is read."""
    path = Path(source)
    if path.is_dir() or path.suffix.lower() == ".txt":
        return True
    if any(character in source for character in GLOB_CHARACTERS) and not path.exists():
        return True
    return path.suffix.lower() == ".vrt" and path.is_file() and len(vrt_sources(path)) > 1


def _files_of(source: str) -> list[Path]:
    path = Path(source)
    if any(character in source for character in GLOB_CHARACTERS) and not path.exists():
        return sorted(Path(p) for p in glob.glob(source, recursive=True) if _is_raster_name(Path(p)))
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and _is_raster_name(p))
    if not path.exists():
        raise MissingInputError(f"{source} does not exist: give a raster, a folder of rasters, a pattern or a list")
    if path.suffix.lower() == ".txt":
        return _listed(path)
    if path.suffix.lower() == ".vrt" and len(mosaic := vrt_sources(path)) > 1:  # one source: a raster itself
        return mosaic
    return [path]


def _is_raster_name(path: Path) -> bool:
    return path.suffix.lower() in RASTER_SUFFIXES and not path.name.startswith(".")


def _listed(listing: Path) -> list[Path]:
    """The paths of a text list, relative to its folder; a missing one is named with its line."""
    files = []
    for number, line in enumerate(listing.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        path = Path(text) if Path(text).is_absolute() else listing.parent / text
        if not path.is_file():
            raise MissingInputError(
                f"{listing.name} line {number}: {text} does not exist (paths are relative to the list)"
            )
        files.append(path)
    return files


def vrt_sources(vrt: Path) -> list[Path]:
    """The distinct raster files a VRT mosaic reads, in order ([] when it reads no file, e.g. a derived VRT)."""
    refuse_code_in_vrt(vrt)
    try:
        root = ElementTree.parse(vrt).getroot()
    except (ElementTree.ParseError, OSError) as error:
        raise InvalidInputError(f"{vrt.name} cannot be read as a VRT ({error}): check the file") from None
    files = []
    for element in root.iter("SourceFilename"):
        text = html.unescape((element.text or "").strip())
        relative = element.get("relativeToVRT", "0") == "1"
        files.append((vrt.parent / text) if relative else Path(text))
    return list(dict.fromkeys(files))


def describe_catalog(paths: Sequence[Path]) -> list[CatalogRaster]:
    """Open every raster's header: all must be readable and share one CRS, or nothing runs (the message lists
    the files to fix, or each CRS with its files)."""
    rasters, unreadable = [], []
    for path in paths:
        try:
            refuse_code_in_vrt(path)
            with rasterio.open(path) as source:
                rasters.append(
                    CatalogRaster(
                        path,
                        source.crs.to_wkt() if source.crs else "",
                        source.width,
                        source.height,
                        tuple(source.transform)[:6],
                        tuple(source.bounds),
                    )
                )
        except (RasterioIOError, InvalidInputError, OSError) as error:
            unreadable.append(f"{path} ({str(error).splitlines()[0][:120]})")
    if unreadable:
        raise InvalidInputError(
            f"{len(unreadable)} of {len(paths)} rasters cannot be read, so the region was not started: "
            + "; ".join(unreadable[:10])
            + ("; ..." if len(unreadable) > 10 else "")
            + ". Repair or remove them from the catalog and run again"
        )
    by_crs: dict[str, list[Path]] = {}
    for raster in rasters:
        by_crs.setdefault(raster.crs, []).append(raster.path)
    if len(by_crs) > 1:
        listed = "; ".join(
            f"{_crs_name(crs)}: {', '.join(p.name for p in files[:5])}{' ...' if len(files) > 5 else ''}"
            for crs, files in by_crs.items()
        )
        raise InvalidInputError(
            f"the rasters are in {len(by_crs)} different CRSs ({listed}): a region is predicted in one CRS; "
            "reproject the others first (gdalwarp -t_srs <the CRS>) and run again"
        )
    return rasters


def _crs_name(wkt: str) -> str:
    if not wkt:
        return "no CRS"
    crs = rasterio.crs.CRS.from_wkt(wkt)
    return crs.to_string() if crs.to_epsg() else crs.to_wkt()[:60]


def part_names(paths: Sequence[Path]) -> list[str]:
    """A file name stem per raster, unique in the region (``tile_1``; ``north_tile_1`` when two folders hold one
    name): what its mask and its part records are called."""
    stems = [path.stem for path in paths]
    repeated = {stem for stem in stems if stems.count(stem) > 1}
    names = [f"{path.parent.name}_{path.stem}" if path.stem in repeated else path.stem for path in paths]
    if len(set(names)) < len(names):  # still the same: number them in order
        names = [f"{index:05d}_{name}" for index, name in enumerate(names)]
    return names


def write_mosaic_vrt(vrt: Path, masks: Sequence[Path], nodata: int) -> None:
    """A VRT mosaic over ``masks`` (uint8, one CRS) at the finest pixel size, with paths relative to it; written
    whole or not at all by the caller's atomic output (``vrt`` is the file to write)."""
    opened = []
    for mask in masks:
        with rasterio.open(mask) as source:
            opened.append((mask, source.transform, source.width, source.height, source.crs, source.bounds))
    pixel = min(abs(t.a) for _, t, *_ in opened)
    left = min(b.left for *_, b in opened)
    top = max(b.top for *_, b in opened)
    right = max(b.right for *_, b in opened)
    bottom = min(b.bottom for *_, b in opened)
    width, height = round((right - left) / pixel), round((top - bottom) / pixel)
    crs = opened[0][4]
    sources = []
    for mask, _, w, h, _, bounds in opened:
        x, y = (bounds.left - left) / pixel, (top - bounds.top) / pixel
        x_size, y_size = (bounds.right - bounds.left) / pixel, (bounds.top - bounds.bottom) / pixel
        relative = os.path.relpath(mask, vrt.parent)
        sources.append(
            f"""    <ComplexSource>
      <SourceFilename relativeToVRT="1">{html.escape(relative)}</SourceFilename>
      <SourceBand>1</SourceBand>
      <SrcRect xOff="0" yOff="0" xSize="{w}" ySize="{h}"/>
      <DstRect xOff="{x:.6f}" yOff="{y:.6f}" xSize="{x_size:.6f}" ySize="{y_size:.6f}"/>
      <NODATA>{nodata}</NODATA>
    </ComplexSource>"""
        )
    text = f"""<VRTDataset rasterXSize="{width}" rasterYSize="{height}">
  <SRS>{html.escape(crs.to_wkt() if crs else "")}</SRS>
  <GeoTransform>{left!r}, {pixel!r}, 0.0, {top!r}, 0.0, {-pixel!r}</GeoTransform>
  <VRTRasterBand dataType="Byte" band="1">
    <NoDataValue>{nodata}</NoDataValue>
{chr(10).join(sources)}
  </VRTRasterBand>
</VRTDataset>
"""
    vrt.write_text(text, encoding="utf-8")


__all__ = [
    "CatalogRaster",
    "describe_catalog",
    "names_several",
    "part_names",
    "resolve_catalog",
    "vrt_sources",
    "write_mosaic_vrt",
]
