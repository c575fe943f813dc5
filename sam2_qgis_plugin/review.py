"""Reviewing the candidates of *Find the rest*: one at a time, accept (it joins the label layer as an object) or
reject (it joins as background, so the next round learns it is not one); keys on the map while reviewing.

The candidates live in a memory layer (``status``: candidate, accepted or rejected; drawn by status). Decisions
go into the label layer's edit buffer, one undoable edit each; nothing the analyst drew is changed. A candidate's
status follows the edit buffer: undo a decision (Ctrl+Z here, QGIS's Edit > Undo or its Undo panel) or roll the
edits back and it is a candidate again, redo it and it is decided again; saved edits keep their decisions.
Keys: A or Enter accept, R or Delete reject, N or Space next, P or Backspace previous.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qgis.core import (
    QgsCategorizedSymbolRenderer,
    QgsFeature,
    QgsFillSymbol,
    QgsGeometry,
    QgsRendererCategory,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.gui import QgsMapTool
from qgis.PyQt.QtCore import QEvent, QObject, Qt, pyqtSignal
from qgis.PyQt.QtGui import QKeyEvent, QKeySequence

from .i18n import tr
from .output import OutputError, is_background

STATUS_STYLE = {  # status -> (outline colour, fill, line style)
    "candidate": ("255,200,0", "255,200,0,40", "dash"),
    "accepted": ("0,170,60", "0,170,60,60", "solid"),
    "rejected": ("140,140,140", "0,0,0,0", "dot"),
}


def candidates_layer(path: Path, name: str = "SAM 2 candidates") -> QgsVectorLayer:
    """The candidates of ``path`` (core.workflows.find's candidates.gpkg) copied into a memory layer styled by
    status, so that the next round can rewrite the file while this layer is shown."""
    source = QgsVectorLayer(f"{path}|layername=candidates", "candidates", "ogr")
    if not source.isValid():
        raise OutputError(tr("cannot read the candidates in {path}").format(path=path))
    kind = QgsWkbTypes.displayString(source.wkbType())
    layer = QgsVectorLayer(f"{kind}?crs={source.crs().authid()}", name, "memory")
    if not source.crs().authid():
        layer.setCrs(source.crs())
    layer.dataProvider().addAttributes(source.fields().toList())
    layer.updateFields()
    features = []
    for feature in source.getFeatures():
        copy = QgsFeature(layer.fields())
        copy.setGeometry(feature.geometry())
        for field in source.fields().names():
            copy[field] = feature[field]
        features.append(copy)
    layer.dataProvider().addFeatures(features)
    categories = []
    for status, (outline, fill, line) in STATUS_STYLE.items():
        symbol = QgsFillSymbol.createSimple(
            {"color": fill, "outline_color": outline, "outline_width": "0.8", "outline_style": line}
        )
        categories.append(QgsRendererCategory(status, symbol, tr(status)))
    layer.setRenderer(QgsCategorizedSymbolRenderer("status", categories))
    return layer


@dataclass(frozen=True)
class Decision:
    """A candidate added to the label layer: the undo command that added it and its place in the undo stack."""

    fid: int  # the candidate's feature id in the review layer
    status: str  # accepted or rejected
    command: str  # the undo command's text
    index: int  # the undo stack's index once the command was pushed (the command is at index - 1)


@dataclass
class LabelTarget:
    """Where decisions go: the label layer, its class field, and the values an object and background get."""

    layer: QgsVectorLayer
    field: str
    object_value: Any
    background_value: Any


def label_target(layer: QgsVectorLayer, class_field: str | None) -> LabelTarget:
    """The class field decisions are written to (the one chosen, else ``class``) and its values: an object gets
    the examples' most common class, background 0 (number fields) or "background"; a layer without a class field
    is refused with what to do."""
    names = layer.fields().names()
    field = class_field if class_field in names else ("class" if "class" in names else None)
    if field is None:
        raise OutputError(
            tr(
                "{layer} has no class field to mark rejected candidates as background: add a text field 'class' "
                "to it (or choose its class field in the panel)"
            ).format(layer=layer.name())
        )
    numeric = layer.fields().field(field).isNumeric()
    values = Counter(f[field] for f in layer.getFeatures() if f[field] is not None and not is_background(f[field]))
    values.pop(None, None)
    common = values.most_common(1)[0][0] if values else (1 if numeric else "object")
    return LabelTarget(layer, field, common, 0 if numeric else "background")


class CandidateReview(QObject):
    """One round's candidates and the analyst's way through them (best score first)."""

    changed = pyqtSignal()  # the current candidate or a decision changed

    def __init__(self, candidates: QgsVectorLayer, target: LabelTarget, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.candidates, self.target = candidates, target
        ids = [(f["candidate_id"], f.id()) for f in candidates.getFeatures()]
        self.ids = [fid for _, fid in sorted(ids)]
        self.index = 0
        self.decisions: list[Decision] = []  # unsaved decisions, oldest first
        self.saving: list[Decision] = []  # the decisions in effect while the edits are being saved
        layer = target.layer
        layer.undoStack().indexChanged.connect(self.follow_undo_stack)
        layer.beforeCommitChanges.connect(self.saving_edits)

    def close(self) -> None:
        """Stop following the label layer (the review is over, or one of its layers is going)."""
        layer = self.target.layer
        with contextlib.suppress(TypeError, RuntimeError):  # RuntimeError: the layer is already deleted
            layer.undoStack().indexChanged.disconnect(self.follow_undo_stack)
            layer.beforeCommitChanges.disconnect(self.saving_edits)

    def current(self) -> QgsFeature | None:
        return self.candidates.getFeature(self.ids[self.index]) if self.ids else None

    def move(self, step: int) -> None:
        if self.ids:
            self.index = (self.index + step) % len(self.ids)
            self.changed.emit()

    def accept(self) -> None:
        self._decide("accepted", self.target.object_value)

    def reject(self) -> None:
        self._decide("rejected", self.target.background_value)

    def _decide(self, status: str, value: Any) -> None:
        """Add the current candidate to the label layer (one undoable edit) and move on to the next undecided one;
        a candidate already decided is left as it is (undo takes a decision back)."""
        feature = self.current()
        if feature is None or feature["status"] != "candidate":
            return
        layer = self.target.layer
        geometry = QgsGeometry(feature.geometry())
        if self.candidates.crs() != layer.crs():
            from qgis.core import QgsCoordinateTransform, QgsProject

            geometry.transform(QgsCoordinateTransform(self.candidates.crs(), layer.crs(), QgsProject.instance()))
        if not QgsWkbTypes.isMultiType(layer.wkbType()) and geometry.isMultipart():
            geometry.convertToSingleType()
        label = QgsFeature(layer.fields())
        label.setGeometry(geometry)
        label[self.target.field] = value
        if not layer.isEditable() and not layer.startEditing():
            raise OutputError(tr("cannot start editing {layer}: is it read-only?").format(layer=layer.name()))
        command = f"SAM 2: {status} candidate {feature['candidate_id']}"
        layer.beginEditCommand(command)
        if not layer.addFeature(label):
            layer.destroyEditCommand()
            raise OutputError(tr("could not add the candidate to {layer}").format(layer=layer.name()))
        layer.endEditCommand()
        layer.triggerRepaint()
        self.decisions.append(Decision(feature.id(), status, command, layer.undoStack().index()))
        self._set_status(feature.id(), status)
        self.next_undecided()

    def next_undecided(self) -> None:
        """Move to the next candidate not decided yet (after the current one, wrapping); stay when none is left."""
        for step in range(1, len(self.ids) + 1):
            position = (self.index + step) % len(self.ids)
            if self.candidates.getFeature(self.ids[position])["status"] == "candidate":
                self.index = position
                break
        self.changed.emit()

    def _set_status(self, fid: int, status: str) -> None:
        field = self.candidates.fields().indexOf("status")
        if self.candidates.getFeature(fid)["status"] != status:
            self.candidates.dataProvider().changeAttributeValues({fid: {field: status}})
            self.candidates.triggerRepaint()

    def in_effect(self, decision: Decision) -> bool:
        """Whether ``decision``'s edit is in the label layer's edit buffer now (not undone, not rolled back)."""
        stack = self.target.layer.undoStack()
        command = stack.command(decision.index - 1) if 0 < decision.index <= stack.count() else None
        return command is not None and command.text() == decision.command and decision.index <= stack.index()

    def follow_undo_stack(self, *_: Any) -> None:
        """Statuses as the edit buffer has them, after any undo, redo or rollback. A decision whose edit can no
        longer be redone (another edit took its place, or the edits were rolled back) is forgotten, its candidate
        a candidate; one whose edit was saved is forgotten too, decided for good (saving clears the undo stack)."""
        stack = self.target.layer.undoStack()
        saved, self.saving = (self.saving if stack.count() == 0 else []), []
        for decision in list(self.decisions):
            if decision in saved:
                self.decisions.remove(decision)
                continue
            self._set_status(decision.fid, decision.status if self.in_effect(decision) else "candidate")
            command = stack.command(decision.index - 1) if 0 < decision.index <= stack.count() else None
            if command is None or command.text() != decision.command:
                self.decisions.remove(decision)
        self.changed.emit()

    def saving_edits(self, *_: Any) -> None:
        """The label layer's edits are about to be saved: the decisions in effect now are kept when the undo stack
        is cleared after (a save that fails clears nothing, and the next undo or redo forgets this)."""
        self.saving = [decision for decision in self.decisions if self.in_effect(decision)]

    def undo(self) -> bool:
        """Take back the label layer's last edit (as QGIS's undo would); when it was a decision of this review, its
        candidate (a candidate again) becomes the current one. False when there is nothing to undo."""
        layer = self.target.layer
        stack = layer.undoStack() if layer.isEditable() else None
        if stack is None or not stack.canUndo():
            return False
        last = [decision for decision in self.decisions if decision.index == stack.index() and self.in_effect(decision)]
        stack.undo()  # statuses follow through follow_undo_stack
        layer.triggerRepaint()
        if last:
            self.index = self.ids.index(last[0].fid)
            self.changed.emit()
        return True

    def decided(self) -> Counter[str]:
        """How many candidates are accepted and rejected now."""
        return Counter(str(f["status"]) for f in self.candidates.getFeatures())

    def describe(self) -> str:
        feature = self.current()
        if feature is None:
            return tr("No candidates: everything found is already labelled, or nothing was found")
        decided = self.decided()
        return tr(
            "Candidate {n} of {count} · score {score:.2f} · {status} · accepted {accepted}, rejected {rejected}"
        ).format(
            n=self.index + 1,
            count=len(self.ids),
            score=float(feature["score"] or 0.0),
            status=tr(str(feature["status"])),
            accepted=decided["accepted"],
            rejected=decided["rejected"],
        )


class ReviewTool(QgsMapTool):
    """The map tool while reviewing: keys decide and move; a click on a candidate makes it the current one;
    Ctrl+Z takes back the label layer's last edit."""

    def __init__(self, canvas: Any, review: CandidateReview) -> None:
        super().__init__(canvas)
        self.review = review
        canvas.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        """Claim Ctrl+Z on the canvas while this tool is active (else QGIS's Edit > Undo takes it)."""
        overriding = event.type() == QEvent.Type.ShortcutOverride and self.canvas().mapTool() is self
        if overriding and event.matches(QKeySequence.StandardKey.Undo):
            event.accept()
            return True
        return False

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key = event.key()
        if event.matches(QKeySequence.StandardKey.Undo):
            self.undo()
        elif key in (Qt.Key.Key_A, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.review.accept()
        elif key in (Qt.Key.Key_R, Qt.Key.Key_Delete):
            self.review.reject()
        elif key in (Qt.Key.Key_N, Qt.Key.Key_Space):
            self.review.move(1)
        elif key in (Qt.Key.Key_P, Qt.Key.Key_Backspace):
            self.review.move(-1)
        else:
            event.ignore()

    def undo(self) -> None:
        self.review.undo()

    def canvasReleaseEvent(self, event: Any) -> None:  # noqa: N802
        point = self.toLayerCoordinates(self.review.candidates, event.mapPoint())
        hit = QgsGeometry.fromPointXY(point)
        for position, fid in enumerate(self.review.ids):
            if self.review.candidates.getFeature(fid).geometry().intersects(hit):
                self.review.index = position
                self.review.changed.emit()
                return
