"""Run inside the real QGIS desktop (``qgis --code``): load the plugin, use it, unload it, report.

Reads the raster path and output folder from SAM2_E2E_RASTER / SAM2_E2E_OUT; writes result.json and
screenshot.png there, then quits QGIS.
"""

import json
import os
import sys
import traceback
from pathlib import Path

from qgis.core import QgsProject, QgsRasterLayer
from qgis.PyQt.QtCore import QCoreApplication, QTimer
from qgis.utils import iface, loadPlugin, pluginMetadata, plugins, startPlugin, unloadPlugin

OUT = Path(os.environ["SAM2_E2E_OUT"])
PLUGIN = "sam2_qgis_plugin"


def plugin_menu_titles():
    return [action.text() for action in iface.pluginMenu().actions()]


def run():
    result = {}
    try:
        layer = QgsRasterLayer(os.environ["SAM2_E2E_RASTER"], "orthophoto")
        QgsProject.instance().addMapLayer(layer)
        result["layer_valid"] = layer.isValid()
        result["layer_crs"] = layer.crs().authid()
        iface.mapCanvas().setExtent(layer.extent())
        iface.mapCanvas().refresh()
        iface.mapCanvas().waitWhileRendering()

        result["metadata"] = {key: pluginMetadata(PLUGIN, key) for key in ("name", "qgisMinimumVersion", "icon")}
        result["loaded"] = loadPlugin(PLUGIN)
        result["started"] = startPlugin(PLUGIN)
        plugin = plugins[PLUGIN]
        result["menu_after_start"] = plugin_menu_titles()
        plugin.panel_action.trigger()
        QCoreApplication.processEvents()
        iface.mapCanvas().refreshAllLayers()
        iface.mapCanvas().waitWhileRendering()
        result["dock_visible"] = plugin.dock.isVisible()
        result["dock_text"] = plugin.dock.engine_label.text()
        iface.mainWindow().grab().save(str(OUT / "screenshot.png"))
        result["unloaded"] = unloadPlugin(PLUGIN)
        result["menu_after_unload"] = plugin_menu_titles()
        result["torch_loaded"] = "torch" in sys.modules or "sam2" in sys.modules
    except Exception:  # reported to the test, which fails with it
        result["error"] = traceback.format_exc()
    finally:
        (OUT / "result.json").write_text(json.dumps(result, indent=2))
        QgsProject.instance().setDirty(False)
        iface.actionExit().trigger()


QTimer.singleShot(500, run)
