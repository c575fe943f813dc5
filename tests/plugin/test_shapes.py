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


def test_the_simplify_tolerance_becomes_pixels_and_the_filters_stay_in_metres(tmp_path) -> None:
    layer = raster(tmp_path / "utm.tif", 32633, 0.5)  # 50 cm pixels
    options = polygon_options(layer, ShapeChoices(simplify_m=1.0, fill_holes=True, min_area_m2=4.0, right_angles=15))
    assert options == {"simplify": 2.0, "fill_holes": True, "min_area": 4.0, "right_angles": 15}
    chosen = ShapeChoices(max_area_m2=400, min_diameter_m=3, max_diameter_m=30, min_compactness=0.4, largest_part=True)
    options = polygon_options(layer, chosen)
    assert {k: options[k] for k in ("max_area", "min_diameter", "max_diameter", "min_compactness")} == {
        "max_area": 400,
        "min_diameter": 3,
        "max_diameter": 30,
        "min_compactness": 0.4,
    }
    assert options["largest_part"] is True
    assert "min_area" not in options  # a filter left off is not sent


def test_one_pixel_simplify_stays_the_engines_default(tmp_path) -> None:
    options = polygon_options(raster(tmp_path / "utm.tif", 32633, 0.2), ShapeChoices())
    assert "simplify" not in options
    assert options["right_angles"] == 0


def test_a_geographic_raster_keeps_its_filters_in_metres_for_the_engine_to_measure(tmp_path) -> None:
    """Degrees are not metres, and a degree of longitude shrinks towards the poles: the engine measures each
    object on the ellipsoid (core.geometry.ground), so the panel's m² go as they are."""
    layer = raster(tmp_path / "wgs84.tif", 4326, 0.00001)
    options = polygon_options(layer, ShapeChoices(simplify_m=1.11, min_area_m2=100.0, max_diameter_m=12.0))
    assert options["simplify"] == pytest.approx(1.0, rel=0.01)  # about 1.11 m per 0.00001 degree
    assert options["min_area"] == 100.0
    assert options["max_diameter"] == 12.0
