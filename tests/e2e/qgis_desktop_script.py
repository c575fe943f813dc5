"""Run inside the real QGIS desktop (``qgis --code``): load the plugin, segment a click, fine-tune one epoch
from a label layer, predict the raster with the tuned model, screenshot each step, unload.

Reads SAM2_E2E_RASTER, SAM2_E2E_LABELS, SAM2_E2E_CHECKPOINT, SAM2_E2E_PYTHON, SAM2_E2E_WORK (run and
prediction folders) and SAM2_E2E_OUT from the environment; writes result.json and screenshots (dock.png,
preview.png, accepted.png, find_*.png, label_next*.png, tuned.png, predicted.png) to SAM2_E2E_OUT, then quits
QGIS.
"""

import itertools
import json
import os
import sys
import traceback
from pathlib import Path

from qgis.core import (
    QgsApplication,
    QgsFillSymbol,
    QgsPointXY,
    QgsProject,
    QgsRasterLayer,
    QgsSingleSymbolRenderer,
    QgsVectorLayer,
)
from qgis.gui import QgsMapMouseEvent
from qgis.PyQt.QtCore import QElapsedTimer, QEvent, QPoint, Qt, QThread, QTimer
from qgis.PyQt.QtGui import QKeyEvent
from qgis.PyQt.QtTest import QTest
from qgis.PyQt.QtWidgets import QAction, QApplication
from qgis.utils import iface, loadPlugin, pluginMetadata, plugins, startPlugin, unloadPlugin

sys.path.insert(0, os.environ["SAM2_E2E_SCRIPTS"])
from desktop_helpers import click_at, cut_texts, panel_fingerprint, settle, wait_for

OUT = Path(os.environ["SAM2_E2E_OUT"])
PLUGIN = "sam2_qgis_plugin"


def plugin_menu_titles():
    return [action.text() for action in iface.pluginMenu().actions()]


def fine_tune_and_predict(plugin, layer, result):
    """One epoch on the tree boxes in the real task manager, then the whole raster with the tuned model."""
    work = Path(os.environ["SAM2_E2E_WORK"])
    labels = QgsVectorLayer(f"{os.environ['SAM2_E2E_LABELS']}|layername=trees", "tree crowns (labels)", "ogr")
    labels.setRenderer(
        QgsSingleSymbolRenderer(QgsFillSymbol.createSimple({"color": "0,0,0,0", "outline_color": "255,255,0"}))
    )
    QgsProject.instance().addMapLayer(labels)
    dock = plugin.dock
    dock.labels.labels_combo.setLayer(labels)
    dock.train.mode_combo.setCurrentIndex(dock.train.mode_combo.findData("auto"))
    dock.train.epochs_spin.setValue(1)
    dock.train.tile_spin.setValue(128)
    dock.engine.device_combo.setCurrentText("cpu")
    task = plugin.tuning.fine_tune(work / "run")
    result["training_started"] = task is not None
    result["training_finished"] = wait_for(lambda: "best.pt" in dock.model.model_label.text(), 300)
    result["result_label"] = dock.train.result_label.text()
    result["tuned_models"] = [choice.value for choice in dock.model.tuned]
    result["report_written"] = (work / "run" / "report.html").exists()
    iface.mainWindow().resizeDocks([dock], [460], Qt.Horizontal)
    dock.show_section(dock.train, dock.train.result_label)  # the Learn tab, scrolled to the run's scores
    settle(iface.mapCanvas())
    iface.mainWindow().grab().save(str(OUT / "tuned.png"))

    segments = QgsProject.instance().mapLayersByName("sam2_segments")
    for layer_shown in segments:  # the picture shows the prediction and the labels
        QgsProject.instance().layerTreeRoot().findLayer(layer_shown.id()).setItemVisibilityChecked(False)
    before = set(QgsProject.instance().mapLayers())
    plugin.prediction.predict_raster(work / "predictions")
    wait_for(lambda: len(set(QgsProject.instance().mapLayers()) - before) == 2, 300)
    added = [QgsProject.instance().mapLayer(i) for i in set(QgsProject.instance().mapLayers()) - before]
    result["predicted_layers"] = sorted(f"{added.crs().authid()} {added.name()}" for added in added)
    dock.show_section(dock.predict)  # the tab the prediction was started from
    settle(iface.mapCanvas())
    iface.mainWindow().grab().save(str(OUT / "predicted.png"))


def where_to_label_next(plugin, layer, result):
    """Where to label next over the whole orthophoto with the fine-tuned model: the heat layer, the numbered
    places, Next going to the second one; then the fine-tuning's end again (as when a run beats the base), which
    proposes the places anew where the first round looked."""
    work = Path(os.environ["SAM2_E2E_WORK"])
    dock, canvas = plugin.dock, iface.mapCanvas()
    canvas.setExtent(layer.extent())
    dock.suggest.suggest_count_spin.setValue(6)
    dock.labels.labels_combo.setLayer(None)  # the tree boxes cover this small sample whole: no place would be left
    result["suggest_started"] = plugin.suggesting.suggest(work / "places1") is not None
    result["suggest_finished"] = wait_for(lambda: bool(plugin.suggesting.places), 300)
    result["places"] = len(plugin.suggesting.places)
    result["place_label"] = dock.suggest.suggest_label.text()
    result["heat_layer"] = bool(QgsProject.instance().mapLayersByName("SAM 2 uncertainty"))
    canvas.setExtent(layer.extent())  # the whole picture first: heat and numbered places
    settle(canvas)
    dock.show_section(dock.suggest, dock.suggest.suggest_row)
    iface.mainWindow().grab().save(str(OUT / "label_next.png"))
    dock.suggest.suggest_buttons["next"].click()
    result["next_place_label"] = dock.suggest.suggest_label.text()
    settle(canvas)
    iface.mainWindow().grab().save(str(OUT / "label_next_place2.png"))
    first = list(plugin.suggesting.layers)
    plugin.tuning.finished(work / "run", json.loads((work / "run" / "summary.json").read_text()))
    result["places_renewed"] = wait_for(lambda: plugin.suggesting.layers not in ([], first), 300)
    result["places_after_tuning"] = len(plugin.suggesting.places)
    result["place_label_after_tuning"] = dock.suggest.suggest_label.text()


def find_review_and_find_again(plugin, layer, result):
    """Find the rest from 12 tree boxes drawn in an unsaved layer, review with the keys on the canvas (reject
    one, accept the next, Ctrl+Z takes the accept back, accept it again), then Find again from the grown labels."""
    from qgis.core import QgsFeature

    canvas = iface.mapCanvas()
    trees = QgsVectorLayer(f"{os.environ['SAM2_E2E_LABELS']}|layername=trees", "trees", "ogr")
    drawn = QgsVectorLayer(f"MultiPolygon?crs={trees.crs().authid()}&field=class:string", "my trees", "memory")
    copies = []
    for feature in list(trees.getFeatures())[:12]:
        copy = QgsFeature(drawn.fields())
        copy.setGeometry(feature.geometry())
        copy["class"] = "tree"
        copies.append(copy)
    drawn.dataProvider().addFeatures(copies)
    drawn.setRenderer(
        QgsSingleSymbolRenderer(QgsFillSymbol.createSimple({"color": "0,120,255,60", "outline_color": "0,120,255"}))
    )
    QgsProject.instance().addMapLayer(drawn)
    dock = plugin.dock
    dock.labels.labels_combo.setLayer(drawn)
    dock.labels.class_field_combo.setField("class")
    dock.train.tile_spin.setValue(128)
    dock.engine.device_combo.setCurrentText("cpu")
    dock.find.find_minutes_spin.setValue(1.0)
    result["find_button"] = dock.find.find_button.text()
    canvas.setExtent(layer.extent())
    settle(canvas)
    work = Path(os.environ["SAM2_E2E_WORK"])
    result["find_started"] = plugin.finding.find(work / "find1") is not None
    result["find_finished"] = wait_for(lambda: plugin.finding.review is not None, 300)
    review = plugin.finding.review
    result["find_candidates"] = len(review.ids)
    result["find_result"] = dock.find.find_result_label.text()
    result["review_label"] = dock.find.review_label.text()
    iface.mainWindow().resizeDocks([dock], [460], Qt.Horizontal)
    dock.show_section(dock.find, dock.find.find_again_button)
    settle(canvas)
    iface.mainWindow().grab().save(str(OUT / "find_candidates.png"))
    before = drawn.featureCount()
    drawn_ids = {f.id() for f in drawn.getFeatures()}
    QApplication.setActiveWindow(iface.mainWindow())
    iface.setActiveLayer(drawn)  # QGIS's Edit > Undo wants Ctrl+Z too
    canvas.setFocus()
    QTest.keyClick(canvas, Qt.Key_R)
    QTest.keyClick(canvas, Qt.Key_A)
    result["classes_added"] = sorted(str(f["class"]) for f in drawn.getFeatures() if f.id() not in drawn_ids)
    result["added_after_decisions"] = drawn.featureCount() - before
    QTest.keyClick(canvas, Qt.Key_Z, Qt.ControlModifier)
    settle(canvas)
    result["added_after_undo"] = drawn.featureCount() - before
    result["index_after_undo"] = review.index
    QTest.keyClick(canvas, Qt.Key_A)
    result["added_after_accepting_again"] = drawn.featureCount() - before
    settle(canvas)
    iface.mainWindow().grab().save(str(OUT / "find_reviewed.png"))
    dock.find.find_again_button.click()
    result["find_again_finished"] = wait_for(
        lambda: plugin.finding.review is not None and plugin.finding.review is not review, 300
    )
    result["find_again_result"] = dock.find.find_result_label.text()
    summaries = sorted((work / "sam2_find").glob("*/summary.json"))
    result["find_again_examples"] = json.loads(summaries[-1].read_text())["examples"] if summaries else None
    settle(canvas)
    iface.mainWindow().grab().save(str(OUT / "find_again.png"))
    plugin.finding.stop_review()
    result["review_edits_saved"] = drawn.commitChanges()  # else removing the layer asks whether to save them
    QgsProject.instance().removeMapLayer(drawn.id())


def accept_messages():
    """What the message bar says of accepted objects now (QGIS shows a message once: each must differ)."""
    return [item.text() for item in iface.messageBar().items() if "added to" in item.text()]


def undo_with_the_keyboard(tool, canvas, layer, output, result):
    """A second accepted click, then a pending click, then Ctrl+Z twice typed on the canvas of the real desktop,
    with the segments layer active and in edit mode, so that QGIS's own Edit > Undo also wants Ctrl+Z: the first
    takes back the pending click, the second the second segment; saving the edits writes the first."""
    before = output.featureCount()
    extent = layer.extent()
    for fraction in (0.3, 0.7):
        click_at(tool, canvas, QgsPointXY(extent.xMinimum() + fraction * extent.width(), extent.center().y()))
        wait_for(lambda: not tool.preview.asGeometry().isEmpty(), 120)
        if fraction == 0.3:
            QTest.keyClick(canvas, Qt.Key_Return)
            result["accept_messages"] = list(dict.fromkeys(result["accept_messages"] + accept_messages()))
    result["features_after_second_click"] = output.featureCount() - before
    iface.setActiveLayer(output)  # Edit > Undo is enabled for it now
    QApplication.setActiveWindow(iface.mainWindow())  # QGIS's shortcuts work in the active window only
    canvas.setFocus()
    undo = [a for a in iface.mainWindow().findChildren(QAction) if a.objectName() == "mActionUndo"]
    result["qgis_undo_listens"] = [(a.isEnabled(), a.shortcut().toString()) for a in undo]
    QTest.keyClick(canvas, Qt.Key_Z, Qt.ControlModifier)
    settle(canvas)
    result["after_first_undo"] = [len(tool.session.prompt.points), output.featureCount() - before]
    QTest.keyClick(canvas, Qt.Key_Z, Qt.ControlModifier)
    settle(canvas)
    result["features_after_undo"] = output.featureCount() - before
    result["edits_saved"] = output.commitChanges()


def pause(milliseconds):
    """Let QGIS work for ``milliseconds`` (events processed every few ms), as time passes between mouse moves."""
    clock = QElapsedTimer()
    clock.start()
    while clock.elapsed() < milliseconds:
        QApplication.processEvents()
        QThread.msleep(2)


def plugin_dock_status():
    """The Segment section's preview line."""
    return plugins[PLUGIN].dock.segment.preview_label.text()


def hover_over_the_map(tool, canvas, layer, result):
    """The mouse crosses the encoded tile at 20 moves a second and rests: the outline a click would give shows,
    the map's event loop keeps running (its longest stall is measured by a 2 ms timer), a click there takes the
    outline without another decode, and leaving the map clears it."""
    tool.session.clear()
    tool.refresh()
    settle(canvas)
    spent = {"ask_hover": [], "show_hover": []}  # ms the GUI thread spends in each hover step
    for name in spent:
        step = getattr(tool, name)

        def timed(*args, step=step, name=name):
            started = QElapsedTimer()
            started.start()
            marks.append((name, clock.elapsed()))
            step(*args)
            spent[name].append(started.elapsed())

        setattr(tool, name, timed)
    tool.rest.timeout.disconnect()
    tool.rest.timeout.connect(tool.ask_hover)
    tool.hovers.answered.disconnect()
    tool.hovers.answered.connect(tool.show_hover)
    ticks = []
    marks = []
    clock = QElapsedTimer()
    clock.start()
    timer = QTimer()
    timer.setInterval(2)
    timer.timeout.connect(lambda: ticks.append(clock.elapsed()))
    timer.start()
    extent = layer.extent()
    for step in range(10):
        point = QgsPointXY(extent.center().x() + (step - 5) * extent.width() * 0.01, extent.center().y())
        pixel = canvas.getCoordinateTransform().transform(point)
        position = QPoint(round(pixel.x()), round(pixel.y()))
        tool.canvasMoveEvent(QgsMapMouseEvent(canvas, QEvent.MouseMove, position, Qt.NoButton))
        pause(50)
    waited = QElapsedTimer()
    waited.start()
    while tool.hovered is None and waited.elapsed() < 60_000:  # wait_for would sleep 100 ms: a stall of its own
        pause(5)
    result["hover_shown"] = tool.hovered is not None
    pause(100)
    timer.stop()
    result["hover_longest_stall_ms"] = max((b - a for a, b in itertools.pairwise(ticks)), default=None)
    result["hover_gui_ms"] = {name: max(times, default=0) for name, times in spent.items()}
    gaps = sorted(((b - a, a) for a, b in itertools.pairwise(ticks)), reverse=True)[:3]
    result["hover_stalls"] = {"gaps (ms, at)": gaps, "marks": marks, "end": clock.elapsed()}
    root = QgsProject.instance().layerTreeRoot()
    accepted = [root.findLayer(other.id()) for other in canvas.layers() if other is not layer]
    for node in filter(None, accepted):  # the picture shows the outline under the cursor, not accepted objects
        node.setItemVisibilityChecked(False)
    settle(canvas)
    iface.mainWindow().grab().save(str(OUT / "hover.png"))
    for node in filter(None, accepted):
        node.setItemVisibilityChecked(True)
    result["hover_status"] = plugin_dock_status()
    if tool.hovered is not None:
        _, pixel, _, shown = tool.hovered
        tool.canvasPressEvent(QgsMapMouseEvent(canvas, QEvent.MouseButtonPress, pixel, Qt.LeftButton))
        tool.canvasReleaseEvent(QgsMapMouseEvent(canvas, QEvent.MouseButtonRelease, pixel, Qt.LeftButton))
        result["click_took_hover"] = tool.clicks_from_hover == 1 and tool.session.result == shown
        tool.keyPressEvent(QKeyEvent(QEvent.KeyPress, Qt.Key_Escape, Qt.NoModifier))
        tool.canvasMoveEvent(QgsMapMouseEvent(canvas, QEvent.MouseMove, pixel, Qt.NoButton))
        wait_for(lambda: tool.hovered is not None, 60)
        QApplication.sendEvent(canvas, QEvent(QEvent.Leave))  # the mouse leaves the map
        result["hover_cleared"] = tool.hover_band.asGeometry().isEmpty() and tool.hovered is None


def click_on_web_tiles(plugin, tool, canvas, layer, output, result):
    """The same orthophoto as XYZ tiles from a web server: a click renders the visible map and segments."""
    url = os.environ["SAM2_E2E_XYZ"] + "/%7Bz%7D/%7Bx%7D/%7By%7D.png"
    tiles = QgsRasterLayer(f"type=xyz&url={url}&zmin=19&zmax=21", "OSBS_029 as XYZ tiles", "wms")
    QgsProject.instance().addMapLayer(tiles)
    plugin.dock.raster.raster_combo.setLayer(tiles)
    before = {feature.id() for feature in output.getFeatures()}
    click_at(tool, canvas, layer.extent().center())
    wait_for(lambda: not tool.preview.asGeometry().isEmpty(), 120)
    result["xyz_preview_empty"] = tool.preview.asGeometry().isEmpty()
    settle(canvas)
    iface.mainWindow().grab().save(str(OUT / "xyz.png"))
    QTest.keyClick(canvas, Qt.Key_Return)
    added = [feature for feature in output.getFeatures() if feature.id() not in before]
    result["xyz_source"] = [feature["source"] for feature in added] == ["OSBS_029 as XYZ tiles"] and added[0]["source"]
    result["xyz_renders"] = len(plugin.rasters.sources.renders.get(tiles.id(), []))
    output.commitChanges()
    plugin.dock.raster.raster_combo.setLayer(layer)


def restart_with_the_tuned_model(result):
    """Unload and start the plugin again, as after restarting QGIS: the tuned model is listed, chosen, usable."""
    unloadPlugin(PLUGIN)
    loadPlugin(PLUGIN)
    startPlugin(PLUGIN)
    plugin = plugins[PLUGIN]
    plugin.panel_action.trigger()
    dock = plugin.dock
    dock.engine.python_widget.setFilePath(os.environ["SAM2_E2E_PYTHON"])
    result["engine_after_restart"] = dock.engine.engine_label.text()
    result["tuned_after_restart"] = dock.model.chosen_tuned()
    dock.model.use_button.click()
    result["tuned_model_used"] = wait_for(lambda: "best.pt" in dock.model.model_label.text(), 120)
    settle()
    result["engine_with_tuned_model"] = dock.engine.engine_label.text()  # no Check pressed after the restart
    return plugin


def run():
    result = {}
    try:
        work = Path(os.environ["SAM2_E2E_WORK"])
        work.mkdir(parents=True, exist_ok=True)
        QgsProject.instance().setPresetHomePath(str(work))  # as a saved project: outputs there, not in ~
        layer = QgsRasterLayer(os.environ["SAM2_E2E_RASTER"], "OSBS_029 orthophoto")
        QgsProject.instance().addMapLayer(layer)
        result["layer_valid"] = layer.isValid()
        result["layer_crs"] = layer.crs().authid()
        iface.mainWindow().resize(1400, 900)
        canvas = iface.mapCanvas()
        canvas.setExtent(layer.extent())
        canvas.refresh()
        settle(canvas)

        result["metadata"] = {key: pluginMetadata(PLUGIN, key) for key in ("name", "qgisMinimumVersion", "icon")}
        result["loaded"] = loadPlugin(PLUGIN)
        result["started"] = startPlugin(PLUGIN)
        plugin = plugins[PLUGIN]
        result["menu_after_start"] = plugin_menu_titles()
        plugin.panel_action.trigger()
        dock = plugin.dock
        result["offer_at_start"] = plugin.engine.install_offer is not None  # no SAM2_QGIS_PYTHON in this profile
        dock.engine.python_widget.setFilePath(os.environ["SAM2_E2E_PYTHON"])  # as the analyst does in Settings
        dock.engine.device_combo.setCurrentText("cpu")
        dock.engine.check_button.click()
        result["engine_checked"] = wait_for(lambda: "torch" in dock.engine.engine_label.text(), 120)
        settings = dock.engine.settings
        dock.engine.settings_button.click()
        settle()
        settings.grab().save(str(OUT / "settings.png"))
        result["settings_cut_texts"] = cut_texts(settings)  # its last line, the Python's whole path
        settings.close()
        dock.raster.raster_combo.setLayer(layer)
        dock.segment.class_combo.setCurrentText("tree")
        dock.model.offer_file(os.environ["SAM2_E2E_CHECKPOINT"])  # what "Checkpoint file..." lists and chooses
        dock.model.use_button.click()
        result["model_loaded"] = wait_for(lambda: "img256" in dock.model.model_label.toolTip(), 120)
        result["offer_after_engine_works"] = plugin.engine.install_offer is not None
        result["dock_visible"] = dock.isVisible()
        result["dock_text"] = dock.engine.engine_label.text()
        settle(canvas)
        iface.mainWindow().grab().save(str(OUT / "dock.png"))
        result["dock_overflow_px"] = dock.overflow_px()  # 0: nothing cut off at the right, in any tab
        result["panel"] = panel_fingerprint(dock)
        result["cut_texts"] = cut_texts(dock)
        result["top_share"] = round(dock.top.height() / dock.height(), 2)  # engine, model, raster: always in view

        dock.segment.segment_button.setChecked(True)
        tool = plugin.segmenting.tool
        result["tool_active"] = canvas.mapTool() is tool
        click_at(tool, canvas, layer.extent().center())
        wait_for(lambda: not tool.preview.asGeometry().isEmpty(), 120)  # the tile is encoded in a task first
        result["preview_empty"] = tool.preview.asGeometry().isEmpty()
        settle(canvas)
        iface.mainWindow().grab().save(str(OUT / "preview.png"))

        tool.keyPressEvent(QKeyEvent(QEvent.KeyPress, Qt.Key_Return, Qt.NoModifier))
        output = dock.segment.output_combo.currentLayer()
        result["output_features"] = output.featureCount() if output else 0
        result["output_crs"] = output.crs().authid() if output else None
        result["output_class"] = next(output.getFeatures())["class"] if output and output.featureCount() else None
        result["output_name"] = output.name() if output else None
        result["accept_messages"] = accept_messages()
        settle(canvas)
        iface.mainWindow().grab().save(str(OUT / "accepted.png"))
        undo_with_the_keyboard(tool, canvas, layer, output, result)
        hover_over_the_map(tool, canvas, layer, result)
        click_on_web_tiles(plugin, tool, canvas, layer, output, result)

        dock.segment.segment_button.setChecked(False)
        find_review_and_find_again(plugin, layer, result)
        fine_tune_and_predict(plugin, layer, result)
        where_to_label_next(plugin, layer, result)
        plugin = restart_with_the_tuned_model(result)

        worker = plugin.engine.client.process
        result["unloaded"] = unloadPlugin(PLUGIN)
        result["worker_ended"] = worker is not None and worker.poll() is not None
        result["menu_after_unload"] = plugin_menu_titles()
        result["torch_loaded"] = "torch" in sys.modules or "sam2" in sys.modules
        manager = QgsApplication.taskManager()
        result["tasks_left"] = [f"{t.description()} {t.status()}" for t in manager.tasks()]
    except Exception:  # reported to the test, which fails with it
        result["error"] = traceback.format_exc()
    finally:
        (OUT / "result.json").write_text(json.dumps(result, indent=2))
        QgsProject.instance().clear()  # layers under /tmp count as temporary: QGIS would ask before quitting
        iface.actionExit().trigger()


QTimer.singleShot(500, run)
