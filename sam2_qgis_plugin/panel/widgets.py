"""Small helpers every section uses: form rows, Qt5/Qt6 enum names, fitting the dock's width, and keeping a
widget's choice across QGIS sessions."""

from __future__ import annotations

from qgis.gui import QgsMapLayerComboBox
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from ..i18n import translatable
from ..settings import PANEL

#: Where a job looks: the key (kept in the settings, read by the jobs) and the label the analyst reads.
EXTENTS = {
    "whole raster": translatable("whole raster"),
    "visible map extent": translatable("visible map extent"),
    "AOI layer": translatable("AOI layer"),
}


def scoped(owner: type, scope: str, name: str) -> object:
    """A Qt enum value by its scoped name (Qt6) or its unscoped one (Qt5)."""
    return getattr(getattr(owner, scope, owner), name)


def in_own_window(widget: QWidget, body: QWidget) -> bool:
    """Whether ``widget`` is drawn in ``body``'s window, not in a window of its own below it (Settings...)."""
    while widget is not None and widget is not body:
        if widget.isWindow():
            return False
        widget = widget.parentWidget()
    return True


def fit_narrow(body: QWidget) -> None:
    """Let the panel fit QGIS's default dock width: long form rows wrap their field under the label, and combo
    boxes stop asking for the width of their longest entry (a layer name, a path). Windows opened from the panel
    (Settings...) keep their own layout: a wrapped form row there gives a word-wrapped label too few lines."""
    for form in body.findChildren(QFormLayout):
        if in_own_window(form.parentWidget(), body):
            form.setRowWrapPolicy(scoped(QFormLayout, "RowWrapPolicy", "WrapLongRows"))
    for combo in body.findChildren(QComboBox):
        if in_own_window(combo, body):
            combo.setSizeAdjustPolicy(scoped(QComboBox, "SizeAdjustPolicy", "AdjustToMinimumContentsLengthWithIcon"))
            combo.setMinimumContentsLength(4)
    for label in body.findChildren(QLabel):
        if label.wordWrap() and in_own_window(label, body):  # status texts: wrap at spaces in the width there is
            label.setMinimumWidth(80)


def combo_value(combo: QComboBox) -> str:
    """What a combo box's choice is kept as: its item's data (a key) or, without, its text."""
    data = combo.currentData()
    return str(data) if data is not None else combo.currentText()


def widget_and_button(widget: QWidget, button: QPushButton) -> QHBoxLayout:
    """A form row: ``widget`` taking the width, ``button`` beside it."""
    row = QHBoxLayout()
    row.addWidget(widget, 1)
    row.addWidget(button)
    return row


def polygon_layer_combo(parent: QWidget) -> QgsMapLayerComboBox:
    """A polygon layer chooser that starts empty: a layer is chosen, never guessed (the first one is often our
    own output)."""
    from qgis.core import QgsMapLayerProxyModel

    combo = QgsMapLayerComboBox(parent)
    combo.setFilters(QgsMapLayerProxyModel.Filter.PolygonLayer)
    combo.setAllowEmptyLayer(True)
    combo.setLayer(None)
    return combo


def keep_choice(name: str, widget: QWidget) -> None:
    """Restore ``widget``'s choice kept as ``name`` (QgsSettings ``sam2_qgis/panel/<name>``), and keep it as it
    changes."""
    saved = PANEL.value(name)
    if isinstance(widget, QSpinBox):
        if saved is not None:
            widget.setValue(int(saved))
        widget.valueChanged.connect(lambda value: PANEL.set_value(name, value))
    elif isinstance(widget, QDoubleSpinBox):
        if saved is not None:
            widget.setValue(float(saved))
        widget.valueChanged.connect(lambda value: PANEL.set_value(name, value))
    elif isinstance(widget, QComboBox) and widget.isEditable():
        if saved is not None:
            widget.setCurrentText(str(saved))
        widget.currentTextChanged.connect(lambda text: PANEL.set_value(name, text))
    elif isinstance(widget, QComboBox):  # kept by the item's data (its key) where it has one, not its label
        index = widget.findData(saved) if saved is not None else -1
        if index < 0 and saved is not None:
            index = widget.findText(str(saved))
        if index >= 0:
            widget.setCurrentIndex(index)
        widget.currentIndexChanged.connect(lambda _: PANEL.set_value(name, combo_value(widget)))
    elif isinstance(widget, QCheckBox):
        if saved is not None:
            widget.setChecked(str(saved).lower() == "true")
        widget.toggled.connect(lambda checked: PANEL.set_value(name, checked))
    elif isinstance(widget, QLineEdit):
        if saved is not None:
            widget.setText(str(saved))
        widget.textChanged.connect(lambda text: PANEL.set_value(name, text))


def explain(tips: dict[QWidget, str]) -> None:
    """Give each widget its tooltip unless it has one already (the engine's help texts come first)."""
    for widget, tip in tips.items():
        if not widget.toolTip():
            widget.setToolTip(tip)
