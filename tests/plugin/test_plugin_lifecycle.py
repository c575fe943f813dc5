"""The plugin loads into QGIS's interface, shows its dock on demand and unloads without leftovers."""

from __future__ import annotations

import sys

from qgis.PyQt.QtCore import QEvent
from qgis.PyQt.QtWidgets import QAction, QDockWidget, QToolBar

import sam2_qgis_plugin
from sam2_qgis_plugin.plugin import MENU


def _named(window, kind, name):
    return [w for w in window.findChildren(kind) if w.objectName() == name]


def test_load_show_dock_and_unload_cleanly(qgis_iface, qgis_app) -> None:
    window = qgis_iface.mainWindow()
    window.show()  # as in QGIS: dock visibility signals need a visible window (offscreen here)
    qgis_iface.removePluginMenu.reset_mock()  # the iface is shared by the whole session
    plugin = sam2_qgis_plugin.classFactory(qgis_iface)
    plugin.initGui()
    try:
        toolbar = plugin.toolbar
        assert isinstance(toolbar, QToolBar)
        assert toolbar.objectName() == "Sam2Toolbar"
        assert plugin.panel_action in toolbar.actions()
        assert qgis_iface.addPluginToMenu.__self__ is qgis_iface  # real method, not the stub's mock
        dock = plugin.dock
        assert isinstance(dock, QDockWidget)
        assert dock.isHidden()

        plugin.panel_action.trigger()
        assert not dock.isHidden()
        assert plugin.panel_action.isChecked()
        dock.close()
        assert not plugin.panel_action.isChecked(), "closing the dock must uncheck the toolbar button"
    finally:
        plugin.unload()
    qgis_app.sendPostedEvents(None, QEvent.DeferredDelete)  # run the deleteLater() calls now

    assert plugin.toolbar is None
    assert plugin.dock is None
    assert plugin.panel_action is None
    assert _named(window, QToolBar, "Sam2Toolbar") == []
    assert _named(window, QDockWidget, "Sam2Dock") == []
    assert _named(window, QAction, "Sam2PanelAction") == []
    qgis_iface.removePluginMenu.assert_called_once()
    assert qgis_iface.removePluginMenu.call_args.args[0] == MENU


def test_loading_the_plugin_did_not_load_torch() -> None:
    assert "torch" not in sys.modules
    assert "sam2" not in sys.modules
