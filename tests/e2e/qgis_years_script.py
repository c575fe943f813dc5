"""Run inside the real QGIS desktop (``qgis --code``): three flights of one area as polygon layers, the panel's
Follow across years, which sets QGIS's own Temporal Controller to the flights; then stepping through its frames
while the map draws each.

Reads SAM2_E2E_FLIGHTS (the engine's synthetic years), SAM2_E2E_PYTHON, SAM2_E2E_WORK and SAM2_E2E_OUT; writes
result.json and years.png (the 2022 frame with the Temporal Controller) to SAM2_E2E_OUT, then quits QGIS.
"""

import json
import os
import sys
import traceback
from pathlib import Path

from qgis.core import QgsProject, QgsRasterLayer, QgsVectorLayer, QgsVectorLayerTemporalContext
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QDockWidget
from qgis.utils import iface, loadPlugin, plugins, startPlugin, unloadPlugin

sys.path.insert(0, os.environ["SAM2_E2E_SCRIPTS"])
from desktop_helpers import settle, wait_for

OUT = Path(os.environ["SAM2_E2E_OUT"])
FLIGHTS = Path(os.environ["SAM2_E2E_FLIGHTS"])
PLUGIN = "sam2_qgis_plugin"


def shown_by(layer, frame):
    """The statuses of the features ``layer`` draws in the map's temporal ``frame``, counted."""
    context = QgsVectorLayerTemporalContext()
    context.setLayer(layer)
    counts = {}
    for feature in layer.getFeatures(layer.temporalProperties().createFilterString(context, frame)):
        counts[feature["status"]] = counts.get(feature["status"], 0) + 1
    return counts


def run():
    result = {}
    try:
        iface.mainWindow().resize(1400, 900)
        ortho = QgsRasterLayer(str(FLIGHTS / "year_2022_image.tif"), "ortho 2022")
        years = [
            QgsVectorLayer(f"{FLIGHTS / f'year_{y}_labels.gpkg'}|layername=labels", f"roofs {y}", "ogr")
            for y in (2019, 2022, 2025)
        ]
        QgsProject.instance().addMapLayers([ortho, *years])
        for layer in years:  # the inputs stay out of the picture: the track draws them
            QgsProject.instance().layerTreeRoot().findLayer(layer.id()).setItemVisibilityChecked(False)
        canvas = iface.mapCanvas()
        canvas.setExtent(ortho.extent())
        result["started"] = loadPlugin(PLUGIN) and startPlugin(PLUGIN)
        plugin = plugins[PLUGIN]
        plugin.panel_action.setChecked(True)
        dock = plugin.dock
        dock.engine.python_widget.setFilePath(os.environ["SAM2_E2E_PYTHON"])
        dock.show_section(dock.years)
        dock.years.set_years(years)
        before = set(QgsProject.instance().mapLayers())
        task = plugin.following.follow(Path(os.environ["SAM2_E2E_WORK"]))
        result["follow_started"] = task is not None
        result["followed"] = wait_for(lambda: len(set(QgsProject.instance().mapLayers()) - before) == 2, 180)
        added = [QgsProject.instance().mapLayer(i) for i in set(QgsProject.instance().mapLayers()) - before]
        objects = next(layer for layer in added if layer.name() == "Objects through the years")
        result["time_aware"] = objects.temporalProperties().isActive()

        temporal_dock = next(
            d for d in iface.mainWindow().findChildren(QDockWidget) if d.windowTitle() == "Temporal Controller"
        )
        temporal_dock.show()
        temporal_dock.raise_()
        navigation = canvas.temporalController()  # the Temporal Controller's own navigation object
        result["navigation"] = type(navigation).__name__
        result["animated"] = navigation.navigationMode() == navigation.Animated  # set by the plugin, not here
        result["frame_years"] = navigation.frameDuration().years()
        result["frames"] = navigation.totalFrameCount()
        result["steps"] = []
        for frame in range(navigation.totalFrameCount()):
            navigation.setCurrentFrameNumber(frame)
            settle(canvas)
            canvas.refresh()
            settle(canvas)
            shown = canvas.temporalRange()
            result["steps"].append(
                {
                    "from": shown.begin().date().toString("yyyy-MM-dd"),
                    "map_is_temporal": canvas.mapSettings().isTemporal(),
                    "shown": shown_by(objects, shown),
                }
            )
            if frame == 1:
                wait_for(lambda: False, 1)
                iface.mainWindow().grab().save(str(OUT / "years.png"))
        result["by_year"] = {
            str(year): sum(1 for f in objects.getFeatures() if f["year"] == year) for year in (2019, 2022, 2025)
        }
        result["unloaded"] = unloadPlugin(PLUGIN)
    except Exception:  # reported to the test, which fails with it
        result["error"] = traceback.format_exc()
    finally:
        (OUT / "result.json").write_text(json.dumps(result, indent=2))
        QgsProject.instance().clear()
        iface.actionExit().trigger()


QTimer.singleShot(500, run)
