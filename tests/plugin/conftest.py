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

    from sam2_qgis_plugin.settings import CACHE_DIR, DEVICE, PANEL

    for setting in (PANEL, DEVICE, CACHE_DIR):
        setting.remove()
    yield
    for setting in (PANEL, DEVICE, CACHE_DIR):
        setting.remove()


@pytest.fixture(scope="module")
def session(engine_files, tmp_path_factory):  # type: ignore[no-untyped-def]
    """A click-to-segment session on the real engine worker (this interpreter) with the tiny model, on the CPU."""
    import sys

    from sam2_qgis_plugin.engine import WorkerClient
    from sam2_qgis_plugin.session import SegmentSession

    client = WorkerClient(sys.executable, cache_dir=str(tmp_path_factory.mktemp("embeddings")))
    session = SegmentSession(client)
    session.load_model(engine_files["checkpoint"], device="cpu")
    yield session
    client.stop()


@pytest.fixture(scope="module")
def processing(qgis_app):  # type: ignore[no-untyped-def]
    """QGIS's Processing with the SAM 2 provider registered: ``processing.run("sam2:...", {...})``."""
    from processing.core.Processing import Processing
    from qgis.core import QgsApplication

    from sam2_qgis_plugin.processing.provider import Sam2Provider

    Processing.initialize()
    provider = Sam2Provider()
    QgsApplication.processingRegistry().addProvider(provider)
    import processing as module

    yield module
    QgsApplication.processingRegistry().removeProvider(provider)
