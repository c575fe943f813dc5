"""Run inside the real QGIS desktop (``qgis --code``) on a fresh profile with no engine: the plugin offers the
install in the message bar, its button installs the engine as a task, and a click on the map then segments with
the installed engine.

Reads SAM2_E2E_RASTER, SAM2_E2E_CHECKPOINT, SAM2_E2E_WHEELS (the folder of wheels the analyst chooses, offline)
and SAM2_E2E_OUT; writes result.json and screenshots (offer.png, installed.png) there, then quits QGIS.
"""

import json
import os
import sys
import traceback
from pathlib import Path

from qgis.core import QgsProject, QgsRasterLayer
from qgis.PyQt.QtCore import Qt, QTimer
from qgis.PyQt.QtTest import QTest
from qgis.PyQt.QtWidgets import QPushButton
from qgis.utils import iface, loadPlugin, plugins, startPlugin, unloadPlugin

sys.path.insert(0, os.environ["SAM2_E2E_SCRIPTS"])
from desktop_helpers import click_at, wait_for

OUT = Path(os.environ["SAM2_E2E_OUT"])
PLUGIN = "sam2_qgis_plugin"


def run():
    result = {}
    try:
        layer = QgsRasterLayer(os.environ["SAM2_E2E_RASTER"], "OSBS_029 orthophoto")
        QgsProject.instance().addMapLayer(layer)
        QgsProject.instance().setPresetHomePath(str(OUT))
        iface.mainWindow().resize(1400, 900)
        canvas = iface.mapCanvas()
        canvas.setExtent(layer.extent())
        canvas.refresh()
        wait_for(lambda: False, 1)

        result["started"] = loadPlugin(PLUGIN) and startPlugin(PLUGIN)
        plugin = plugins[PLUGIN]
        offer = plugin.engine.install_offer
        result["offer"] = offer.text() if offer is not None else None
        result["engine_before"] = plugin.dock.engine.python_widget.filePath()
        iface.mainWindow().grab().save(str(OUT / "offer.png"))

        plugin.dock.engine.settings.wheels_widget.setFilePath(os.environ["SAM2_E2E_WHEELS"])  # offline: the wheels
        offer.findChild(QPushButton, "sam2_install_engine").click()
        result["install_started"] = plugin.engine.installing.task is not None
        result["installed"] = wait_for(lambda: plugin.engine.installing.task is None, 240)
        python = plugin.dock.engine.python_widget.filePath()
        result["engine_python"] = python
        result["engine_ready"] = (Path(python).parent.parent / ".sam2-engine-ready").exists()
        result["messages"] = [item.text() for item in iface.messageBar().items()]

        plugin.panel_action.trigger()
        dock = plugin.dock
        wait_for(lambda: "torch" in dock.engine.engine_label.text(), 60)
        result["engine_label"] = dock.engine.engine_label.text()
        dock.raster.raster_combo.setLayer(layer)
        dock.segment.class_combo.setCurrentText("tree")
        model = plugin.ensure_session().load_model(os.environ["SAM2_E2E_CHECKPOINT"], device="cpu")
        dock.model.model_label.setText(f"Active model: {model['label']} ({model['image_size']} px, cpu)")
        result["worker_python"] = plugin.engine.client.python
        dock.segment.segment_button.setChecked(True)
        tool = plugin.segmenting.tool
        click_at(tool, canvas, layer.extent().center())
        result["preview"] = wait_for(lambda: not tool.preview.asGeometry().isEmpty(), 120)
        wait_for(lambda: False, 1)
        iface.mainWindow().grab().save(str(OUT / "installed.png"))
        QTest.keyClick(canvas, Qt.Key_Return)
        output = dock.segment.output_combo.currentLayer()
        result["features"] = output.featureCount() if output else 0
        if output is not None:
            output.commitChanges()
        result["unloaded"] = unloadPlugin(PLUGIN)
    except Exception:  # reported to the test, which fails with it
        result["error"] = traceback.format_exc()
    finally:
        (OUT / "result.json").write_text(json.dumps(result, indent=2))
        QgsProject.instance().clear()
        iface.actionExit().trigger()


QTimer.singleShot(500, run)
