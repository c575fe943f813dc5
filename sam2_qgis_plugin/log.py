"""The plugin's log: QGIS's Log Messages panel, tab "SAM 2" (engine stderr, job events, errors).

Callable from any thread (QgsMessageLog queues the message to the GUI thread). Outside QGIS (no qgis module),
messages go to Python's logging.
"""

from __future__ import annotations

import logging

TAB = "SAM 2"
_fallback = logging.getLogger("sam2_qgis_plugin")


def log(message: str, level: str = "info") -> None:
    """Write ``message`` to the SAM 2 tab; ``level``: info, warning or critical."""
    try:
        from qgis.core import Qgis, QgsMessageLog
    except ImportError:
        _fallback.log({"warning": logging.WARNING, "critical": logging.ERROR}.get(level, logging.INFO), message)
        return
    levels = {
        "info": Qgis.MessageLevel.Info,
        "warning": Qgis.MessageLevel.Warning,
        "critical": Qgis.MessageLevel.Critical,
    }
    QgsMessageLog.logMessage(message, TAB, levels.get(level, Qgis.MessageLevel.Info))
