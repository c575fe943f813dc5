"""Any visible raster layer for the engine: a local raster file is used as it is; anything else (WMS, WMTS, XYZ
tiles, a cloud-optimised GeoTIFF over HTTP, a raster in a database) is rendered over the area needed into a
georeferenced GeoTIFF in the cache, which the engine opens like any file.

Web services (the ``wms`` provider: WMS, WMTS, XYZ) are rendered as the analyst sees them (RGBA) in the map's
CRS at a ground resolution: the map's own by default. GDAL rasters that are not local files (``/vsicurl/``) keep
their bands, data type, CRS and pixel size. An area over ``MAX_SIDE`` pixels a side is refused with a message
saying how to zoom or lower the resolution. Renders are written to a temporary name and renamed when complete:
a cancelled or failed render leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsProject,
    QgsRasterBlockFeedback,
    QgsRasterFileWriter,
    QgsRasterLayer,
    QgsRasterPipe,
    QgsRasterProjector,
    QgsRectangle,
)

from .i18n import tr
from .session import SessionError

MAX_SIDE = 8192  # pixels a side of one render: about 200 MB of RGBA


def is_local_file(layer: QgsRasterLayer) -> bool:
    """Whether the engine can open the layer's source itself: a GDAL raster on a local (or mounted) disk."""
    source = layer.source()
    if layer.providerType() != "gdal" or source.lower().startswith(("/vsi", "http:", "https:", "ftp:")):
        return False
    return Path(source.split("|")[0]).exists()


def is_web_service(layer: QgsRasterLayer) -> bool:
    """WMS, WMTS and XYZ layers: rendered images (RGBA), not data bands."""
    return layer.providerType() == "wms"


@dataclass(frozen=True)
class RenderArea:
    """The area to render: ``extent`` in ``crs``, at ``resolution`` map units of ``crs`` per pixel."""

    extent: QgsRectangle
    crs: QgsCoordinateReferenceSystem
    resolution: float

    def size(self) -> tuple[int, int]:
        """(columns, rows) of the render."""
        return (
            max(1, math.ceil(self.extent.width() / self.resolution)),
            max(1, math.ceil(self.extent.height() / self.resolution)),
        )

    def key(self, layer: QgsRasterLayer) -> str:
        """A file name for the render of ``layer`` over this area (the same area, the same file)."""
        parts = (layer.source(), self.extent.toString(6), self.crs.authid() or self.crs.toWkt(), f"{self.resolution:g}")
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


def area_for(
    layer: QgsRasterLayer, extent: QgsRectangle, crs: QgsCoordinateReferenceSystem, map_resolution: float
) -> RenderArea:
    """What to render of ``layer`` to cover ``extent`` (in ``crs``): a web service in ``crs`` at
    ``map_resolution``; a GDAL raster in its own CRS and pixel size, the extent clipped to the raster."""
    if is_web_service(layer):
        return RenderArea(QgsRectangle(extent), crs, map_resolution)
    to_layer = QgsCoordinateTransform(crs, layer.crs(), QgsProject.instance())
    covered = to_layer.transformBoundingBox(extent).intersect(layer.extent())
    if covered.isEmpty():
        raise SessionError(
            tr("{layer} has no pixels in that area: pan to the layer or choose another area").format(layer=layer.name())
        )
    return RenderArea(covered, layer.crs(), layer.rasterUnitsPerPixelX())


def check_size(layer: QgsRasterLayer, area: RenderArea) -> None:
    """SessionError, saying how to fix it, when ``area`` is more than ``MAX_SIDE`` pixels a side."""
    cols, rows = area.size()
    if max(cols, rows) > MAX_SIDE:
        units = area.crs.mapUnits()
        from qgis.core import QgsUnitTypes

        raise SessionError(
            tr(
                "{layer}: the area is {cols} x {rows} px at {resolution:g} {units} per pixel, more than "
                "{max_side} px a side: zoom in, or choose a coarser ground resolution for web layers in the"
                " SAM 2 panel"
            ).format(
                layer=layer.name(),
                cols=cols,
                rows=rows,
                resolution=area.resolution,
                units=QgsUnitTypes.toAbbreviatedString(units),
                max_side=MAX_SIDE,
            )
        )


def render(
    layer: QgsRasterLayer, area: RenderArea, folder: Path, feedback: QgsRasterBlockFeedback | None = None
) -> Path:
    """A GeoTIFF of ``layer`` over ``area`` in ``folder`` (reused when that area was rendered before).
    For a background thread: the layer's provider is cloned. InterruptedError when ``feedback`` is cancelled."""
    check_size(layer, area)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{area.key(layer)}.tif"
    if path.exists():
        return path
    partial = folder / f"{path.stem}.partial.tif"
    provider = layer.dataProvider().clone()
    pipe = QgsRasterPipe()
    if not pipe.set(provider):
        raise SessionError(
            tr("{layer} cannot be read for rendering: check the layer's source").format(layer=layer.name())
        )
    if provider.crs() != area.crs:
        projector = QgsRasterProjector()
        projector.setCrs(provider.crs(), area.crs, QgsProject.instance().transformContext())
        pipe.insert(2, projector)
    writer = QgsRasterFileWriter(str(partial))
    writer.setOutputFormat("GTiff")
    writer.setCreateOptions(["COMPRESS=DEFLATE", "TILED=YES"])
    cols, rows = area.size()
    extent = QgsRectangle(
        area.extent.xMinimum(),
        area.extent.yMaximum() - rows * area.resolution,
        area.extent.xMinimum() + cols * area.resolution,
        area.extent.yMaximum(),
    )  # whole pixels of exactly ``resolution``
    outcome = writer.writeRaster(pipe, cols, rows, extent, area.crs, QgsProject.instance().transformContext(), feedback)
    if outcome != QgsRasterFileWriter.WriterError.NoError or (feedback is not None and feedback.isCanceled()):
        for leftover in folder.glob(f"{path.stem}.partial*"):
            with contextlib.suppress(OSError):
                leftover.unlink()
        if feedback is not None and feedback.isCanceled():
            raise InterruptedError(tr("rendering {layer} was cancelled").format(layer=layer.name()))
        raise SessionError(
            tr("{layer} could not be rendered (error {code}): check the layer's source").format(
                layer=layer.name(), code=int(outcome)
            )
        )
    partial.replace(path)
    for sidecar in folder.glob(f"{path.stem}.partial.tif.*"):  # .aux.xml and the like
        with contextlib.suppress(OSError):
            sidecar.replace(folder / sidecar.name.replace(".partial", ""))
    return path


class RasterSources:
    """The file the engine opens for a raster layer: its own for a local file, else a render in ``folder`` of
    the area asked for, or of one rendered before that covers it (clicks inside the area rendered for the first
    click reuse it)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.renders: dict[str, list[tuple[RenderArea, Path]]] = {}  # layer id -> areas rendered

    def covering(self, layer: QgsRasterLayer, extent: QgsRectangle, crs: QgsCoordinateReferenceSystem) -> Path | None:
        """A render of ``layer`` that covers ``extent`` (in ``crs``), if there is one."""
        for area, path in self.renders.get(layer.id(), []):
            inside = QgsCoordinateTransform(crs, area.crs, QgsProject.instance()).transformBoundingBox(extent)
            if area.extent.contains(inside) and path.exists():
                return path
        return None

    def local(
        self,
        layer: QgsRasterLayer,
        extent: QgsRectangle,
        crs: QgsCoordinateReferenceSystem,
        resolution: float,
        needed: QgsRectangle | None = None,
        feedback: QgsRasterBlockFeedback | None = None,
    ) -> str:
        """A path the engine can open holding ``layer`` over ``needed`` (default: all of ``extent``); a new
        render covers ``extent`` (in ``crs``) at ``resolution`` map units per pixel (web services)."""
        if is_local_file(layer):
            return layer.source()
        found = self.covering(layer, needed or extent, crs)
        if found is not None:
            return str(found)
        area = area_for(layer, extent, crs, resolution)
        path = render(layer, area, self.folder, feedback)
        self.renders.setdefault(layer.id(), []).append((area, path))
        return str(path)


__all__ = [
    "MAX_SIDE",
    "RasterSources",
    "RenderArea",
    "area_for",
    "check_size",
    "is_local_file",
    "is_web_service",
    "render",
]
