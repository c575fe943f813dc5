"""Web layers as the analyst sees them: XYZ tiles (made by gdal2tiles.py) and a cloud-optimised GeoTIFF, both
served over HTTP from 127.0.0.1, segmented with the real engine and compared with the same click on the local
file; areas too large to render are refused with a message; a cancelled render leaves nothing."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from osgeo import gdal, ogr
from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsPointXY,
    QgsProject,
    QgsRasterBlockFeedback,
    QgsRasterLayer,
    QgsRectangle,
)

from sam2_qgis_plugin.output import geometry_from_mapping
from sam2_qgis_plugin.remote import RasterSources, area_for, is_local_file, render
from sam2_qgis_plugin.session import SessionError

WEB_MERCATOR = QgsCoordinateReferenceSystem("EPSG:3857")
ORIGIN = 20037508.342789244  # the XYZ grid's half width (m)
ZOOM = 21
PIXEL = 2 * ORIGIN / 256 / 2**ZOOM  # metres per pixel of a zoom-21 tile (about 7.5 cm)


@pytest.fixture(scope="module")
def served(engine_files, tmp_path_factory, serve_folder):
    """The sample orthophoto warped onto the zoom-21 XYZ grid (so that tiles and file hold the same pixels), its
    tiles and a COG of it, served from 127.0.0.1."""
    folder = tmp_path_factory.mktemp("served")
    source = gdal.Open(engine_files["raster"])
    warped_centre = gdal.Warp("", source, format="MEM", dstSRS="EPSG:3857")
    x0, dx, _, y0, _, dy = warped_centre.GetGeoTransform()
    centre_x = x0 + dx * warped_centre.RasterXSize / 2
    centre_y = y0 + dy * warped_centre.RasterYSize / 2
    tile = 256 * PIXEL
    left = ORIGIN * -1 + round((centre_x + ORIGIN) / tile - 1) * tile
    top = ORIGIN - round((ORIGIN - centre_y) / tile - 1) * tile
    aligned = folder / "aligned.tif"
    gdal.Warp(
        str(aligned),
        source,
        dstSRS="EPSG:3857",
        outputBounds=(left, top - 2 * tile, left + 2 * tile, top),
        xRes=PIXEL,
        yRes=PIXEL,
        resampleAlg="bilinear",
    )
    tiles = [sys.executable, "/usr/bin/gdal2tiles.py", "--xyz", "-z", str(ZOOM), "-r", "near", "-q"]
    subprocess.run([*tiles, str(aligned), str(folder / "tiles")], check=True, capture_output=True, timeout=120)
    gdal.Translate(str(folder / "cog.tif"), str(aligned), format="COG")
    return {"folder": folder, "aligned": aligned, "url": serve_folder(folder)}


def xyz_layer(url: str) -> QgsRasterLayer:
    source = f"type=xyz&url={url}/tiles/%7Bz%7D/%7Bx%7D/%7By%7D.png&zmin={ZOOM}&zmax={ZOOM}"
    layer = QgsRasterLayer(source, "orthophoto tiles", "wms")
    assert layer.isValid()
    return layer


def click_polygon(session, layer, point, crs, sources, tmp_path) -> ogr.Geometry:
    """The polygon of one object click at ``point`` (in ``crs``) on ``layer``, the view being the local file."""
    session.local_source = lambda *args, **kwargs: sources.local(*args, **kwargs)
    session.clear()
    session.add_point(point, 1)
    result = session.predict(layer, crs)
    assert result is not None
    assert result["polygons"]
    parts = [ogr.CreateGeometryFromWkt(geometry_from_mapping(p).asWkt()) for p in result["polygons"]]
    union = parts[0]
    for part in parts[1:]:
        union = union.Union(part)
    target = ogr.osr.SpatialReference()
    target.ImportFromEPSG(3857)
    source_crs = ogr.osr.SpatialReference()
    source_crs.ImportFromWkt(result["crs"])
    for srs in (target, source_crs):
        srs.SetAxisMappingStrategy(ogr.osr.OAMS_TRADITIONAL_GIS_ORDER)
    union.Transform(ogr.osr.CoordinateTransformation(source_crs, target))
    return union


def iou(first: ogr.Geometry, second: ogr.Geometry) -> float:
    return first.Intersection(second).GetArea() / first.Union(second).GetArea()


def view_of(layer: QgsRasterLayer) -> tuple[QgsRectangle, float]:
    return QgsRectangle(layer.extent()), PIXEL


@pytest.mark.parametrize("fraction", [(0.5, 0.5), (0.3, 0.6)])
def test_a_click_on_xyz_tiles_matches_the_same_click_on_the_local_file(session, served, tmp_path, fraction) -> None:
    local = QgsRasterLayer(str(served["aligned"]), "local orthophoto")
    tiles = xyz_layer(served["url"])
    assert is_local_file(local)
    assert not is_local_file(tiles)
    extent = local.extent()
    point = QgsPointXY(
        extent.xMinimum() + fraction[0] * extent.width(), extent.yMaximum() - fraction[1] * extent.height()
    )
    sources = RasterSources(tmp_path / "renders")
    session.view = view_of(local)
    on_file = click_polygon(session, local, point, WEB_MERCATOR, sources, tmp_path)
    on_tiles = click_polygon(session, tiles, point, WEB_MERCATOR, sources, tmp_path)
    print(f"IoU file vs tiles {iou(on_file, on_tiles):.4f}, object {on_file.GetArea():.1f} m²")
    assert iou(on_file, on_tiles) >= 0.95
    renders = list((tmp_path / "renders").glob("*.tif"))
    assert len(renders) == 1  # the visible area was rendered once, for the first click there
    rendered = gdal.Open(str(renders[0]))
    assert rendered.RasterCount == 4  # RGBA, as the analyst sees it
    assert rendered.GetGeoTransform()[1] == pytest.approx(PIXEL)


def test_a_cloud_optimised_geotiff_over_http_is_read_with_its_own_pixels(session, served, tmp_path) -> None:
    local = QgsRasterLayer(str(served["aligned"]), "local orthophoto")
    cog = QgsRasterLayer(f"/vsicurl/{served['url']}/cog.tif", "orthophoto over HTTP", "gdal")
    assert cog.isValid()
    assert not is_local_file(cog)
    extent = local.extent()
    point = QgsPointXY(extent.center().x(), extent.center().y())
    sources = RasterSources(tmp_path / "renders")
    session.view = (QgsRectangle(extent).buffered(50), 0.5)  # the map at another scale: the COG keeps its pixels
    on_file = click_polygon(session, local, point, WEB_MERCATOR, sources, tmp_path)
    on_cog = click_polygon(session, cog, point, WEB_MERCATOR, sources, tmp_path)
    print(f"IoU file vs COG {iou(on_file, on_cog):.4f}, object {on_file.GetArea():.1f} m²")
    assert iou(on_file, on_cog) >= 0.95
    (rendered,) = (tmp_path / "renders").glob("*.tif")
    copy, original = gdal.Open(str(rendered)), gdal.Open(str(served["aligned"]))
    assert copy.RasterCount == original.RasterCount
    assert np.array_equal(copy.ReadAsArray(), original.ReadAsArray())  # the same pixels, not a picture of them


def test_an_area_too_large_to_render_says_how_to_fix_it(session, served, tmp_path) -> None:
    tiles = xyz_layer(served["url"])
    sources = RasterSources(tmp_path / "renders")
    centre = tiles.extent().center() if not tiles.extent().isEmpty() else QgsPointXY(0, 0)
    huge = QgsRectangle(centre.x() - 5000, centre.y() - 5000, centre.x() + 5000, centre.y() + 5000)  # 10 km
    with pytest.raises(SessionError, match=r"more than 8192 px a side: zoom in, or choose a coarser ground resolution"):
        sources.local(tiles, huge, WEB_MERCATOR, PIXEL)
    assert not (tmp_path / "renders").exists() or not list((tmp_path / "renders").iterdir())


def test_a_cancelled_render_leaves_nothing(served, tmp_path) -> None:
    tiles = xyz_layer(served["url"])
    local = QgsRasterLayer(str(served["aligned"]), "local orthophoto")
    feedback = QgsRasterBlockFeedback()
    feedback.cancel()
    with pytest.raises(InterruptedError, match="was cancelled"):
        render(tiles, area_for(tiles, local.extent(), WEB_MERCATOR, PIXEL), tmp_path, feedback)
    assert list(tmp_path.iterdir()) == []


def test_a_raster_with_no_pixels_in_the_area_is_refused(served, tmp_path) -> None:
    cog = QgsRasterLayer(f"/vsicurl/{served['url']}/cog.tif", "orthophoto over HTTP", "gdal")
    far = QgsRectangle(0, 0, 100, 100)  # off the coast of Africa
    with pytest.raises(SessionError, match="has no pixels in that area"):
        RasterSources(tmp_path).local(cog, far, WEB_MERCATOR, 1.0)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def plugin_on_tiles(qgis_iface, qgis_app, served, engine_files):
    """The plugin with the XYZ layer chosen, the map in Web Mercator over the served area."""
    from qgis.PyQt.QtCore import QEvent

    import sam2_qgis_plugin

    tiles = xyz_layer(served["url"])
    QgsProject.instance().addMapLayer(tiles)
    plugin = sam2_qgis_plugin.classFactory(qgis_iface)
    plugin.initGui()
    plugin.dock.engine.python_widget.setFilePath(sys.executable)
    plugin.dock.raster.raster_combo.setLayer(tiles)
    plugin.ensure_session().checkpoint = engine_files["checkpoint"]
    canvas = qgis_iface.mapCanvas()
    canvas.setDestinationCrs(WEB_MERCATOR)
    canvas.setExtent(QgsRasterLayer(str(served["aligned"]), "local").extent())
    yield plugin, tiles
    plugin.unload()
    qgis_app.sendPostedEvents(None, QEvent.DeferredDelete)
    QgsProject.instance().removeAllMapLayers()


def test_predicting_a_web_layer_needs_an_area_and_a_sensible_size(plugin_on_tiles, qgis_iface) -> None:
    from qgis.core import Qgis

    plugin, tiles = plugin_on_tiles
    bar = qgis_iface.messageBar()
    bar.clear_messages()
    plugin.dock.predict.extent_combo.setCurrentText("whole raster")
    assert plugin.prediction.predict_raster() is None
    assert any("web layer without edges" in m for m in bar.get_messages(Qgis.Warning))
    plugin.dock.raster.web_resolution_spin.setValue(0.01)  # 1 cm pixels over a 10 km extent
    centre = tiles.extent().center() if not tiles.extent().isEmpty() else QgsPointXY(0, 0)
    huge = QgsRectangle(centre.x() - 5000, centre.y() - 5000, centre.x() + 5000, centre.y() + 5000)
    with pytest.raises(SessionError, match="zoom in, or choose a coarser ground resolution"):
        plugin.raster_for_job(tiles, huge)


def test_the_visible_extent_of_a_web_layer_is_predicted(plugin_on_tiles, engine_files, tmp_path, qtbot) -> None:
    plugin, _ = plugin_on_tiles
    plugin.dock.predict.extent_combo.setCurrentText("visible map extent")
    plugin.dock.raster.web_resolution_spin.setValue(0.15)
    before = set(QgsProject.instance().mapLayers())
    assert plugin.prediction.predict_raster(tmp_path / "predictions") is not None
    qtbot.waitUntil(lambda: len(set(QgsProject.instance().mapLayers()) - before) == 2, timeout=300_000)
    (mask,) = (tmp_path / "predictions").glob("*_mask.tif")
    assert mask.name.startswith("orthophoto_tiles_")  # named after the layer, not a cache file
    opened = gdal.Open(str(mask))
    assert opened.GetGeoTransform()[1] == pytest.approx(0.15)  # the chosen ground resolution
    assert "3857" in opened.GetProjection() or "Pseudo-Mercator" in opened.GetProjection()


def test_processing_predicts_a_web_layer_over_an_extent_at_a_ground_pixel(processing, served, engine_files, tmp_path):
    """Processing (and qgis_process) take web layers too: rendered over EXTENT at PIXEL_SIZE, then predicted."""
    tiles = xyz_layer(served["url"])
    aligned = gdal.Open(str(served["aligned"]))
    x0, dx, _, y0, _, dy = aligned.GetGeoTransform()
    extent = f"{x0},{x0 + dx * aligned.RasterXSize},{y0 + dy * aligned.RasterYSize},{y0} [EPSG:3857]"
    result = processing.run(
        "sam2:predictraster",
        {"RASTER": tiles, "CHECKPOINT": engine_files["checkpoint"], "THRESHOLD": 0.3, "EXTRA": "--device cpu",
         "EXTENT": extent, "PIXEL_SIZE": PIXEL, "OUTPUT": str(tmp_path / "mask.tif"),
         "POLYGONS": str(tmp_path / "objects.gpkg")},
    )  # fmt: skip
    mask = gdal.Open(result["OUTPUT"])
    assert (mask.RasterXSize, mask.RasterYSize) == (aligned.RasterXSize, aligned.RasterYSize)  # the render's grid
    assert mask.GetGeoTransform() == pytest.approx(aligned.GetGeoTransform())
    assert set(np.unique(mask.ReadAsArray())) <= {0, 1, 255}
    polygons = ogr.Open(result["POLYGONS"])
    layer = polygons.GetLayer(0)
    sources = {feature.GetField("source") for feature in layer}
    assert sources <= {"orthophoto tiles"}  # named after the web layer, not the render's file


@pytest.mark.parametrize(
    ("given", "says"),
    [({"PIXEL_SIZE": PIXEL}, "without edges"), ({"EXTENT": "0,100,0,100 [EPSG:3857]"}, "ground pixel")],
)
def test_processing_on_a_web_layer_says_what_is_missing(processing, served, engine_files, tmp_path, given, says):
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match=says):
        processing.run(
            "sam2:predictraster",
            {"RASTER": xyz_layer(served["url"]), "CHECKPOINT": engine_files["checkpoint"],
             "OUTPUT": str(tmp_path / "mask.tif"), **given},
        )  # fmt: skip
    assert not (tmp_path / "mask.tif").exists()
