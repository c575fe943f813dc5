"""Write files so that readers never see half of one: write beside the target, then rename."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from core.errors import OutputWriteError

#: Less free space than this after writing means the disk filled up: GDAL does not always report a failed write.
MIN_FREE_AFTER_WRITE = 64 * 1024


@contextlib.contextmanager
def atomic_output(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` if the block succeeds.

    The temporary name keeps the target's suffix so that GDAL picks the same driver. On an exception
    the temporary file (and SQLite side files such as ``-wal``/``-journal``) are removed and the
    target is left as it was.
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent)
    except OSError as error:
        raise OutputWriteError(
            f"cannot write {target.name} in {target.parent} ({error.strerror or error}): choose a folder you can "
            "write to"
        ) from None
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # writers (GDAL, torch) create the file themselves
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"nothing was written to {tmp} for {target}")
        if shutil.disk_usage(tmp.parent).free < MIN_FREE_AFTER_WRITE:  # GDAL may have cut the file short silently
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        os.replace(tmp, target)
    except Exception as error:
        if no_space_left(error):
            kept = f"{target.name} is unchanged" if target.exists() else f"no {target.name} was written"
            raise OutputWriteError(
                f"no space left on the device for {target.name} in {target.parent}: free some space or choose "
                f"another folder ({kept}, nothing half-written was kept)"
            ) from None
        raise
    finally:
        for leftover in (tmp, *(tmp.with_name(tmp.name + side) for side in ("-wal", "-shm", "-journal"))):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def sha256_file(path: str | os.PathLike[str], chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def no_space_left(error: BaseException) -> bool:
    """True when ``error`` (an OSError, or GDAL's or torch's error about a failed write) means the disk is full."""
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return True
    return "no space left" in str(error).lower()


def remove_stale_temporaries(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files ``atomic_output`` left in ``folder`` when its process was killed mid-write
    (call only where no other process writes ``folder``); returns what was removed."""
    removed = []
    for leftover in Path(folder).glob(".*.tmp*"):
        if leftover.is_file() and re.fullmatch(r"\..+\.[^.]+\.tmp(\.\w+)?(-wal|-shm|-journal)?", leftover.name):
            leftover.unlink()
            removed.append(leftover)
    return removed
