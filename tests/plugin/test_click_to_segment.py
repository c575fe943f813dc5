"""The click-to-segment map tool on pytest-qgis's canvas with the real engine worker and a tiny model."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsProject,
    QgsRasterLayer,
)
from qgis.gui import QgsMapMouseEvent
from qgis.PyQt.QtCore import QEvent, QPoint, Qt
from qgis.PyQt.QtGui import QKeyEvent

from sam2_qgis_plugin.maptool import SegmentMapTool
from sam2_qgis_plugin.output import OutputError, SegmentAttributes, append_segments, create_geopackage
from sam2_qgis_plugin.session import SessionError, check_raster


@pytest.fixture
def ortho(engine_files):
    layer = QgsRasterLayer(engine_files["raster"], "orthophoto")
    assert layer.isValid()
    QgsProject.instance().addMapLayer(layer)
    yield layer
    QgsProject.instance().removeMapLayer(layer.id())


def show(canvas, layer, crs: str | None = None) -> None:
    target = QgsCoordinateReferenceSystem(crs) if crs else layer.crs()
    canvas.setDestinationCrs(target)
    extent = QgsCoordinateTransform(layer.crs(), target, QgsProject.instance()).transformBoundingBox(layer.extent())
    canvas.setLayers([layer])
    canvas.setExtent(extent)
    canvas.refresh()


def click(tool, canvas, layer, fraction_x: float, fraction_y: float, button=Qt.LeftButton) -> None:
    """Press and release at a point given as a fraction of the raster's extent (0, 0 = top left)."""
    extent = layer.extent()
    x = extent.xMinimum() + fraction_x * extent.width()
    y = extent.yMaximum() - fraction_y * extent.height()
    point = QgsCoordinateTransform(layer.crs(), canvas.mapSettings().destinationCrs(), QgsProject.instance()).transform(
        x, y
    )
    pixel = canvas.getCoordinateTransform().transform(point)
    position = QPoint(round(pixel.x()), round(pixel.y()))
    tool.canvasPressEvent(QgsMapMouseEvent(canvas, QEvent.MouseButtonPress, position, button))
    tool.canvasReleaseEvent(QgsMapMouseEvent(canvas, QEvent.MouseButtonRelease, position, button))


def key(tool, code, modifiers=Qt.NoModifier) -> None:
    tool.keyPressEvent(QKeyEvent(QEvent.KeyPress, code, modifiers))


@pytest.mark.parametrize("canvas_crs", [None, "EPSG:4326"])
def test_click_previews_and_enter_appends_to_a_geopackage(qgis_canvas, session, ortho, tmp_path, canvas_crs) -> None:
    show(qgis_canvas, ortho, canvas_crs)
    output = create_geopackage(tmp_path / "segments.gpkg", ortho.crs())
    messages: list[str] = []

    def accept(result: dict) -> None:
        crs = QgsCoordinateReferenceSystem.fromWkt(result["crs"])
        attributes = SegmentAttributes("tree", result["score"], "sam2.1_hiera_t", "orthophoto", result["prompt"])
        append_segments(output, result["polygons"], crs, attributes)

    tool = SegmentMapTool(qgis_canvas, session, lambda: ortho, accept, lambda m, expected: messages.append(m))
    click(tool, qgis_canvas, ortho, 0.5, 0.4)
    assert messages == []
    preview = tool.preview.asGeometry()
    assert not preview.isEmpty()
    assert qgis_canvas.mapSettings().destinationCrs() == (
        QgsCoordinateReferenceSystem(canvas_crs) if canvas_crs else ortho.crs()
    )
    key(tool, Qt.Key_Return)
    assert output.featureCount() >= 1
    assert output.crs().authid() == "EPSG:32617"
    feature = next(output.getFeatures())
    assert feature["class"] == "tree"
    assert feature["model"] == "sam2.1_hiera_t"
    assert feature["prompt"] == "fg=1;bg=0;box=0"
    # The stored polygon lies on the orthophoto, whatever the canvas CRS was.
    assert ortho.extent().buffered(0.5).contains(feature.geometry().boundingBox())
    assert tool.preview.asGeometry().isEmpty()  # accepted: the prompts are cleared


def test_ctrl_z_takes_back_prompts_first_then_accepted_segments(qgis_canvas, session, ortho, tmp_path) -> None:
    from qgis.core import QgsVectorLayer

    show(qgis_canvas, ortho)
    output = create_geopackage(tmp_path / "segments.gpkg", ortho.crs())

    def accept(result: dict) -> None:
        crs = QgsCoordinateReferenceSystem.fromWkt(result["crs"])
        append_segments(
            output, result["polygons"], crs, SegmentAttributes("tree", result["score"], "m", "o", result["prompt"])
        )

    tool = SegmentMapTool(qgis_canvas, session, lambda: ortho, accept, lambda m, e: None, output_layer=lambda: output)
    qgis_canvas.setMapTool(tool)
    try:
        # The tool claims Ctrl+Z on the canvas, so QGIS's Edit > Undo (the active layer's) does not take it.
        override = QKeyEvent(QEvent.ShortcutOverride, Qt.Key_Z, Qt.ControlModifier)
        override.ignore()
        QgsApplication.sendEvent(qgis_canvas, override)
        assert override.isAccepted()
        for x in (0.5, 0.3):
            click(tool, qgis_canvas, ortho, x, 0.4)
            key(tool, Qt.Key_Return)
        assert output.isEditable()
        assert output.featureCount() == 2
        click(tool, qgis_canvas, ortho, 0.7, 0.7)
        key(tool, Qt.Key_Z, Qt.ControlModifier)  # a prompt is pending: it is what goes
        assert session.prompt.points == []
        assert output.featureCount() == 2
        key(tool, Qt.Key_Z, Qt.ControlModifier)  # no prompt: the last accepted segment goes
        assert output.featureCount() == 1
        key(tool, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)  # redo
        assert output.featureCount() == 2
        key(tool, Qt.Key_Z, Qt.ControlModifier)
        assert output.commitChanges()
    finally:
        qgis_canvas.unsetMapTool(tool)
    saved = QgsVectorLayer(f"{tmp_path / 'segments.gpkg'}|layername=sam2_segments", "check", "ogr")
    assert saved.featureCount() == 1  # one click, one feature
    assert next(saved.getFeatures())["prompt"] == "fg=1;bg=0;box=0"


def test_the_panels_shape_options_shape_the_preview(qgis_canvas, session, ortho) -> None:
    show(qgis_canvas, ortho)
    tool = SegmentMapTool(qgis_canvas, session, lambda: ortho, lambda r: None, lambda m, e: None)
    click(tool, qgis_canvas, ortho, 0.5, 0.4)
    assert session.result["polygons"]
    session.polygon_options = lambda layer: {"min_area": 1e9}  # what the panel's "Smallest part" sends
    try:
        tool.refresh()
        assert session.result["polygons"] == []
        assert tool.preview.asGeometry().isEmpty()
    finally:
        session.polygon_options = lambda layer: {}
        key(tool, Qt.Key_Escape)


def test_the_chosen_bands_open_the_raster_anew_and_segment(qgis_canvas, session, ortho) -> None:
    show(qgis_canvas, ortho)
    default_id = session.raster_id(ortho)
    session.bands_of = lambda layer: [3, 2, 1]
    try:
        assert session.raster_id(ortho) != default_id  # the engine reads other bands: another raster
        tool = SegmentMapTool(qgis_canvas, session, lambda: ortho, lambda r: None, lambda m, e: None)
        click(tool, qgis_canvas, ortho, 0.5, 0.4)
        assert session.result["polygons"]
    finally:
        session.bands_of = lambda layer: None
        session.clear()


def test_the_preview_says_its_area_and_score(qgis_canvas, session, ortho) -> None:
    import re

    from qgis.core import QgsGeometry

    from sam2_qgis_plugin.maptool import preview_summary

    show(qgis_canvas, ortho)
    lines: list[str] = []
    tool = SegmentMapTool(qgis_canvas, session, lambda: ortho, lambda r: None, lambda m, e: None, status=lines.append)
    click(tool, qgis_canvas, ortho, 0.5, 0.4)
    assert re.fullmatch(r"Preview: [\d.]+ (m²|ha)( in \d+ parts)?, score \d\.\d\d", lines[-1]), lines
    key(tool, Qt.Key_Escape)
    assert lines[-1] == ""
    square = QgsGeometry.fromWkt(
        "POLYGON((404220 3285100, 404230 3285100, 404230 3285110, 404220 3285110, 404220 3285100))"
    )
    summary = preview_summary([square, square], QgsCoordinateReferenceSystem("EPSG:32617"), 0.874)
    area = float(summary.split()[1])
    assert 199 < area < 201  # two 10 m squares, measured on the ellipsoid
    assert summary.endswith("m² in 2 parts, score 0.87")


def test_undo_and_clear(qgis_canvas, session, ortho) -> None:
    show(qgis_canvas, ortho)
    tool = SegmentMapTool(qgis_canvas, session, lambda: ortho, lambda r: None, lambda m, e: None)
    click(tool, qgis_canvas, ortho, 0.5, 0.4)
    click(tool, qgis_canvas, ortho, 0.6, 0.45, Qt.RightButton)
    assert session.prompt.labels == [1, 0]
    key(tool, Qt.Key_Z, Qt.ControlModifier)
    assert session.prompt.labels == [1]
    assert not tool.preview.asGeometry().isEmpty()
    key(tool, Qt.Key_Escape)
    assert session.prompt.labels == []
    assert tool.preview.asGeometry().isEmpty()


def test_object_and_background_clicks_and_a_dragged_box_are_drawn_apart(qgis_canvas, session, ortho) -> None:
    show(qgis_canvas, ortho)
    tool = SegmentMapTool(qgis_canvas, session, lambda: ortho, lambda r: None, lambda m, e: None)
    click(tool, qgis_canvas, ortho, 0.5, 0.4)
    click(tool, qgis_canvas, ortho, 0.6, 0.45, Qt.RightButton)
    assert tool.object_markers.numberOfVertices() == 1
    assert tool.background_markers.numberOfVertices() == 1
    assert tool.object_markers.strokeColor() != tool.background_markers.strokeColor()
    assert tool.object_markers.icon() != tool.background_markers.icon()
    key(tool, Qt.Key_Escape)
    start, end = QPoint(100, 100), QPoint(160, 150)
    tool.canvasPressEvent(QgsMapMouseEvent(qgis_canvas, QEvent.MouseButtonPress, start, Qt.LeftButton))
    tool.canvasMoveEvent(QgsMapMouseEvent(qgis_canvas, QEvent.MouseMove, end, Qt.NoButton, Qt.LeftButton))
    assert not tool.box_band.asGeometry().isEmpty()  # the box shows while it is dragged
    tool.canvasReleaseEvent(QgsMapMouseEvent(qgis_canvas, QEvent.MouseButtonRelease, end, Qt.LeftButton))
    assert session.prompt.box is not None
    assert tool.box_band.asGeometry().boundingBox() == session.prompt.box  # and stays as the prompt's box
    key(tool, Qt.Key_Escape)
    assert tool.box_band.asGeometry().isEmpty()
    assert tool.object_markers.numberOfVertices() == tool.background_markers.numberOfVertices() == 0


def test_a_killed_worker_is_reported_and_restarted(qgis_canvas, session, ortho) -> None:
    show(qgis_canvas, ortho)
    messages: list[str] = []
    tool = SegmentMapTool(qgis_canvas, session, lambda: ortho, lambda r: None, lambda m, e: messages.append(m))
    click(tool, qgis_canvas, ortho, 0.5, 0.4)
    starts = session.client.starts
    session.client.process.kill()
    session.client.process.wait()
    key(tool, Qt.Key_Escape)
    click(tool, qgis_canvas, ortho, 0.3, 0.3)
    assert session.client.starts == starts + 1
    assert any("restarted" in m for m in messages)
    assert not tool.preview.asGeometry().isEmpty()


def test_a_worker_that_dies_under_a_click_is_restarted_and_the_click_answered(qgis_canvas, session, ortho) -> None:
    show(qgis_canvas, ortho)
    messages: list[tuple[str, bool]] = []
    tool = SegmentMapTool(qgis_canvas, session, lambda: ortho, lambda r: None, lambda m, e: messages.append((m, e)))
    click(tool, qgis_canvas, ortho, 0.5, 0.4)
    key(tool, Qt.Key_Escape)
    kills = []

    def die_once(layer):  # called between the engine's checks and the request: the worker dies in between
        if not kills:
            kills.append(session.client.process)
            session.client.process.kill()
            session.client.process.wait()
        return {}

    session.polygon_options = die_once
    try:
        click(tool, qgis_canvas, ortho, 0.5, 0.4)
    finally:
        session.polygon_options = lambda layer: {}
    assert kills
    assert not tool.preview.asGeometry().isEmpty()  # the click was answered by the new worker, not failed
    notices = [m for m, expected in messages if "restarted" in m]
    assert len(notices) == 1
    assert "signal 9" in notices[0]  # and why the engine had stopped
    assert session.take_restart_notice() is None  # told once


def test_layers_the_engine_cannot_use_are_refused(tmp_path) -> None:
    from qgis.core import QgsVectorLayer

    with pytest.raises(SessionError, match="select a raster layer"):
        check_raster(None)
    broken = QgsRasterLayer(str(tmp_path / "gone.tif"), "gone")
    with pytest.raises(SessionError, match="gone cannot be read"):
        check_raster(broken)
    points = QgsVectorLayer("Point?crs=EPSG:4326", "points", "memory")
    with pytest.raises(OutputError, match="is not a polygon layer"):
        append_segments(points, [], QgsCoordinateReferenceSystem("EPSG:4326"), SegmentAttributes("x"))


def test_an_interpreter_without_torch_says_what_to_install() -> None:
    from sam2_qgis_plugin.engine import EngineError, probe

    with pytest.raises(EngineError, match="needs a Python with torch, rf-sam-2"):
        probe("/usr/bin/python3")  # Debian's Python: QGIS's, without torch


def test_a_new_tile_is_encoded_in_a_background_task_then_previewed(qgis_canvas, session, ortho, qtbot) -> None:
    from qgis.core import QgsApplication

    from sam2_qgis_plugin.tasks import EngineTask

    show(qgis_canvas, ortho)
    session.client.request("close_raster", {"raster_id": session.raster_id(ortho)})  # forget it: a fresh tile
    session._rasters.clear()
    tasks, progress, finished = [], [], []

    def background(description, work, on_done):  # what the plugin passes: run_task
        def tracked(task):
            report = task.setProgress
            task.setProgress = lambda value: (progress.append(value), report(value))
            return work(task)

        def done(result):
            finished.append(result)
            on_done(result)

        task = EngineTask(description, tracked, done, lambda error: progress.append(error))
        tasks.append(task)
        QgsApplication.taskManager().addTask(task)

    tool = SegmentMapTool(qgis_canvas, session, lambda: ortho, lambda r: None, lambda m, e: None, background)
    click(tool, qgis_canvas, ortho, 0.2, 0.7)
    assert tool.preview.asGeometry().isEmpty()  # nothing yet: the GUI thread did not wait for the encoder
    qtbot.waitUntil(lambda: not tool.preview.asGeometry().isEmpty(), timeout=120_000)
    assert finished[0]["encoded"] == 1  # the task encoded the tile...
    assert progress[-1] == 100.0  # ...reporting its progress
    assert not any(isinstance(p, BaseException) for p in progress)


def test_a_read_only_output_layer_is_refused(tmp_path) -> None:
    from qgis.core import QgsVectorLayer

    csv = tmp_path / "polygons.csv"
    csv.write_text('id;wkt\n1;"POLYGON((0 0,1 0,1 1,0 0))"\n')
    layer = QgsVectorLayer(f"file://{csv}?delimiter=;&wktField=wkt&crs=EPSG:32617", "read only", "delimitedtext")
    assert layer.isValid()
    with pytest.raises(OutputError, match="is read-only: choose another layer or a new GeoPackage"):
        append_segments(layer, [], QgsCoordinateReferenceSystem("EPSG:32617"), SegmentAttributes("x"))


def test_encode_visible_extent_runs_as_a_task_and_says_what_it_did(
    qgis_iface, qgis_canvas, engine_files, ortho, qtbot
) -> None:
    from qgis.core import Qgis

    import sam2_qgis_plugin

    plugin = sam2_qgis_plugin.classFactory(qgis_iface)
    plugin.initGui()
    try:
        plugin.dock.engine.python_widget.setFilePath(sys.executable)
        plugin.dock.raster.raster_combo.setLayer(ortho)
        plugin.ensure_session().load_model(engine_files["checkpoint"], device="cpu")
        show(qgis_canvas, ortho)
        bar = qgis_iface.messageBar()
        bar.clear_messages()
        plugin.segmenting.encode_visible_extent()
        qtbot.waitUntil(lambda: any("tiles encoded" in m for m in bar.get_messages(Qgis.Info)), timeout=120_000)
        message = next(m for m in bar.get_messages(Qgis.Info) if "tiles encoded" in m)
        # 400 px at 256 with a 192 px stride: 2 x 2 windows (some may already be in the disk cache)
        assert re.search(r"[0-4] of 4 tiles encoded", message)
    finally:
        plugin.unload()
    assert plugin.engine.client is None  # the worker was ended on unload


def test_download_task_fetches_an_official_model_and_makes_it_active(
    qgis_iface, engine_files, tmp_path, qtbot, monkeypatch
) -> None:
    """The Download button, against a local server standing in for the official host (no internet here)."""
    import functools
    import http.server
    import shutil
    import threading

    import sam2_qgis_plugin

    served = tmp_path / "served"
    served.mkdir()
    shutil.copy(engine_files["checkpoint"], served / "sam2.1_hiera_tiny.pt")  # a real SAM 2.1 tiny file
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("SAM2_QGIS_WEIGHTS_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("SAM2_QGIS_CACHE", str(tmp_path / "cache"))  # the worker and the download inherit it

    plugin = sam2_qgis_plugin.classFactory(qgis_iface)
    plugin.initGui()
    try:
        plugin.dock.engine.python_widget.setFilePath(sys.executable)
        combo = plugin.dock.model.choice_combo
        combo.setCurrentIndex(combo.findData("sam2.1_hiera_t"))
        plugin.dock.model.use_button.click()  # an official model: downloaded, then made active
        qtbot.waitUntil(lambda: "SAM 2.1 tiny" in plugin.dock.model.model_label.text(), timeout=180_000)
        assert (tmp_path / "cache" / "weights" / "sam2.1_hiera_tiny.pt").exists()
        assert "sam2.1_hiera_tiny.pt" in plugin.dock.model.model_label.text()
    finally:
        plugin.unload()
        server.shutdown()


def test_the_int8_encoder_chosen_in_settings_is_what_the_worker_loads(qgis_iface, engine_files, qtbot) -> None:
    from qgis.core import QgsSettings

    import sam2_qgis_plugin
    from sam2_qgis_plugin.settings import ENCODER

    plugin = sam2_qgis_plugin.classFactory(qgis_iface)
    plugin.initGui()
    try:
        settings = plugin.dock.engine.settings
        settings.encoder_combo.setCurrentIndex(settings.encoder_combo.findData("int8"))
        assert QgsSettings().value(ENCODER.key) == "int8"
        plugin.dock.engine.python_widget.setFilePath(sys.executable)
        plugin.dock.engine.device_combo.setCurrentText("cpu")
        plugin.use_checkpoint(engine_files["checkpoint"])
        qtbot.waitUntil(lambda: "int8 encoder" in plugin.dock.model.model_label.text(), timeout=120_000)
        assert plugin.session.model["encoder"] == "int8"  # what the worker loaded
        settings.encoder_combo.setCurrentIndex(settings.encoder_combo.findData("exact"))
        plugin.use_checkpoint(engine_files["checkpoint"])
        qtbot.waitUntil(lambda: "int8" not in plugin.dock.model.model_label.text(), timeout=120_000)
        assert plugin.session.model["encoder"] == "exact"
    finally:
        QgsSettings().remove(ENCODER.key)
        plugin.unload()


def test_probe_reports_versions_devices_and_the_cache_folder() -> None:
    from sam2_qgis_plugin.engine import probe

    info = probe(sys.executable)
    assert info.versions["torch"].startswith("2.")
    assert info.versions["sam2"]
    assert "CPU only" in info.summary or "CUDA" in info.summary or "MPS" in info.summary
    assert "sam2-qgis" in info.summary  # where weights and embeddings go


def test_unloading_while_a_task_runs_cancels_it_and_ends_the_worker(
    qgis_iface, qgis_canvas, engine_files, tmp_path, qtbot
) -> None:
    from qgis.core import QgsRasterLayer

    import sam2_qgis_plugin

    subprocess.run(
        [
            sys.executable,
            "-m",
            "core",
            "synthetic",
            "--out",
            str(tmp_path),
            "--stem",
            "big",
            "--width",
            "2048",
            "--height",
            "2048",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    layer = QgsRasterLayer(str(tmp_path / "big_image.tif"), "big")
    QgsProject.instance().addMapLayer(layer)
    plugin = sam2_qgis_plugin.classFactory(qgis_iface)
    plugin.initGui()
    plugin.dock.engine.python_widget.setFilePath(sys.executable)
    plugin.dock.raster.raster_combo.setLayer(layer)
    plugin.ensure_session().load_model(engine_files["checkpoint"], device="cpu")
    show(qgis_canvas, layer)
    process = plugin.engine.client.process
    plugin.segmenting.encode_visible_extent()  # 100 tiles of 256 px: seconds of work
    qtbot.wait(1500)
    plugin.unload()  # what QGIS does when it closes
    qtbot.waitUntil(lambda: process.poll() is not None, timeout=30_000)
    assert plugin.engine.client is None
    assert plugin.tasks == []
    QgsProject.instance().removeMapLayer(layer.id())


def move(tool, canvas, layer, fraction_x: float, fraction_y: float) -> QPoint:
    """A mouse move to a point given as a fraction of the raster's extent; its pixel."""
    extent = layer.extent()
    point = QgsCoordinateTransform(layer.crs(), canvas.mapSettings().destinationCrs(), QgsProject.instance()).transform(
        extent.xMinimum() + fraction_x * extent.width(), extent.yMaximum() - fraction_y * extent.height()
    )
    pixel = canvas.getCoordinateTransform().transform(point)
    position = QPoint(round(pixel.x()), round(pixel.y()))
    tool.canvasMoveEvent(QgsMapMouseEvent(canvas, QEvent.MouseMove, position, Qt.NoButton))
    return position


def test_the_outline_follows_the_resting_mouse_and_a_click_takes_it(qgis_canvas, session, ortho, qtbot) -> None:
    show(qgis_canvas, ortho)
    statuses: list[str] = []
    tool = SegmentMapTool(
        qgis_canvas, session, lambda: ortho, lambda r: None, lambda m, e: None, status=statuses.append,
        hover=lambda: True,
    )  # fmt: skip
    try:
        click(tool, qgis_canvas, ortho, 0.5, 0.4)  # the first click opens the raster and encodes its tile
        key(tool, Qt.Key_Escape)
        for step in range(10):  # the hand moves, then rests
            move(tool, qgis_canvas, ortho, 0.40 + step * 0.01, 0.4)
        qtbot.waitUntil(lambda: tool.hovered is not None, timeout=60_000)
        assert not tool.hover_band.asGeometry().isEmpty()  # the outline a click there would give
        assert tool.hovers.sent <= 2  # moves left behind were never sent: the mouse did not rest there
        shown = tool.hovered[3]
        decoded = session.client.request("info")["hovers"]["decoded"]
        release_at = tool.hovered[1]
        tool.canvasPressEvent(QgsMapMouseEvent(qgis_canvas, QEvent.MouseButtonPress, release_at, Qt.LeftButton))
        tool.canvasReleaseEvent(QgsMapMouseEvent(qgis_canvas, QEvent.MouseButtonRelease, release_at, Qt.LeftButton))
        assert tool.clicks_from_hover == 1
        assert session.result == shown  # the click took the hover's outline...
        assert session.client.request("info")["hovers"]["decoded"] == decoded  # ...without another decode
        assert not tool.preview.asGeometry().isEmpty()
        assert len(session.prompt.points) == 1

        tool.eventFilter(qgis_canvas, QEvent(QEvent.Leave))  # the mouse leaves the map: the outline goes
        assert tool.hover_band.asGeometry().isEmpty()
        tool.hover_enabled = lambda: False  # the panel's choice off: resting shows nothing
        move(tool, qgis_canvas, ortho, 0.45, 0.4)
        qtbot.wait(300)
        assert tool.hovered is None
    finally:
        tool.close()


def test_a_hover_on_a_tile_not_encoded_encodes_it_in_the_background(
    qgis_canvas, engine_files, ortho, qtbot, tmp_path
) -> None:
    from sam2_qgis_plugin.engine import WorkerClient
    from sam2_qgis_plugin.session import SegmentSession
    from sam2_qgis_plugin.tasks import EngineTask

    session = SegmentSession(WorkerClient(sys.executable, cache_dir=str(tmp_path / "embeddings")))  # nothing encoded
    session.load_model(engine_files["checkpoint"], device="cpu")
    show(qgis_canvas, ortho)
    statuses: list[str] = []
    tasks = []

    def background(description, work, on_done):  # type: ignore[no-untyped-def]
        task = EngineTask(description, work, on_done, lambda error: statuses.append(str(error)))
        tasks.append(task)
        QgsApplication.taskManager().addTask(task)

    tool = SegmentMapTool(
        qgis_canvas, session, lambda: ortho, lambda r: None, lambda m, e: None, background, status=statuses.append,
        hover=lambda: True,
    )  # fmt: skip
    try:
        session.raster_id(ortho)  # opened (as by an earlier click), nothing encoded
        move(tool, qgis_canvas, ortho, 0.5, 0.5)
        qtbot.waitUntil(lambda: any("Encoding the tile under the cursor" in s for s in statuses), timeout=60_000)
        assert tasks  # encoded in a background task, never on the map's thread
        qtbot.waitUntil(lambda: tool.hovered is not None, timeout=120_000)  # then the outline follows
        assert session.client.request("info")["hovers"]["not_encoded"] == 1
    finally:
        tool.close()
        session.client.stop()


def test_the_hover_outline_is_drawn_within_half_a_screen_pixel_with_far_fewer_vertices() -> None:
    """What the hover draws is simplified within half a screen pixel (invisible), so that a noisy outline of
    thousands of vertices does not stall the map's painting; the engine's answer itself is left whole."""
    import math

    from qgis.core import QgsCoordinateReferenceSystem, QgsGeometry

    from sam2_qgis_plugin.maptool import outline_in

    ring = [
        (500_000 + (10 + 0.05 * (i % 3)) * math.cos(i * 2 * math.pi / 3000),
         5_500_000 + (10 + 0.05 * (i % 3)) * math.sin(i * 2 * math.pi / 3000))
        for i in range(3000)
    ]  # fmt: skip
    result = {"polygons": [{"type": "Polygon", "coordinates": [[*ring, ring[0]]]}], "crs": ""}
    crs = QgsCoordinateReferenceSystem("EPSG:32633")
    exact = outline_in(crs)(result)
    drawn = outline_in(crs, screen_pixel=0.5)(result)
    assert exact.constGet().nCoordinates() == 3001  # nothing dropped without a screen to draw on
    assert drawn.constGet().nCoordinates() < 0.1 * exact.constGet().nCoordinates()
    assert exact.hausdorffDistance(drawn) <= 0.25 + 1e-9
    assert len(result["polygons"][0]["coordinates"][0]) == 3001  # the answer a click takes is untouched
    assert isinstance(drawn, QgsGeometry)
