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
    from qgis.PyQt.QtWidgets import QCheckBox, QFormLayout, QGroupBox, QPushButton, QTabWidget

    def shown(widget):  # in the panel, not in the Settings window it owns
        return widget.window() is dock.window()

    found = set()
    for tabs in filter(shown, dock.findChildren(QTabWidget)):
        found |= {f"tab {tabs.tabText(i)}" for i in range(tabs.count())}
    found |= {f"section {box.title()}" for box in dock.findChildren(QGroupBox) if shown(box)}
    found |= {f"button {b.text()}" for b in dock.findChildren(QPushButton) if b.text() and shown(b)}
    found |= {f"check {c.text()}" for c in dock.findChildren(QCheckBox) if shown(c)}
    for form in dock.findChildren(QFormLayout):
        for row in range(form.rowCount()):
            item = form.itemAt(row, QFormLayout.LabelRole)
            if item is not None and item.widget() is not None and shown(item.widget()):
                found.add(f"row {item.widget().text()}")
    return sorted(found)
