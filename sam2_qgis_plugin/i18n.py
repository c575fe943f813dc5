"""Translation: every string the analyst reads goes through ``tr`` (Qt's translate, one context for the plugin).

A translation is ``i18n/sam2_qgis_plugin_<language>.qm`` beside this file, compiled by Qt's ``lrelease`` from a
copy of the template ``i18n/sam2_qgis_plugin.ts`` that ``scripts/i18n_strings.py`` writes from the ``tr("...")``
calls. Strings are translated where they are shown, not at import: the translator is installed when the plugin
starts. ``translatable("...")`` marks a module-level text for the template; show it with ``tr(NAME)``.
"""

from __future__ import annotations

from pathlib import Path

from qgis.core import QgsSettings
from qgis.PyQt.QtCore import QCoreApplication, QLocale, QTranslator

CONTEXT = "SAM2"
FOLDER = Path(__file__).resolve().parent / "i18n"


def tr(text: str) -> str:
    """``text`` in the analyst's language when a translation has it; placeholders (``{name}``) are kept, so
    format after translating: ``tr("cannot read {name}").format(name=path.name)``."""
    return QCoreApplication.translate(CONTEXT, text)


def translatable(text: str) -> str:
    """Marks a module-level text for the template; it stays as it is here (show it with ``tr``)."""
    return text


def language() -> str:
    """The language QGIS is set to (Settings > Options > General), e.g. ``de``; the system's otherwise."""
    chosen = str(QgsSettings().value("locale/userLocale", "") or "")
    return (chosen or QLocale.system().name())[:2]


def install_translator(language_code: str | None = None, folder: Path | None = None) -> QTranslator | None:
    """Install the plugin's translation for ``language_code`` (default: QGIS's) from ``folder`` (default: the
    plugin's i18n); None when there is none."""
    path = (folder or FOLDER) / f"sam2_qgis_plugin_{language_code or language()}.qm"
    translator = QTranslator()
    if not path.exists() or not translator.load(str(path)):
        return None
    QCoreApplication.installTranslator(translator)
    return translator


def remove_translator(translator: QTranslator | None) -> None:
    if translator is not None:
        QCoreApplication.removeTranslator(translator)


__all__ = ["CONTEXT", "install_translator", "language", "remove_translator", "tr", "translatable"]
