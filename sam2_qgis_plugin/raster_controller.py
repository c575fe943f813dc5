"""The orthophoto every task works on: the layer chosen in the panel, its bands, and the file the engine opens for
it (a web layer rendered at the panel's ground resolution, see remote.RasterSources)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from qgis.core import QgsApplication, QgsCoordinateTransform, QgsProject, QgsUnitTypes

from .bands import needs_choice, remember_bands, remembered_bands
from .i18n import tr
from .remote import RasterSources, area_for, check_size, is_local_file, is_web_service
from .session import SessionError
from .tasks import EngineTask


class RasterController:
    """``section`` is a getter of the panel's Orthophoto section (None: no panel)."""

    def __init__(self, iface: Any, section: Callable[[], Any]) -> None:
        self.iface, self.section = iface, section
        self.sources = RasterSources(Path(QgsApplication.qgisSettingsDirPath()) / "cache" / "sam2_renders")

    def start(self) -> None:
        """Connect a new panel's raster and band choices."""
        section = self.section()
        section.raster_combo.layerChanged.connect(self.show_bands)
        for combo in section.band_combos:
            combo.bandChanged.connect(self.keep_bands)
        self.show_bands(section.raster_combo.currentLayer())

    def raster_layer(self) -> Any:
        """The panel's raster, or the active layer."""
        section = self.section()
        chosen = section.raster_combo.currentLayer() if section is not None else None
        return chosen or self.iface.activeLayer()

    def show_bands(self, layer: Any) -> None:
        """The panel offers the raster's bands when it is not plain 8-bit RGB, as last chosen for that file, and
        the render's pixel size for a layer that is no local file."""
        section = self.section()
        if section is not None:
            section.show_bands(layer, remembered_bands(layer) if needs_choice(layer) else None)
            section.show_web_resolution(layer is not None and not is_local_file(layer))

    def keep_bands(self, *_: Any) -> None:
        section = self.section()
        layer = section.raster_combo.currentLayer() if section is not None else None
        if section is not None and needs_choice(layer):
            remember_bands(layer, section.band_choice())

    def local_source(
        self,
        layer: Any,
        extent: Any,
        crs: Any,
        resolution: float,
        needed: Any = None,
        feedback: Any = None,
    ) -> str:
        """The file the engine opens for ``layer`` (see remote.RasterSources.local): web layers are rendered at
        the panel's ground resolution, or at ``resolution`` (the map's) when none is set."""
        return self.sources.local(layer, extent, crs, self.render_resolution(crs, resolution), needed, feedback)

    def render_resolution(self, crs: Any, map_resolution: float) -> float:
        """Map units of ``crs`` per pixel of a web layer's render: the panel's choice, else the map's."""
        section = self.section()
        chosen = section.web_resolution_spin.value() if section is not None else 0.0
        if chosen <= 0:
            return map_resolution
        metres = QgsUnitTypes.fromUnitToUnitFactor(crs.mapUnits(), QgsUnitTypes.DistanceUnit.DistanceMeters) or 1.0
        return chosen / metres

    def raster_for_job(self, layer: Any, extent: Any = None) -> Callable[[EngineTask], str]:
        """For a job on ``layer`` over ``extent`` (map CRS; None: the whole layer): a function that gives the
        engine's file in the job's background task (rendering a layer that is no local file, with progress
        and cancel). SessionError now when that area cannot be rendered (too large, a web layer's world)."""
        if is_local_file(layer):
            return lambda task: layer.source()
        canvas = self.iface.mapCanvas()
        crs = canvas.mapSettings().destinationCrs()
        if extent is None:
            if is_web_service(layer):
                raise SessionError(
                    tr(
                        "{layer} is a web layer without edges: predict the visible map extent or inside an AOI "
                        "layer (SAM 2 panel > Where)"
                    ).format(layer=layer.name())
                )
            extent = QgsCoordinateTransform(layer.crs(), crs, QgsProject.instance()).transformBoundingBox(
                layer.extent()
            )
        resolution = self.render_resolution(crs, canvas.mapUnitsPerPixel())
        check_size(layer, area_for(layer, extent, crs, resolution))
        return lambda task: self.sources.local(layer, extent, crs, resolution, feedback=task.feedback)
