"""The click-to-segment map tool: left click adds a foreground point, right click (or Shift+click) a
background point, a drag draws a box; the mask preview follows each prompt. Esc clears, Enter accepts the
preview into the output layer's edit buffer. With the hover preview on, the outline a click would give follows
the resting mouse (hover.py), and a click there takes it without asking the engine again.

Ctrl+Z belongs to the tool while it is active: it takes back the last prompt while there are prompts, else the
last edit of the output layer (an accepted segment); Ctrl+Shift+Z redoes that edit. QGIS's own Edit > Undo
(also Ctrl+Z) would undo the *active* layer's last edit, perhaps another layer's, and leave the prompts alone:
the tool claims the shortcut on the canvas (``ShortcutOverride``) so that one key press does one thing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsDistanceArea,
    QgsGeometry,
    QgsPointXY,
    QgsProject,
    QgsRectangle,
    QgsUnitTypes,
    QgsWkbTypes,
)
from qgis.gui import QgsMapCanvas, QgsMapMouseEvent, QgsMapTool, QgsRubberBand
from qgis.PyQt.QtCore import QEvent, QObject, QPoint, Qt, QTimer
from qgis.PyQt.QtGui import QColor, QKeyEvent, QKeySequence

from .engine import EngineError
from .hover import HoverRequests
from .i18n import tr
from .output import geometry_from_mapping
from .session import SegmentSession, SessionError, check_raster

DRAG_PIXELS = 6
REST_MS = 30  # the mouse is resting when it has not moved for this long: ask for the outline under it
SAME_PLACE_PIXELS = 2  # a click this close to the hovered point takes the hover's outline


class SegmentMapTool(QgsMapTool):
    """Prompts on ``raster_layer()`` (a callable, so the dock's choice is always current)."""

    def __init__(
        self,
        canvas: QgsMapCanvas,
        session: SegmentSession,
        raster_layer: Callable[[], object],
        accept: Callable[[dict], None],
        report: Callable[[str, bool], None],
        background: Callable[..., object] | None = None,
        output_layer: Callable[[], Any] = lambda: None,
        status: Callable[[str], None] = lambda text: None,
        hover: Callable[[], bool] = lambda: False,
    ) -> None:
        super().__init__(canvas)
        self.session, self.raster_layer, self.accept_result, self.report = session, raster_layer, accept, report
        self.output_layer = output_layer  # the layer accepted segments go to (None: not chosen yet)
        self.status = status  # shows a line about the preview (score, area) in the panel
        # background(description, work(task), on_done(result)): encodes new tiles off the GUI thread, with progress
        self.background = background
        self.preview = QgsRubberBand(canvas, QgsWkbTypes.GeometryType.PolygonGeometry)
        self.preview.setColor(QColor(255, 200, 0, 90))
        self.preview.setStrokeColor(QColor(255, 140, 0))
        self.preview.setWidth(2)
        self.object_markers = point_markers(canvas, QColor(0, 170, 70), QgsRubberBand.IconType.ICON_CIRCLE)
        self.background_markers = point_markers(canvas, QColor(220, 30, 30), QgsRubberBand.IconType.ICON_X)
        # the box being dragged, then the prompt's
        self.box_band = QgsRubberBand(canvas, QgsWkbTypes.GeometryType.PolygonGeometry)
        self.box_band.setColor(QColor(0, 0, 0, 0))
        self.box_band.setStrokeColor(QColor(0, 170, 70))
        self.box_band.setLineStyle(Qt.PenStyle.DashLine)
        self.box_band.setWidth(2)
        self._press: QgsPointXY | None = None
        self._press_pixel = None
        # the hover preview: whether it is on, the outline under the resting mouse, and its requests
        self.hover_enabled = hover
        self.hover_band = QgsRubberBand(canvas, QgsWkbTypes.GeometryType.PolygonGeometry)
        self.hover_band.setColor(QColor(0, 190, 255, 50))  # apart from the preview's orange; solid and thin: a
        self.hover_band.setStrokeColor(QColor(0, 150, 230))  # wide or dashed outline of many vertices paints slowly
        self.hover_band.setWidth(1)  # a cosmetic pen: the fast path of Qt's painter
        self.hovers = HoverRequests(lambda params: self.session.hover(params))
        self.hovers.answered.connect(self.show_hover)
        self.rest = QTimer(self)
        self.rest.setSingleShot(True)
        self.rest.setInterval(REST_MS)
        self.rest.timeout.connect(self.ask_hover)
        self.hover_seq = 0
        self._resting: tuple[QgsPointXY, QPoint] | None = None  # where the mouse rests (map point, pixel)
        self._asked: tuple[int, QgsPointXY, QPoint, int] | None = None  # the newest hover: seq, where, history length
        self.hovered: tuple[QgsPointXY, QPoint, int, dict] | None = None  # the outline shown: where, history, result
        self.encoding: set[tuple[int, ...]] = set()  # windows being encoded for the hover
        self.clicks_from_hover = 0  # clicks that took the hover's outline (no second decode)

    # -- mouse and keys -----------------------------------------------------------------------------------

    def canvasPressEvent(self, event: QgsMapMouseEvent) -> None:  # noqa: N802
        self._press, self._press_pixel = event.mapPoint(), event.pos()

    def canvasMoveEvent(self, event: QgsMapMouseEvent) -> None:  # noqa: N802
        """While a box is dragged, draw it; otherwise wait for the mouse to rest (the hover preview)."""
        if self._press is None or self._press_pixel is None:
            if self.hover_enabled():
                self._resting = (event.mapPoint(), event.pos())
                self.rest.start()
            return
        if (event.pos() - self._press_pixel).manhattanLength() > DRAG_PIXELS:
            self.box_band.setToGeometry(QgsGeometry.fromRect(QgsRectangle(self._press, event.mapPoint())), None)

    def canvasReleaseEvent(self, event: QgsMapMouseEvent) -> None:  # noqa: N802
        if self._press is None:
            return
        start, self._press = self._press, None
        moved = (event.pos() - self._press_pixel).manhattanLength() if self._press_pixel is not None else 0
        if moved > DRAG_PIXELS and event.button() == Qt.MouseButton.LeftButton:
            self.session.set_box(QgsRectangle(start, event.mapPoint()))
        elif self.take_hover(event):
            return
        else:
            background = event.button() == Qt.MouseButton.RightButton or bool(
                event.modifiers() & Qt.KeyboardModifier.ShiftModifier
            )
            self.session.add_point(event.mapPoint(), 0 if background else 1)
        self.refresh()

    def activate(self) -> None:
        self.canvas().installEventFilter(self)
        super().activate()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        """Claim Ctrl+Z and Ctrl+Shift+Z on the canvas (else QGIS's Edit > Undo takes them); the mouse leaving
        the map clears the hover's outline."""
        if event.type() == QEvent.Type.ShortcutOverride and is_undo_or_redo(event):
            event.accept()
            return True
        if event.type() == QEvent.Type.Leave:
            self.clear_hover()
        return False

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.matches(QKeySequence.StandardKey.Redo):
            self.redo_accepted()
        elif event.matches(QKeySequence.StandardKey.Undo):
            if self.session.prompt.points or self.session.prompt.box is not None:
                self.session.undo()
                self.refresh()
            else:
                self.undo_accepted()
        elif event.key() == Qt.Key.Key_Escape:
            self.session.clear()
            self.refresh()
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.accept()
        else:
            event.ignore()

    # -- actions ------------------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Show the current prompts' mask: the tile is encoded first in a background task (instant when it is
        already cached), then the engine predicts on the GUI thread, which takes tens of milliseconds."""
        if self.background is None or (not self.session.prompt.points and self.session.prompt.box is None):
            self.show_prediction()
            return
        try:
            layer = check_raster(self.raster_layer())
        except SessionError as error:
            self.report(str(error), True)
            return
        crs = self.canvas().mapSettings().destinationCrs()
        self.remember_view()
        self.background(
            "SAM 2: encoding the tile under the cursor",
            lambda task: self.session.prepare(layer, crs, task.setProgress),
            lambda _: self.show_prediction(),
        )

    def remember_view(self) -> None:
        """Tell the session what the map shows (a web layer is rendered over it for the first click there)."""
        self.session.view = (QgsRectangle(self.canvas().extent()), self.canvas().mapUnitsPerPixel())

    def show_prediction(self) -> None:
        """Ask the engine for the current prompts' mask and show it."""
        self.preview.reset(QgsWkbTypes.GeometryType.PolygonGeometry)
        self.remember_view()
        self.show_prompts()
        try:
            layer = check_raster(self.raster_layer())
            result = self.session.predict(layer, self.canvas().mapSettings().destinationCrs())
        except (SessionError, EngineError) as error:
            self.report(str(error), isinstance(error, SessionError) or getattr(error, "expected", True))
            return
        finally:
            notice = self.session.take_restart_notice()  # also a restart in the encoding task before this
            if notice:
                self.report(notice, True)
        if not result:
            self.status("")
            return
        self.show_result(result, layer)

    def show_result(self, result: dict, layer: Any) -> None:
        """Draw the engine's polygons as the preview and say their area and score."""
        if result.get("crs"):
            crs = QgsCoordinateReferenceSystem.fromWkt(result["crs"])
        else:  # a raster without a CRS: the polygons are in its pixel coordinates
            crs = layer.crs() if layer is not None else QgsCoordinateReferenceSystem()
        parts = [geometry_from_mapping(polygon) for polygon in result["polygons"]]
        for geometry in parts:
            self.preview.addGeometry(geometry, crs)
        self.status(preview_summary(parts, crs, result.get("score")))

    def show_prompts(self) -> None:
        """Object clicks as green circles, background clicks as red crosses, the box as a dashed rectangle."""
        prompt = self.session.prompt
        self.object_markers.reset(QgsWkbTypes.GeometryType.PointGeometry)
        self.background_markers.reset(QgsWkbTypes.GeometryType.PointGeometry)
        for point, label in zip(prompt.points, prompt.labels, strict=False):
            (self.object_markers if label else self.background_markers).addPoint(point)
        self.box_band.reset(QgsWkbTypes.GeometryType.PolygonGeometry)
        if prompt.box is not None:
            self.box_band.setToGeometry(QgsGeometry.fromRect(prompt.box), None)

    def accept(self) -> None:
        if self.session.result and self.session.result.get("polygons"):
            self.accept_result({**self.session.result, "prompt": self.session.prompt.summary()})
        self.session.clear()
        self.refresh()

    def undo_accepted(self) -> None:
        """Take back the output layer's last edit (the last accepted segment), as QGIS's undo would."""
        layer = self.output_layer()
        stack = layer.undoStack() if layer is not None and layer.isEditable() else None
        if stack is None or not stack.canUndo():
            self.report(tr("nothing to undo: no prompts, and no unsaved accepted segments"), True)
            return
        stack.undo()
        layer.triggerRepaint()

    def redo_accepted(self) -> None:
        layer = self.output_layer()
        stack = layer.undoStack() if layer is not None and layer.isEditable() else None
        if stack is not None and stack.canRedo():
            stack.redo()
            layer.triggerRepaint()

    # -- the hover preview ----------------------------------------------------------------------------------

    def ask_hover(self) -> None:
        """The mouse rests: ask for the outline a click here would give (on the GUI thread only the request is
        made; the engine answers in hover.py's thread)."""
        if self._resting is None or not self.hover_enabled():
            return
        point, pixel = self._resting
        try:
            layer = check_raster(self.raster_layer())
        except SessionError:
            return
        params = self.session.hover_params(layer, self.canvas().mapSettings().destinationCrs(), point)
        if params is None:  # no model or raster opened yet: the first click does it
            return
        self.hover_seq += 1
        self._asked = (self.hover_seq, point, pixel, len(self.session.history))
        settings = self.canvas().mapSettings()
        self.hovers.ask(self.hover_seq, params, outline_in(settings.destinationCrs(), settings.mapUnitsPerPixel()))

    def show_hover(self, seq: int, answer: tuple[dict, Any] | None) -> None:
        """The engine's answer for hover ``seq`` and its outline (in the map's CRS): drawn if it is still the newest
        and the prompts did not change; on a tile not encoded yet, the tile is encoded in the background and the
        panel says so."""
        if self._asked is None or seq != self._asked[0] or answer is None or answer[0].get("superseded"):
            return
        result, outline = answer
        _, point, pixel, history = self._asked
        if history != len(self.session.history):
            return  # a click came in between: its own preview is shown
        if not result.get("encoded", True):
            self.hovered = None
            self.hover_band.reset(QgsWkbTypes.GeometryType.PolygonGeometry)
            self.encode_for_hover(tuple(result.get("window", [])))
            return
        if outline is not None:  # made in the hover thread, in the map's CRS: no parsing or reprojecting here
            self.hover_band.setToGeometry(outline, None)
            self.status(tr("Under the cursor: score {score:.2f}; click to take this outline").format(
                score=result.get("score") or 0.0
            ))  # fmt: skip
        else:
            self.hover_band.reset(QgsWkbTypes.GeometryType.PolygonGeometry)
            self.status(tr("Under the cursor: nothing (no object here)"))
        self.hovered = (point, pixel, history, result)

    def encode_for_hover(self, window: tuple[int, ...]) -> None:
        """Encode the tile under the resting mouse in the background (once); its outline follows when ready."""
        if self.background is None or window in self.encoding or self._resting is None:
            return
        try:
            layer = check_raster(self.raster_layer())
        except SessionError:
            return
        params = self.session.hover_params(layer, self.canvas().mapSettings().destinationCrs(), self._resting[0])
        if params is None:
            return
        self.encoding.add(window)
        self.status(tr("Encoding the tile under the cursor... the outline follows the mouse once it is ready"))

        def done(_: object) -> None:
            self.encoding.discard(window)
            self.status("")
            self.ask_hover()

        self.background("SAM 2: encoding the tile under the cursor", lambda task: self.session.encode_for(params), done)

    def take_hover(self, event: QgsMapMouseEvent) -> bool:
        """A plain left click where the hover's outline is shown takes it (no second decode); False otherwise."""
        if (
            self.hovered is None
            or event.button() != Qt.MouseButton.LeftButton
            or event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        ):
            return False
        point, pixel, history, result = self.hovered
        if history != len(self.session.history) or (event.pos() - pixel).manhattanLength() > SAME_PLACE_PIXELS:
            return False
        self.session.take_hover(point, result)
        self.clicks_from_hover += 1
        self.clear_hover()
        self.preview.reset(QgsWkbTypes.GeometryType.PolygonGeometry)
        self.show_prompts()
        self.show_result(result, None)
        return True

    def close(self) -> None:
        """The tool is done with (replaced or the plugin unloaded): its hover thread ends."""
        self.clear_hover()
        self.hovers.stop()

    def clear_hover(self) -> None:
        self.rest.stop()
        self._resting = None
        self.hovered = None
        self.hover_band.reset(QgsWkbTypes.GeometryType.PolygonGeometry)

    def deactivate(self) -> None:
        self.clear_hover()
        self.canvas().removeEventFilter(self)
        self.preview.reset(QgsWkbTypes.GeometryType.PolygonGeometry)
        for band in (self.object_markers, self.background_markers):
            band.reset(QgsWkbTypes.GeometryType.PointGeometry)
        self.box_band.reset(QgsWkbTypes.GeometryType.PolygonGeometry)
        super().deactivate()


def preview_summary(parts: list[QgsGeometry], crs: QgsCoordinateReferenceSystem, score: float | None) -> str:
    """``Preview: 23.4 m² in 2 parts, score 0.87``: the object's area on the ellipsoid and SAM's own estimate of
    its IoU."""
    if not parts:
        return "Preview: nothing here (add a click on the object, or move it)"
    measure = QgsDistanceArea()
    measure.setSourceCrs(crs, QgsProject.instance().transformContext())
    measure.setEllipsoid(crs.ellipsoidAcronym() or "EPSG:7030")
    area = sum(measure.measureArea(part) for part in parts)
    square_metres = measure.convertAreaMeasurement(area, QgsUnitTypes.AreaUnit.AreaSquareMeters)
    shown = f"{square_metres / 10_000:.2f} ha" if square_metres >= 10_000 else f"{square_metres:.1f} m²"
    pieces = f" in {len(parts)} parts" if len(parts) > 1 else ""
    scored = f", score {score:.2f}" if score is not None else ""
    return f"Preview: {shown}{pieces}{scored}"


def outline_in(target: QgsCoordinateReferenceSystem, screen_pixel: float = 0.0) -> Callable[[dict], QgsGeometry]:
    """A function (for the hover thread) from the engine's answer to one geometry in ``target`` (the map's CRS),
    to draw: simplified within half of ``screen_pixel`` (map units per screen pixel), which the eye cannot see and
    which spares the map's thread painting thousands of vertices. A click takes the engine's exact polygons."""
    context = QgsProject.instance().transformContext()

    def outline(result: dict) -> QgsGeometry:
        geometry = QgsGeometry.collectGeometry([geometry_from_mapping(p) for p in result["polygons"]])
        source = QgsCoordinateReferenceSystem.fromWkt(result.get("crs") or "")
        if source.isValid() and target.isValid() and source != target:
            geometry.transform(QgsCoordinateTransform(source, target, context))
        if screen_pixel > 0:
            simpler = geometry.simplify(screen_pixel / 2)
            geometry = simpler if not simpler.isEmpty() else geometry
        return geometry

    return outline


def point_markers(canvas: QgsMapCanvas, colour: QColor, icon: int) -> QgsRubberBand:
    """A rubber band that draws points as ``icon`` in ``colour``."""
    band = QgsRubberBand(canvas, QgsWkbTypes.GeometryType.PointGeometry)
    band.setColor(colour)
    band.setIcon(icon)
    band.setIconSize(10)
    band.setWidth(2)
    return band


def is_undo_or_redo(event: QEvent) -> bool:
    """Whether a key event is the platform's undo or redo shortcut."""
    return isinstance(event, QKeyEvent) and (
        event.matches(QKeySequence.StandardKey.Undo) or event.matches(QKeySequence.StandardKey.Redo)
    )
