"""What every section of the panel is: a titled group of widgets that keeps its own choices."""

from __future__ import annotations

from qgis.PyQt.QtWidgets import QGroupBox, QWidget

from .widgets import keep_choice


class Section(QGroupBox):
    """A titled group of the panel's widgets. ``remembered()``: its choices kept across sessions, by settings
    name; ``keep_choices()`` restores them and keeps them as they change (called once, by the dock)."""

    def remembered(self) -> dict[str, QWidget]:
        return {}

    def keep_choices(self) -> None:
        for name, widget in self.remembered().items():
            keep_choice(name, widget)
