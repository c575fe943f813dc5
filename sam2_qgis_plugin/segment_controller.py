"""Segmenting on the map: the map tool, where accepted segments go, and encoding the visible extent ahead of
clicks. The engine work runs in the long-lived worker (engine.WorkerClient) through the session."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from qgis.core import Qgis, QgsCoordinateReferenceSystem, QgsProject, QgsRectangle

from .i18n import tr
from .maptool import SegmentMapTool
from .output import (
    OutputError,
    SegmentAttributes,
    append_segments,
    class_values,
    default_segments_file,
    open_default_segments,
)
from .session import SessionError, check_raster

if TYPE_CHECKING:
    from collections.abc import Callable

    from .host import Host
    from .panel.segment import SegmentSection
    from .tasks import EngineTask


class SegmentController:
    """The map tool while it is on, and the layer accepted segments are written to."""

    def __init__(self, host: Host, section: Callable[[], SegmentSection | None]) -> None:
        self.host = host
        self.section = section  # the panel's Segment section (None: no panel yet, or gone)
        self.accepted = 0  # objects accepted since QGIS started (each message says what changed)
        self.tool: SegmentMapTool | None = None
        self.previous_tool: Any = None  # the analyst's map tool before segmenting: given back afterwards

    def toggle_tool(self, active: bool) -> None:
        """The "Segment on the map" button: our map tool on, or the analyst's previous tool back."""
        host = self.host
        canvas = host.iface.mapCanvas()
        if not active:
            if self.tool is not None and canvas.mapTool() is self.tool:
                self._give_back_previous_tool(canvas)
            return
        current = canvas.mapTool()
        if current is not None and current is not self.tool:
            self.previous_tool = current
        if self.tool is not None:
            self.tool.close()
        self.tool = SegmentMapTool(
            canvas,
            host.ensure_session(),
            host.raster_layer,
            self.accept,
            host.report,
            background=host.run_task,
            output_layer=self.output_layer,
            status=self.show_preview,
            hover=self.hover_on,
        )
        self.tool.deactivated.connect(self._tool_left)
        canvas.setMapTool(self.tool)

    def hover_on(self) -> bool:
        """Whether the outline under the resting mouse is shown (the panel's choice)."""
        section = self.section()
        return section is not None and section.hover_check.isChecked()

    def output_layer(self) -> Any:
        section = self.section()
        return section.output_combo.currentLayer() if section is not None else None

    def show_preview(self, text: str) -> None:
        section = self.section()
        if section is not None:
            section.preview_label.setText(text)

    def _give_back_previous_tool(self, canvas: Any) -> None:
        try:
            if self.previous_tool is not None:
                canvas.setMapTool(self.previous_tool)
                return
        except RuntimeError:  # the previous tool was deleted meanwhile
            pass
        canvas.unsetMapTool(self.tool)

    def _tool_left(self) -> None:
        """Another map tool was chosen (Pan, say): the button follows."""
        section = self.section()
        if section is not None and section.segment_button.isChecked():
            section.segment_button.setChecked(False)

    def remove_tool(self) -> None:
        """On unload: the analyst's previous map tool back if ours is active, and ours gone."""
        if self.tool is None:
            return
        canvas = self.host.iface.mapCanvas()
        with contextlib.suppress(TypeError, RuntimeError):
            self.tool.deactivated.disconnect(self._tool_left)
        if canvas.mapTool() is self.tool:
            self._give_back_previous_tool(canvas)
        self.tool.deactivate()
        self.tool.close()
        self.tool = None

    def show_output_destination(self, *_: Any) -> None:
        """Tell the analyst where accepted segments will be written."""
        section = self.section()
        if section is None:
            return
        layer = section.output_combo.currentLayer()
        section.offer_classes(class_values(layer))
        if layer is not None:
            text = f"Segments are added to the layer {layer.name()} (as edits: save them, or undo with Ctrl+Z)."
        else:
            path = default_segments_file(self.host.outputs_folder())
            verb = "appended to" if path.exists() else "written to a new"
            unsaved = "" if QgsProject.instance().homePath() else " (the project is not saved: your home folder)"
            text = f"Segments are {verb} {path}{unsaved}."
        section.output_hint.setText(text)

    def accept(self, result: dict[str, Any]) -> None:
        """Write an accepted segment (the worker's ``predict`` result) to the output layer."""
        host, section = self.host, self.section()
        assert section is not None
        layer = section.output_combo.currentLayer()
        source_crs = (
            QgsCoordinateReferenceSystem.fromWkt(result["crs"]) if result.get("crs") else host.raster_layer().crs()
        )
        try:
            if layer is None:
                layer = open_default_segments(host.outputs_folder(), source_crs)
                section.output_combo.setLayer(layer)
            attributes = SegmentAttributes(
                class_name=section.class_name(),
                score=result.get("score"),
                model=host.session.model["model"] if host.session and host.session.model else "",
                source=host.raster_layer().name() if host.raster_layer() is not None else "",
                prompt=result.get("prompt", ""),
            )
            count = append_segments(layer, result["polygons"], source_crs, attributes)
        except OutputError as error:
            host.report(str(error))
            return
        self.accepted += 1
        host.iface.messageBar().pushMessage("SAM 2", accepted_message(layer, count, self.accepted),
                                            level=Qgis.MessageLevel.Info, duration=3)  # fmt: skip
        self.show_output_destination()

    def encode_visible_extent(self) -> EngineTask | None:
        """Encode the tiles under the visible map extent in the background, so clicks there are instant."""
        host = self.host
        try:
            layer = check_raster(host.raster_layer())
            session = host.ensure_session()
        except SessionError as error:
            host.report(str(error))
            return None
        canvas = host.iface.mapCanvas()
        extent = canvas.extent()
        crs = canvas.mapSettings().destinationCrs()
        crs_wkt = crs.toWkt()
        session.view = (QgsRectangle(extent), canvas.mapUnitsPerPixel())

        def work(task: EngineTask) -> dict[str, Any]:
            raster_id = session.raster_id(layer, crs, extent)
            return session.client.request(
                "encode_extent",
                {
                    "raster_id": raster_id,
                    "crs": crs_wkt,
                    "extent": [extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum()],
                },
                on_event=lambda event: task.setProgress(100 * float(event.get("fraction", 0))),
            )

        def done(result: dict[str, Any]) -> None:
            notice = session.take_restart_notice()
            if notice:
                host.report(notice)
            host.iface.messageBar().pushMessage(
                "SAM 2",
                tr("{encoded} of {tiles} tiles encoded: clicks there are now instant").format(
                    encoded=result["encoded"], tiles=result["tiles"]
                ),
                level=Qgis.MessageLevel.Info,
                duration=4,
            )

        return host.run_task("SAM 2: encoding the visible extent", work, done)


__all__ = ["SegmentController"]


def accepted_message(layer: Any, polygons: int, accepted: int) -> str:
    """What an accept changed, in words that differ each time (QGIS shows a repeated message only once): the
    object added, where (the layer's name, and its file unless it is a memory layer), and how many objects were
    accepted since QGIS started."""
    where = layer.name()
    if layer.providerType() != "memory":
        where = tr("{layer} ({file})").format(layer=where, file=layer.source().split("|")[0])
    added = tr("1 object") if polygons == 1 else tr("1 object in {count} polygons").format(count=polygons)
    return tr(
        "{added} added to {where}: {accepted} since QGIS started. Ctrl+Z takes it back; save the layer's edits to "
        "keep it"
    ).format(
        added=added,
        where=where,
        accepted=tr("1 object") if accepted == 1 else tr("{count} objects").format(count=accepted),
    )
