"""Follow across years from the panel (Predict tab): the ticked flights go to the engine's track job in the
background; the objects of every year and what changed come back on the map's timeline."""

from __future__ import annotations

import sys

from qgis.core import Qgis, QgsProject, QgsRasterLayer, QgsVectorLayer


def year_layers(flights):  # type: ignore[no-untyped-def]
    """Each flight's objects as the analyst has them: polygon layers named by their year, in any order."""
    return [
        QgsVectorLayer(f"{flights / f'year_{year}_labels.gpkg'}|layername=labels", f"roofs {year}", "ogr")
        for year in (2022, 2025, 2019)
    ]


def test_follow_across_years_adds_the_years_on_the_timeline(qgis_iface, flights, tmp_path, qtbot) -> None:
    import sam2_qgis_plugin

    layers = year_layers(flights)
    ortho = QgsRasterLayer(str(flights / "year_2019_image.tif"), "ortho 2019")
    QgsProject.instance().addMapLayers([*layers, ortho])
    plugin = sam2_qgis_plugin.classFactory(qgis_iface)
    plugin.initGui()
    try:
        dock = plugin.dock
        dock.engine.python_widget.setFilePath(sys.executable)
        listed = {dock.years.years_list.item(row).text() for row in range(dock.years.years_list.count())}
        assert listed == {"roofs 2019", "roofs 2022", "roofs 2025", "ortho 2019"}  # orthophotos and polygons
        dock.years.set_years(layers)
        dock.years.method_combo.setCurrentIndex(dock.years.method_combo.findData("match"))
        bar = qgis_iface.messageBar()
        bar.clear_messages()
        before = set(QgsProject.instance().mapLayers())
        task = plugin.following.follow(tmp_path / "tracks")
        assert task is not None
        qtbot.waitUntil(lambda: len(set(QgsProject.instance().mapLayers()) - before) == 2, timeout=120_000)
        added = {
            layer.name(): layer for layer in QgsProject.instance().mapLayers().values() if layer.id() not in before
        }
        objects = added["Objects through the years"]
        assert objects.temporalProperties().isActive()
        assert objects.renderer().type() == "categorizedSymbol"  # drawn by status
        assert {f["year"] for f in objects.getFeatures()} == {2019, 2022, 2025}
        assert {f["status"] for f in added["What changed"].getFeatures()} <= {"new", "changed", "gone"}
        span = QgsProject.instance().timeSettings().temporalRange()
        ends = (span.begin().date().toString("yyyy-MM-dd"), span.end().date().toString("yyyy-MM-dd"))
        assert ends == ("2019-06-30", "2028-06-30")  # from the first flight's eve, over one more interval
        assert any("followed 3 years" in m for m in bar.get_messages(Qgis.Success))
        assert sorted(p.suffix for p in (tmp_path / "tracks").iterdir()) == ["", ".gpkg"]  # inputs folder, tracks
    finally:
        plugin.unload()
        QgsProject.instance().removeAllMapLayers()


def test_following_says_what_is_missing_and_writes_nothing(qgis_iface, flights, tmp_path) -> None:
    import sam2_qgis_plugin

    layers = year_layers(flights)
    ortho = [QgsRasterLayer(str(flights / f"year_{y}_image.tif"), f"ortho {y}") for y in (2019, 2022)]
    QgsProject.instance().addMapLayers([*layers, *ortho])
    plugin = sam2_qgis_plugin.classFactory(qgis_iface)
    plugin.initGui()
    try:
        bar = qgis_iface.messageBar()
        for ticked, said in ((layers[:1], "tick two or more years"), (ortho, "predicted with a model")):
            bar.clear_messages()
            plugin.dock.years.set_years(ticked)
            assert plugin.following.follow(tmp_path / "tracks") is None
            assert any(said in m for m in bar.get_messages(Qgis.Warning))
        assert not (tmp_path / "tracks").exists()
    finally:
        plugin.unload()
        QgsProject.instance().removeAllMapLayers()
