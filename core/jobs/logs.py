"""The engine's log: Python ``logging`` under the ``core`` logger, to stderr, where the plugin copies it into
QGIS's Log Messages panel (tab "SAM 2"). ``SAM2_QGIS_LOG_LEVEL`` (DEBUG, INFO, WARNING) sets the level."""

from __future__ import annotations

import logging
import os
import sys

LEVEL_ENV = "SAM2_QGIS_LOG_LEVEL"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging() -> None:
    """Send the engine's records (INFO and up by default) to stderr, once per process."""
    logger = logging.getLogger("core")
    if any(getattr(h, "sam2_qgis", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT, "%H:%M:%S"))
    handler.sam2_qgis = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(os.environ.get(LEVEL_ENV, "INFO").upper())
    logger.propagate = False
