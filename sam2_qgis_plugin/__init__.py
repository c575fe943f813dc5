"""SAM 2 for QGIS: click-to-segment, fine-tuning and whole-raster prediction on orthophotos.

This package runs inside QGIS's Python. It never imports torch or sam2: the engine (``core``) runs in a
separate worker process (tests/core/test_boundaries.py enforces it).
"""


def classFactory(iface):  # noqa: N802  (the name QGIS looks for)
    """Create the plugin for QGIS's ``iface``."""
    from .plugin import Sam2Plugin

    return Sam2Plugin(iface)
