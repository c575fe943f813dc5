"""Rasters that are not plain 8-bit RGB: the panel offers their bands as R, G, B, remembers the choice per file
across sessions, and every engine job gets it."""

from __future__ import annotations

import numpy as np
import pytest
from osgeo import gdal, osr
from qgis.core import QgsProject, QgsRasterLayer, QgsSettings
from qgis.PyQt.QtCore import QEvent

import sam2_qgis_plugin
from sam2_qgis_plugin.bands import engine_bands
from sam2_qgis_plugin.settings import BANDS


def raster(path, count: int, kind=gdal.GDT_Byte) -> QgsRasterLayer:
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), 16, 16, count, kind)
    dataset.SetGeoTransform((500000.0, 0.5, 0.0, 4000000.0, 0.0, -0.5))
    crs = osr.SpatialReference()
    crs.ImportFromEPSG(32633)
    dataset.SetProjection(crs.ExportToWkt())
    for band in range(1, count + 1):
        dataset.GetRasterBand(band).WriteArray(np.full((16, 16), band, dtype=np.uint8))
    del dataset
    layer = QgsRasterLayer(str(path), path.stem)
    assert layer.isValid()
    QgsProject.instance().addMapLayer(layer)
    return layer


@pytest.fixture
def start(qgis_iface, qgis_app):
    QgsSettings().remove(BANDS.prefix)
    started = []

    def plugin():
        loaded = sam2_qgis_plugin.classFactory(qgis_iface)
        loaded.initGui()
        started.append(loaded)
        return loaded

    yield plugin
    for loaded in started:
        loaded.unload()
    qgis_app.sendPostedEvents(None, QEvent.DeferredDelete)
    QgsProject.instance().removeAllMapLayers()
    QgsSettings().remove(BANDS.prefix)


def test_four_bands_are_offered_chosen_and_remembered_per_file(start, tmp_path) -> None:
    rgbi = raster(tmp_path / "rgbi.tif", 4)
    first = start()
    first.dock.raster.raster_combo.setLayer(rgbi)
    assert not first.dock.raster.bands_row.isHidden()
    assert first.dock.raster.band_choice() == (1, 2, 3)
    for combo, band in zip(first.dock.raster.band_combos, (4, 1, 2), strict=True):
        combo.setBand(band)
    assert engine_bands(rgbi) == [4, 1, 2]  # what predict, train and each click send
    assert first.ensure_session().bands_of(rgbi) == [4, 1, 2]
    first.unload()
    second = start()  # as after restarting QGIS
    second.dock.raster.raster_combo.setLayer(None)
    second.dock.raster.raster_combo.setLayer(rgbi)
    assert second.dock.raster.band_choice() == (4, 1, 2)


def test_plain_rgb_needs_no_choice_and_sixteen_bits_do(start, tmp_path) -> None:
    rgb = raster(tmp_path / "rgb.tif", 3)
    deep = raster(tmp_path / "deep.tif", 3, gdal.GDT_UInt16)
    plugin = start()
    plugin.dock.raster.raster_combo.setLayer(rgb)
    assert plugin.dock.raster.bands_row.isHidden()
    assert engine_bands(rgb) is None
    plugin.dock.raster.raster_combo.setLayer(deep)
    assert not plugin.dock.raster.bands_row.isHidden()
    assert engine_bands(deep) == [1, 2, 3]


def test_a_remembered_band_the_file_no_longer_has_falls_back(start, tmp_path) -> None:
    from sam2_qgis_plugin.bands import remember_bands, remembered_bands

    rgbi = raster(tmp_path / "ortho.tif", 4)
    remember_bands(rgbi, (4, 1, 2))
    assert remembered_bands(rgbi) == (4, 1, 2)
    QgsProject.instance().removeMapLayer(rgbi.id())
    grey = raster(tmp_path / "ortho.tif", 1)  # the file was replaced by a one-band one
    assert remembered_bands(grey) == (1, 1, 1)
