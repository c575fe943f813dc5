"""The plugin object QGIS loads: menu entry, toolbar button and the SAM 2 dock."""

from __future__ import annotations

from pathlib import Path

from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction, QDockWidget, QLabel, QToolBar, QVBoxLayout, QWidget

MENU = "&SAM 2"
ICON = Path(__file__).parent / "icons" / "sam2.svg"


class Sam2Dock(QDockWidget):
    """The plugin's panel. For now it only says which engine is in use."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("SAM 2", parent)
        self.setObjectName("Sam2Dock")
        body = QWidget(self)
        layout = QVBoxLayout(body)
        self.engine_label = QLabel("Engine: not connected", body)
        self.engine_label.setObjectName("Sam2EngineLabel")
        layout.addWidget(self.engine_label)
        layout.addStretch(1)
        self.setWidget(body)


class Sam2Plugin:
    """Adds a 'SAM 2' menu and toolbar whose action shows or hides the dock; removes all on unload."""

    def __init__(self, iface) -> None:  # type: ignore[no-untyped-def]
        self.iface = iface
        self.toolbar: QToolBar | None = None
        self.dock: Sam2Dock | None = None
        self.panel_action: QAction | None = None

    def initGui(self) -> None:  # noqa: N802  (QGIS's name)
        window = self.iface.mainWindow()
        self.dock = Sam2Dock(window)
        self.iface.addDockWidget(Qt.RightDockWidgetArea, self.dock)
        self.dock.hide()

        self.panel_action = QAction(QIcon(str(ICON)), "SAM 2 panel", window)
        self.panel_action.setObjectName("Sam2PanelAction")
        self.panel_action.setCheckable(True)
        self.panel_action.toggled.connect(self.dock.setVisible)
        self.dock.visibilityChanged.connect(self.panel_action.setChecked)

        self.toolbar = self.iface.addToolBar("SAM 2")
        self.toolbar.setObjectName("Sam2Toolbar")
        self.toolbar.addAction(self.panel_action)
        self.iface.addPluginToMenu(MENU, self.panel_action)

    def unload(self) -> None:
        if self.panel_action is not None:
            self.iface.removePluginMenu(MENU, self.panel_action)
            self.panel_action.deleteLater()
            self.panel_action = None
        if self.toolbar is not None:
            self.iface.mainWindow().removeToolBar(self.toolbar)
            self.toolbar.deleteLater()
            self.toolbar = None
        if self.dock is not None:
            self.iface.removeDockWidget(self.dock)
            self.dock.deleteLater()
            self.dock = None
