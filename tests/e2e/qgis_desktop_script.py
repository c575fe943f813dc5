"""Run inside the real QGIS desktop (``qgis --code``): load the plugin, segment a click, screenshot, unload.

Reads SAM2_E2E_RASTER, SAM2_E2E_CHECKPOINT, SAM2_E2E_PYTHON and SAM2_E2E_OUT from the environment; writes
result.json and screenshots (dock.png, preview.png, accepted.png) to SAM2_E2E_OUT, then quits QGIS.
"""

import json
import os
import sys
import traceback
from pathlib import Path

from qgis.core import QgsProject, QgsRasterLayer
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


def run():
    result = {}
    try:
        layer = QgsRasterLayer(os.environ["SAM2_E2E_RASTER"], "OSBS_029 orthophoto")
        QgsProject.instance().addMapLayer(layer)
        result["layer_valid"] = layer.isValid()
        result["layer_crs"] = layer.crs().authid()
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

        dock.segment_button.setChecked(True)
        tool = plugin.tool
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

        worker = plugin.client.process
        result["unloaded"] = unloadPlugin(PLUGIN)
        result["worker_ended"] = worker is not None and worker.poll() is not None
        result["menu_after_unload"] = plugin_menu_titles()
        result["torch_loaded"] = "torch" in sys.modules or "sam2" in sys.modules
    except Exception:  # reported to the test, which fails with it
        result["error"] = traceback.format_exc()
    finally:
        (OUT / "result.json").write_text(json.dumps(result, indent=2))
        QgsProject.instance().setDirty(False)
        iface.actionExit().trigger()


QTimer.singleShot(500, run)
