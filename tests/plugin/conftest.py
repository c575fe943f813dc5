"""Plugin tests run in a process with QGIS (pytest-qgis, offscreen) and never import torch or sam2.

The engine runs as a worker process with this test run's interpreter (the project's .venv); see the
``engine_files`` fixture in tests/conftest.py.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def fresh_panel_choices(qgis_app):  # type: ignore[no-untyped-def]
    """Each test meets the panel's defaults: the choices the panel and the settings dialog keep across sessions
    are cleared."""
    from qgis.core import QgsSettings

    from sam2_qgis_plugin.dock import PANEL_SETTINGS
    from sam2_qgis_plugin.settings_dialog import CACHE_KEY, DEVICE_KEY

    for key in (PANEL_SETTINGS, DEVICE_KEY, CACHE_KEY):
        QgsSettings().remove(key)
    yield
    for key in (PANEL_SETTINGS, DEVICE_KEY, CACHE_KEY):
        QgsSettings().remove(key)
