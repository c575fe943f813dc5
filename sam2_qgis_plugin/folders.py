"""Folders the plugin writes into (Qt-free: the engine installer uses it outside QGIS too)."""

from __future__ import annotations

from pathlib import Path


def writable_folder(folder: Path) -> str | None:
    """None when ``folder`` can be created and written, else why not (the system's words)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe_file = folder / ".writable"
        probe_file.write_text("")
        probe_file.unlink()
    except OSError as error:
        return error.strerror or str(error)
    return None
