"""Run inside the real QGIS desktop (``qgis --code``): load the plugin, segment a click, fine-tune one epoch
from a label layer, predict the raster with the tuned model, screenshot each step, unload.

Reads SAM2_E2E_RASTER, SAM2_E2E_LABELS, SAM2_E2E_CHECKPOINT, SAM2_E2E_PYTHON, SAM2_E2E_WORK (run and
prediction folders) and SAM2_E2E_OUT from the environment; writes result.json and screenshots (dock.png,
preview.png, accepted.png, tuned.png, predicted.png) to SAM2_E2E_OUT, then quits QGIS.
"""

import json
import os
import sys
import traceback
from pathlib import Path

from qgis.core import QgsApplication, QgsFillSymbol, QgsProject, QgsRasterLayer, QgsSingleSymbolRenderer, QgsVectorLayer
from qgis.gui import QgsMapMouseEvent
from qgis.PyQt.QtCore import QCoreApplication, QEvent, QPoint, Qt, QThread, QTimer
from qgis.PyQt.QtGui import QKeyEvent
from qgis.utils import iface, loadPlugin, pluginMetadata, plugins, startPlugin, unloadPlugin

OUT = Path(os.environ["SAM2_E2E_OUT"])
PLUGIN = "sam2_qgis_plugin"


def plugin_menu_titles():
    return [action.text() for action in iface.pluginMenu().actions()]


def settle(canvas=None):
    for _ in range(5):
        QCoreApplication.processEvents()
    if canvas is not None:
        canvas.waitWhileRendering()


def wait_for(condition, seconds):
    """Process events until ``condition()`` holds or ``seconds`` pass; returns whether it held."""
    for _ in range(int(seconds * 10)):
        if condition():
            return True
        QCoreApplication.processEvents()
        QThread.msleep(100)
    return condition()


def fine_tune_and_predict(plugin, layer, result):
    """One epoch on the tree boxes in the real task manager, then the whole raster with the tuned model."""
    work = Path(os.environ["SAM2_E2E_WORK"])
    labels = QgsVectorLayer(f"{os.environ['SAM2_E2E_LABELS']}|layername=trees", "tree crowns (labels)", "ogr")
    labels.setRenderer(
        QgsSingleSymbolRenderer(QgsFillSymbol.createSimple({"color": "0,0,0,0", "outline_color": "255,255,0"}))
    )
    QgsProject.instance().addMapLayer(labels)
    dock = plugin.dock
    dock.labels_combo.setLayer(labels)
    dock.mode_combo.setCurrentIndex(dock.mode_combo.findData("auto"))
    dock.epochs_spin.setValue(1)
    dock.tile_spin.setValue(128)
    dock.device_combo.setCurrentText("cpu")
    task = plugin.tuning.fine_tune(work / "run")
    result["training_started"] = task is not None
    result["training_finished"] = wait_for(lambda: "best.pt" in dock.model_label.text(), 300)
    result["result_label"] = dock.result_label.text()
    result["tuned_models"] = [dock.tuned_combo.itemData(i) for i in range(dock.tuned_combo.count())]
    result["report_written"] = (work / "run" / "report.html").exists()
    iface.mainWindow().resizeDocks([dock], [460], Qt.Horizontal)
    dock.widget().ensureWidgetVisible(dock.result_label)  # the panel scrolled to the run's scores
    dock.widget().horizontalScrollBar().setValue(0)
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
    settle(iface.mapCanvas())
    iface.mainWindow().grab().save(str(OUT / "predicted.png"))


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
        dock.python_widget.setFilePath(os.environ["SAM2_E2E_PYTHON"])
        dock.raster_combo.setLayer(layer)
        dock.class_edit.setText("tree")
        session = plugin.ensure_session()
        model = session.load_model(os.environ["SAM2_E2E_CHECKPOINT"], device="cpu")
        dock.model_label.setText(f"Active model: {model['label']} (random-init, {model['image_size']} px, cpu)")
        dock.engine_label.setText("Engine: " + plugin.client.python)
        result["dock_visible"] = dock.isVisible()
        result["dock_text"] = dock.engine_label.text()
        settle(canvas)
        iface.mainWindow().grab().save(str(OUT / "dock.png"))
        result["dock_overflow_px"] = dock.widget().horizontalScrollBar().maximum()  # 0: nothing cut off at the right

        dock.segment_button.setChecked(True)
        tool = plugin.segmenting.tool
        result["tool_active"] = canvas.mapTool() is tool
        centre = layer.extent().center()
        pixel = canvas.getCoordinateTransform().transform(centre)
        position = QPoint(round(pixel.x()), round(pixel.y()))
        tool.canvasPressEvent(QgsMapMouseEvent(canvas, QEvent.MouseButtonPress, position, Qt.LeftButton))
        tool.canvasReleaseEvent(QgsMapMouseEvent(canvas, QEvent.MouseButtonRelease, position, Qt.LeftButton))
        waited = 0  # the tile is encoded in a background task; the preview follows
        while tool.preview.asGeometry().isEmpty() and waited < 1200:
            QCoreApplication.processEvents()
            QThread.msleep(100)
            waited += 1
        result["preview_empty"] = tool.preview.asGeometry().isEmpty()
        settle(canvas)
        iface.mainWindow().grab().save(str(OUT / "preview.png"))

        tool.keyPressEvent(QKeyEvent(QEvent.KeyPress, Qt.Key_Return, Qt.NoModifier))
        output = dock.output_combo.currentLayer()
        result["output_features"] = output.featureCount() if output else 0
        result["output_crs"] = output.crs().authid() if output else None
        result["output_class"] = next(output.getFeatures())["class"] if output and output.featureCount() else None
        settle(canvas)
        iface.mainWindow().grab().save(str(OUT / "accepted.png"))

        fine_tune_and_predict(plugin, layer, result)

        worker = plugin.client.process
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
