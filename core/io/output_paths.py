"""Refuse, before any work, output paths that would destroy a job's inputs or each other.

An output "is" an input when both name the same file: the same path, a link to it, another case of it on a
case-insensitive disk, or the file inside a GDAL connection string (``GPKG:/data/ortho.gpkg:tiles``,
``/vsizip/labels.zip/labels.shp``). Outputs given as ``{"--out": path}`` name their flags in the messages.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from core.errors import OutputConflictError

PathLike = str | os.PathLike[str]
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix")
_DRIVER_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9_]+:(.+)$")  # GPKG:..., NETCDF:... (not a drive letter C:)


def files_behind(source: PathLike) -> list[Path]:
    """The file(s) on disk that a path or GDAL connection string reads; a Shapefile brings its parts."""
    text = os.fspath(source)
    candidates = [text]
    if not Path(text).exists():
        if match := _DRIVER_PREFIX.match(text):
            rest = match.group(1).strip('"')
            candidates += [rest, rest.rsplit(":", 1)[0].strip('"')]
        if text.startswith("/vsi") and text.count("/") >= 2:
            inner = text.split("/", 2)[2]  # "/vsizip/data/l.zip/a.shp": GDAL reads /data/l.zip (or data/l.zip)
            for base in (inner, "/" + inner.lstrip("/")):
                parts = Path(base).parts
                candidates += [str(Path(*parts[:n])) for n in range(len(parts), 0, -1)]
    for candidate in candidates:
        path = Path(candidate)
        if path.is_file():
            return parts_of(path)
    return parts_of(Path(text))


def parts_of(path: Path) -> list[Path]:
    """``path``, with the side files of a Shapefile."""
    if path.suffix.lower() == ".shp":
        return [path.with_suffix(suffix) for suffix in SHAPEFILE_PARTS]
    return [path]


def same_file(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` name one file (links, case-insensitive disks, relative paths)."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def check_outputs(outputs: Mapping[str, Iterable[Path] | Path | None], inputs: Mapping[str, PathLike | None]) -> None:
    """Raise OutputConflictError when an output is a folder, names the same file as another output, or
    names one of the inputs. ``outputs`` maps a flag to the file (or all files) it writes."""
    written: list[tuple[str, Path]] = []
    for flag, value in outputs.items():
        if value is None:
            continue
        for path in [value] if isinstance(value, Path) else value:
            if path.is_dir():
                raise OutputConflictError(f"{flag} {path} is a folder: give the name of a file (in it or elsewhere)")
            written.append((flag, path))
    for index, (flag, path) in enumerate(written):
        for other_flag, other in written[:index]:
            if other_flag != flag and same_file(path, other):
                raise OutputConflictError(
                    f"{other_flag} {other} and {flag} {path} name the same file: give each output its own name"
                )
    for input_flag, source in inputs.items():
        if source is None:
            continue
        for input_file in files_behind(source):
            for flag, path in written:
                if same_file(path, input_file):
                    raise OutputConflictError(
                        f"{flag} {path} is the input {input_flag} {source}: writing it would destroy the input; "
                        "choose another output name"
                    )
