"""Which of a raster's bands the engine reads as red, green and blue: chosen in the panel for rasters that are
not plain 8-bit RGB (RGBI, multispectral, 16-bit), and remembered per raster file across QGIS sessions."""

from __future__ import annotations

import hashlib

from qgis.core import Qgis, QgsRasterLayer

from .settings import BANDS


def needs_choice(layer: QgsRasterLayer | None) -> bool:
    """Whether the analyst should choose bands: a raster file (not a rendered web layer) that is not 8-bit RGB."""
    if layer is None or not layer.isValid() or layer.providerType() != "gdal":
        return False
    return layer.bandCount() != 3 or layer.dataProvider().dataType(1) != Qgis.DataType.Byte


def default_bands(layer: QgsRasterLayer) -> tuple[int, int, int]:
    """1, 2, 3 for three bands or more; the single band as grey."""
    return (1, 2, 3) if layer.bandCount() >= 3 else (1, 1, 1)


def _key(layer: QgsRasterLayer) -> str:
    return hashlib.sha256(layer.source().encode()).hexdigest()[:16]


def remembered_bands(layer: QgsRasterLayer) -> tuple[int, int, int]:
    """The bands chosen for this raster file before (any session), else the default; bands the raster no longer
    has fall back to the default."""
    saved = BANDS.value(_key(layer))
    try:
        bands = tuple(int(band) for band in str(saved).split(",")) if saved else ()
    except ValueError:
        bands = ()
    if len(bands) != 3 or not all(1 <= band <= layer.bandCount() for band in bands):
        return default_bands(layer)
    return bands


def remember_bands(layer: QgsRasterLayer, bands: tuple[int, int, int]) -> None:
    BANDS.set_value(_key(layer), ",".join(str(band) for band in bands))


def engine_bands(layer: QgsRasterLayer | None) -> list[int] | None:
    """The ``bands`` option of the engine's jobs for ``layer``: None where the engine's default is right."""
    if not needs_choice(layer):
        return None
    assert layer is not None
    return list(remembered_bands(layer))


__all__ = ["default_bands", "engine_bands", "needs_choice", "remember_bands", "remembered_bands"]
