"""Helpers of the scripts that run inside the real QGIS desktop (``qgis --code``): waiting while QGIS works,
clicking the map tool. The scripts find this module through $SAM2_E2E_SCRIPTS (``qgis --code`` sets no
``__file__``)."""

from qgis.core import QgsPointXY
from qgis.gui import QgsMapMouseEvent
from qgis.PyQt.QtCore import QCoreApplication, QEvent, QPoint, Qt, QThread


def settle(canvas=None):
    for _ in range(5):
        QCoreApplication.processEvents()
    if canvas is not None:
        canvas.waitWhileRendering()


def wait_for(condition, seconds):
    """Process events until ``condition()`` holds or ``seconds`` pass; returns whether it held."""
    for _ in range(int(seconds * 10)):
        if condition():
            return True
        QCoreApplication.processEvents()
        QThread.msleep(100)
    return condition()


def click_at(tool, canvas, point: QgsPointXY):
    """A left click of ``tool`` at ``point`` (map coordinates)."""
    pixel = canvas.getCoordinateTransform().transform(point)
    position = QPoint(round(pixel.x()), round(pixel.y()))
    tool.canvasPressEvent(QgsMapMouseEvent(canvas, QEvent.MouseButtonPress, position, Qt.LeftButton))
    tool.canvasReleaseEvent(QgsMapMouseEvent(canvas, QEvent.MouseButtonRelease, position, Qt.LeftButton))


def panel_fingerprint(dock):
    """What the panel shows, as sorted text: tab, section and form-row titles, buttons and check boxes (no status
    text, paths or numbers). The README's screenshots are regenerated when it changes."""
    from qgis.PyQt.QtWidgets import QCheckBox, QFormLayout, QGroupBox, QPushButton, QTabWidget, QToolButton

    def shown(widget):  # in the panel, not in the Settings window it owns
        return widget.window() is dock.window()

    found = set()
    for tabs in filter(shown, dock.findChildren(QTabWidget)):
        found |= {f"tab {tabs.tabText(i)}" for i in range(tabs.count())}
    found |= {f"section {box.title()}" for box in dock.findChildren(QGroupBox) if shown(box)}
    buttons = [*dock.findChildren(QPushButton), *dock.findChildren(QToolButton)]
    found |= {f"button {b.text()}" for b in buttons if b.text() and shown(b)}
    found |= {f"check {c.text()}" for c in dock.findChildren(QCheckBox) if shown(c)}
    for form in dock.findChildren(QFormLayout):
        for row in range(form.rowCount()):
            item = form.itemAt(row, QFormLayout.LabelRole)
            if item is not None and item.widget() is not None and shown(item.widget()):
                found.add(f"row {item.widget().text()}")
    return sorted(found)


def cut_texts(window):
    """The texts ``window`` (the panel, the Settings window) shows cut off as it is on screen: combo boxes too
    narrow for their choice ("SAM 2.1 t"), word-wrapped labels shorter than their lines, line edits that show only
    the end of their text (a path)."""
    from qgis.PyQt.QtWidgets import QComboBox, QLabel, QLineEdit, QStyle, QStyleOptionComboBox

    cut = []
    for combo in window.findChildren(QComboBox):
        if not combo.isVisible() or not combo.currentText():
            continue
        option = QStyleOptionComboBox()
        combo.initStyleOption(option)
        field = combo.style().subControlRect(QStyle.CC_ComboBox, option, QStyle.SC_ComboBoxEditField, combo)
        if field.width() < combo.fontMetrics().horizontalAdvance(combo.currentText()):
            cut.append(f"combo {combo.currentText()!r}: {field.width()} px")
    for label in window.findChildren(QLabel):
        if label.isVisible() and label.wordWrap() and label.height() < label.heightForWidth(label.width()):
            cut.append(f"label {label.text()[:40]!r}: {label.height()} of {label.heightForWidth(label.width())} px")
        elif (
            label.isVisible()
            and label.wordWrap()
            and label.mapTo(window, label.rect().bottomLeft()).y() > window.height()
        ):
            cut.append(f"label {label.text()[:40]!r}: below the window's edge")
    for edit in window.findChildren(QLineEdit):
        if edit.isVisible() and edit.text() and edit.width() < edit.fontMetrics().horizontalAdvance(edit.text()) + 8:
            cut.append(f"line edit {edit.text()!r}: {edit.width()} px")
    return cut
