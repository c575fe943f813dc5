"""Objects followed across years on the map's timeline: each flight's state shown from its ``date`` to the eve
of the next flight (``until``; the last one open-ended), so that QGIS's Temporal Controller steps through the
years, and each status drawn its own way."""

from __future__ import annotations

from qgis.core import (
    Qgis,
    QgsCategorizedSymbolRenderer,
    QgsFillSymbol,
    QgsRendererCategory,
    QgsVectorLayer,
)

from .i18n import tr

#: status -> (fill, outline) colours: new green, changed orange, gone red and dashed, unchanged a quiet grey
STATUS_STYLE = {
    "new": ("51,160,44,90", "51,160,44,255"),
    "changed": ("255,127,0,90", "255,127,0,255"),
    "gone": ("227,26,28,40", "227,26,28,255"),
    "unchanged": ("160,160,160,50", "90,90,90,255"),
}


def make_time_aware(layer: QgsVectorLayer) -> None:
    """``layer`` (a track's ``objects`` or ``changes``) on the timeline by its ``date`` and ``until`` fields,
    and drawn by ``status``."""
    properties = layer.temporalProperties()
    properties.setMode(Qgis.VectorTemporalMode.FeatureDateTimeStartAndEndFromFields)
    properties.setStartField("date")
    properties.setEndField("until")
    properties.setLimitMode(Qgis.VectorTemporalLimitMode.IncludeBeginExcludeEnd)
    properties.setIsActive(True)
    categories = []
    for status, (fill, outline) in STATUS_STYLE.items():
        style = {"color": fill, "outline_color": outline, "outline_width": "0.5"}
        if status == "gone":
            style["outline_style"] = "dash"
        categories.append(QgsRendererCategory(status, QgsFillSymbol.createSimple(style), tr(status)))
    layer.setRenderer(QgsCategorizedSymbolRenderer("status", categories))
    layer.triggerRepaint()


__all__ = ["STATUS_STYLE", "make_time_aware"]
