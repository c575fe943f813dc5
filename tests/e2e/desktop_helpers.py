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
