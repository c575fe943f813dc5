"""Follow across years from the panel (Predict tab): the ticked flights go to the engine's track job in the
background; the objects of every year and what changed come back on the map's timeline."""

from __future__ import annotations

import sys

from qgis.core import Qgis, QgsProject, QgsRasterLayer, QgsTemporalNavigationObject, QgsVectorLayer


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
        # what the desktop's Temporal Controller drives the map with; the canvas owns it (a Python-owned one would
        # be freed after the test while the canvas still points to it: a crash at the next event loop)
        navigation = QgsTemporalNavigationObject(qgis_iface.mapCanvas())
        qgis_iface.mapCanvas().setTemporalController(navigation)
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
        assert navigation.navigationMode() == QgsTemporalNavigationObject.NavigationMode.Animated
        assert navigation.temporalExtents() == span
        assert navigation.frameDuration().years() == 3  # a flight per frame
        assert navigation.currentFrameNumber() == 0
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


def test_the_flights_timeline_holds_one_flight_per_frame(qgis_app) -> None:
    """What the map draws in each Temporal Controller frame of the flights' timeline: one flight's features.
    The layer is a track's (a feature per flight, from its date to the eve of the next), time-aware as the plugin
    makes it; the map asks it for a frame through its filter (QGIS 3.22 takes a frame's end as part of it)."""
    import datetime

    from qgis.core import QgsFeature, QgsGeometry, QgsVectorLayerTemporalContext
    from qgis.PyQt.QtCore import QDate

    from sam2_qgis_plugin.temporal import make_time_aware
    from sam2_qgis_plugin.years_controller import flight_frames

    def drawn(dates: list[str]) -> list[list[str]]:
        layer = QgsVectorLayer(
            "Polygon?crs=EPSG:32633&field=status:string&field=date:date&field=until:date", "t", "memory"
        )
        for index, day in enumerate(dates):
            feature = QgsFeature(layer.fields())
            feature.setGeometry(QgsGeometry.fromWkt("POLYGON((0 0, 1 0, 1 1, 0 0))"))
            after = (
                datetime.date.fromisoformat(dates[index + 1]) - datetime.timedelta(days=1)
                if index + 1 < len(dates)
                else None
            )
            feature.setAttributes(
                [day, QDate.fromString(day, "yyyy-MM-dd"), QDate(after.year, after.month, after.day) if after else None]
            )
            layer.dataProvider().addFeature(feature)
        make_time_aware(layer)
        span, step = flight_frames(dates)
        navigation = QgsTemporalNavigationObject()
        navigation.setTemporalExtents(span)
        navigation.setFrameDuration(step)
        context = QgsVectorLayerTemporalContext()
        context.setLayer(layer)
        held = []
        for number in range(navigation.totalFrameCount()):
            frame = navigation.dateTimeRangeForFrameNumber(number)
            expression = layer.temporalProperties().createFilterString(context, frame)
            held.append(sorted(f["status"] for f in layer.getFeatures(expression)))
        return held

    even = ["2019-07-01", "2022-07-01", "2025-07-01"]
    assert flight_frames(even)[1].years() == 3
    assert drawn(even)[:3] == [[d] for d in even]
    uneven = ["2018-05-14", "2021-06-02", "2024-05-20"]  # flights of no fixed calendar day: days, the mean interval
    assert flight_frames(uneven)[1].days() == 1099  # (2024-05-20 - 2018-05-14) / 2
    frames = drawn(uneven)
    assert all(flight in frame for flight, frame in zip(uneven, frames, strict=False))  # each in its own frame
    assert frames[1] == ["2018-05-14", "2021-06-02"]  # a frame that starts before its flight: the state before too
