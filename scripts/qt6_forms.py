#!/usr/bin/env python3
"""Find (and with --fix rewrite) the forms of the plugin's Qt and QGIS calls that work on Qt 5 only, so that the
plugin runs on QGIS 3.22 to 4.x (Qt 5 and Qt 6):

- unscoped enum values: ``Qt.LeftButton`` (Qt 6 and QGIS 4 need ``Qt.MouseButton.LeftButton``; PyQt5 and QGIS
  3.22 accept both);
- ``exec_()`` (gone in PyQt6: ``exec()``);
- ``QVariant`` field types and ``QAction`` from QtWidgets outside ``qt_compat.py``, the one module that picks
  the form this QGIS takes.

Run inside QGIS's Python (the names are resolved against the real classes). ``--fix`` rewrites in place.
"""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = ROOT / "sam2_qgis_plugin"


def imported_names(tree: ast.Module) -> dict[str, object]:
    """What the module's ``from qgis... import X`` statements bind (absolute qgis imports only)."""
    names: dict[str, object] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("qgis") and node.level == 0:
            module = importlib.import_module(node.module)
            for alias in node.names:
                if hasattr(module, alias.name):
                    names[alias.asname or alias.name] = getattr(module, alias.name)
    return names


def is_enum_type(kind: type) -> bool:
    import enum

    return kind.__class__.__name__ in ("enumtype", "EnumType", "EnumMeta", "sip.enumtype") or (
        isinstance(kind, type) and issubclass(kind, enum.Enum)
    )


def unscoped(path: Path) -> list[tuple[int, int, int, str, str]]:
    """(line, start column, end column, written, scoped) for every unscoped enum value in ``path``."""
    tree = ast.parse(path.read_text())
    names = imported_names(tree)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
            continue
        owner = names.get(node.value.id)
        if owner is None or not isinstance(owner, type):
            continue
        value = getattr(owner, node.attr, None)
        kind = type(value)
        if value is None or isinstance(value, type) or not is_enum_type(kind):
            continue
        scope = kind.__name__
        if getattr(getattr(owner, scope, None), node.attr, None) is None:
            continue  # no scoped form to offer
        written = f"{node.value.id}.{node.attr}"
        found.append(
            (node.lineno, node.col_offset, node.end_col_offset, written, f"{node.value.id}.{scope}.{node.attr}")
        )
    return found


def other_forms(path: Path) -> list[str]:
    """Lines using a Qt 5-only name that no enum scope fixes."""
    found = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if ".exec_(" in line:
            found.append(f"{number}: exec_() -> exec()")
        if path.name != "qt_compat.py" and "QVariant" in line:
            found.append(f"{number}: QVariant -> qt_compat.field_type")
        if path.name != "qt_compat.py" and "QtWidgets import" in line and "QAction" in line:
            found.append(f"{number}: QAction from QtWidgets -> qt_compat.QAction")
    return found


def problems_in(folder: Path = PLUGIN, fix: bool = False) -> list[str]:
    """Every Qt 5-only form in the Python files under ``folder`` (enum scopes rewritten first with ``fix``)."""
    problems = []
    for path in sorted(folder.rglob("*.py")):
        forms = unscoped(path)
        if fix and forms:
            lines = path.read_text().splitlines(keepends=True)
            for line, start, end, written, scoped in sorted(forms, key=lambda f: (f[0], -f[1])):
                text = lines[line - 1]
                assert text[start:end] == written, (path, line, text[start:end], written)
                lines[line - 1] = text[:start] + scoped + text[end:]
            path.write_text("".join(lines))
            forms = unscoped(path)
        problems += [f"{path.name}:{line}: {written} -> {scoped}" for line, _, _, written, scoped in forms]
        problems += [f"{path.name}:{found}" for found in other_forms(path)]
    return problems


if __name__ == "__main__":
    found = problems_in(fix="--fix" in sys.argv)
    print("\n".join(found) or "no Qt 5-only forms")
    sys.exit(1 if found else 0)
