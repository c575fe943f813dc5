"""The panel's polygon shapes in ground units become the engine's options for the raster at hand."""

from __future__ import annotations

import numpy as np
import pytest
from osgeo import gdal, osr
from qgis.core import QgsRasterLayer

from sam2_qgis_plugin.shapes import ShapeChoices, polygon_options


def raster(path, epsg: int, pixel: float) -> QgsRasterLayer:
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), 8, 8, 3, gdal.GDT_Byte)
    dataset.SetGeoTransform((10.0, pixel, 0.0, 50.0, 0.0, -pixel))
    crs = osr.SpatialReference()
    crs.ImportFromEPSG(epsg)
    dataset.SetProjection(crs.ExportToWkt())
    dataset.GetRasterBand(1).WriteArray(np.zeros((8, 8), dtype=np.uint8))
    del dataset
    layer = QgsRasterLayer(str(path), "ortho")
    assert layer.isValid()
    return layer


def test_metres_become_pixels_and_map_units(tmp_path) -> None:
    layer = raster(tmp_path / "utm.tif", 32633, 0.5)  # 50 cm pixels
    options = polygon_options(layer, ShapeChoices(simplify_m=1.0, fill_holes=True, min_area_m2=4.0, right_angles=15))
    assert options == {"simplify": 2.0, "fill_holes": True, "min_area": 4.0, "right_angles": 15}


def test_one_pixel_simplify_stays_the_engines_default(tmp_path) -> None:
    options = polygon_options(raster(tmp_path / "utm.tif", 32633, 0.2), ShapeChoices())
    assert "simplify" not in options
    assert options["right_angles"] == 0


def test_a_geographic_raster_gets_its_areas_in_square_degrees(tmp_path) -> None:
    layer = raster(tmp_path / "wgs84.tif", 4326, 0.00001)
    options = polygon_options(layer, ShapeChoices(simplify_m=1.11, min_area_m2=100.0))
    assert options["simplify"] == pytest.approx(1.0, rel=0.01)  # about 1.11 m per 0.00001 degree
    assert options["min_area"] == pytest.approx(100.0 / 111_319.5**2, rel=0.01)
