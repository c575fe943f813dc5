"""The few names that differ between QGIS 3.22 (Qt 5) and QGIS 4 (Qt 6), in one place: field types (QVariant
before QGIS 3.38, QMetaType since) and QAction (QtWidgets in Qt 5, QtGui in Qt 6). Everything else in the plugin
uses forms both accept (scoped enums; scripts/qt6_forms.py checks)."""

from __future__ import annotations

from typing import Any

from qgis.core import Qgis

try:  # Qt 6
    from qgis.PyQt.QtGui import QAction
except ImportError:  # Qt 5
    from qgis.PyQt.QtWidgets import QAction

FIELD_TYPES = ("string", "double", "int64")


def field_type(kind: str) -> Any:
    """The QgsField type for ``kind`` (one of FIELD_TYPES) that this QGIS takes."""
    if Qgis.versionInt() >= 33800:
        from qgis.PyQt.QtCore import QMetaType

        return {"string": QMetaType.Type.QString, "double": QMetaType.Type.Double, "int64": QMetaType.Type.LongLong}[
            kind
        ]
    from qgis.PyQt.QtCore import QVariant

    return {"string": QVariant.Type.String, "double": QVariant.Type.Double, "int64": QVariant.Type.LongLong}[kind]


__all__ = ["FIELD_TYPES", "QAction", "field_type"]
