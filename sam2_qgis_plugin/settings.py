"""Every QgsSettings key the plugin keeps, with its default, in one place: all under ``sam2_qgis/``.

A ``Setting`` is one value; a ``SettingGroup`` holds one value per name under its prefix (a panel widget, a
raster). Nothing else in the plugin spells a settings key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qgis.core import QgsSettings

ROOT = "sam2_qgis"


@dataclass(frozen=True)
class Setting:
    """One remembered value: ``key`` in QgsSettings, ``default`` when it was never set (or was cleared)."""

    key: str
    default: Any
    description: str

    def value(self) -> Any:
        found = QgsSettings().value(self.key, self.default)
        return self.default if found is None else found

    def set_value(self, value: Any) -> None:
        QgsSettings().setValue(self.key, value)

    def remove(self) -> None:
        QgsSettings().remove(self.key)


@dataclass(frozen=True)
class SettingGroup:
    """Values under ``prefix``, one per name (``prefix/name``)."""

    prefix: str
    description: str

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}"

    def value(self, name: str, default: Any = None) -> Any:
        return QgsSettings().value(self.key(name), default)

    def set_value(self, name: str, value: Any) -> None:
        QgsSettings().setValue(self.key(name), value)

    def remove(self) -> None:
        """Forget every value of the group."""
        QgsSettings().remove(self.prefix)


ENGINE_PYTHON = Setting(f"{ROOT}/python", "", "the Python that runs the engine (empty: the one found or installed)")
DEVICE = Setting(f"{ROOT}/device", "auto", "where SAM 2 runs: auto, cuda, mps or cpu")
ENCODER = Setting(f"{ROOT}/encoder", "exact", "how the image encoder runs on a CPU: exact or int8")
CACHE_DIR = Setting(f"{ROOT}/cache_dir", "", "the embedding cache's folder (empty: the engine's default)")
TUNED_MODELS = Setting(f"{ROOT}/tuned_models", [], "the fine-tuned checkpoints offered under Model, newest first")
PANEL = SettingGroup(f"{ROOT}/panel", "the panel's last choices, one per widget")
BANDS = SettingGroup(f"{ROOT}/bands", "the bands chosen for each raster (by a hash of its source)")

ALL: tuple[Setting | SettingGroup, ...] = (ENGINE_PYTHON, DEVICE, ENCODER, CACHE_DIR, TUNED_MODELS, PANEL, BANDS)
