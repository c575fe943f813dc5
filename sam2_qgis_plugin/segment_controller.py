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
    from .plugin import Sam2Plugin
    from .tasks import EngineTask


class SegmentController:
    """The map tool while it is on, and the layer accepted segments are written to."""

    def __init__(self, plugin: Sam2Plugin) -> None:
        self.plugin = plugin
        self.tool: SegmentMapTool | None = None
        self.previous_tool: Any = None  # the analyst's map tool before segmenting: given back afterwards

    def toggle_tool(self, active: bool) -> None:
        """The "Segment on the map" button: our map tool on, or the analyst's previous tool back."""
        plugin = self.plugin
        canvas = plugin.iface.mapCanvas()
        if not active:
            if self.tool is not None and canvas.mapTool() is self.tool:
                self._give_back_previous_tool(canvas)
            return
        current = canvas.mapTool()
        if current is not None and current is not self.tool:
            self.previous_tool = current
        self.tool = SegmentMapTool(
            canvas,
            plugin.ensure_session(),
            plugin.raster_layer,
            self.accept,
            plugin.report,
            background=plugin.run_task,
            output_layer=lambda: plugin.dock.segment.output_combo.currentLayer() if plugin.dock else None,
            status=lambda text: plugin.dock.segment.preview_label.setText(text) if plugin.dock else None,
        )
        self.tool.deactivated.connect(self._tool_left)
        canvas.setMapTool(self.tool)

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
        dock = self.plugin.dock
        if dock is not None and dock.segment.segment_button.isChecked():
            dock.segment.segment_button.setChecked(False)

    def remove_tool(self) -> None:
        """On unload: the analyst's previous map tool back if ours is active, and ours gone."""
        if self.tool is None:
            return
        canvas = self.plugin.iface.mapCanvas()
        with contextlib.suppress(TypeError, RuntimeError):
            self.tool.deactivated.disconnect(self._tool_left)
        if canvas.mapTool() is self.tool:
            self._give_back_previous_tool(canvas)
        self.tool.deactivate()
        self.tool = None

    def show_output_destination(self, *_: Any) -> None:
        """Tell the analyst where accepted segments will be written."""
        dock = self.plugin.dock
        if dock is None:
            return
        layer = dock.segment.output_combo.currentLayer()
        dock.segment.offer_classes(class_values(layer))
        if layer is not None:
            text = f"Segments are added to the layer {layer.name()} (as edits: save them, or undo with Ctrl+Z)."
        else:
            path = default_segments_file(self.plugin.outputs_folder())
            verb = "appended to" if path.exists() else "written to a new"
            unsaved = "" if QgsProject.instance().homePath() else " (the project is not saved: your home folder)"
            text = f"Segments are {verb} {path}{unsaved}."
        dock.segment.output_hint.setText(text)

    def accept(self, result: dict[str, Any]) -> None:
        """Write an accepted segment (the worker's ``predict`` result) to the output layer."""
        plugin, dock = self.plugin, self.plugin.dock
        assert dock is not None
        layer = dock.segment.output_combo.currentLayer()
        source_crs = (
            QgsCoordinateReferenceSystem.fromWkt(result["crs"]) if result.get("crs") else plugin.raster_layer().crs()
        )
        try:
            if layer is None:
                layer = open_default_segments(plugin.outputs_folder(), source_crs)
                dock.segment.output_combo.setLayer(layer)
            attributes = SegmentAttributes(
                class_name=dock.segment.class_combo.currentText(),
                score=result.get("score"),
                model=plugin.session.model["model"] if plugin.session and plugin.session.model else "",
                source=plugin.raster_layer().name() if plugin.raster_layer() is not None else "",
                prompt=result.get("prompt", ""),
            )
            count = append_segments(layer, result["polygons"], source_crs, attributes)
        except OutputError as error:
            plugin.report(str(error))
            return
        plugin.iface.messageBar().pushMessage(
            "SAM 2",
            tr("{added} added to {layer} ({file}); Ctrl+Z takes it back, save the layer's edits to keep it").format(
                added=tr("1 object") if count == 1 else tr("{count} polygons").format(count=count),
                layer=layer.name(),
                file=layer.source().split("|")[0],
            ),
            level=Qgis.MessageLevel.Info,
            duration=3,
        )
        self.show_output_destination()

    def encode_visible_extent(self) -> EngineTask | None:
        """Encode the tiles under the visible map extent in the background, so clicks there are instant."""
        plugin = self.plugin
        try:
            layer = check_raster(plugin.raster_layer())
            session = plugin.ensure_session()
        except SessionError as error:
            plugin.report(str(error))
            return None
        canvas = plugin.iface.mapCanvas()
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
                plugin.report(notice)
            plugin.iface.messageBar().pushMessage(
                "SAM 2",
                tr("{encoded} of {tiles} tiles encoded: clicks there are now instant").format(
                    encoded=result["encoded"], tiles=result["tiles"]
                ),
                level=Qgis.MessageLevel.Info,
                duration=4,
            )

        return plugin.run_task("SAM 2: encoding the visible extent", work, done)


__all__ = ["SegmentController"]
