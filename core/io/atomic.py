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
#: A write that failed with less free space than this failed for want of it, whatever the writer's message
#: (GDAL: "IReadBlock failed" on a block cut short, SQLite: "no such table", torch.save: "unexpected pos").
NEARLY_FULL = 1024 * 1024


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
        check_space_after_failure(error, target)
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
    """True when ``error`` (an OSError, or GDAL's, SQLite's or torch's error about a failed write) says the disk
    is full."""
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return True
    return any(words in str(error).lower() for words in ("no space left", "disk is full", "disk full"))


def check_space_after_failure(error: BaseException, target: Path) -> None:
    """Raise an OutputWriteError that says so when writing ``target`` failed with ``error`` for want of space (its
    message says the disk is full, or the disk is nearly full whatever the message); else return."""
    if no_space_left(error) or nearly_full(target.parent):
        kept = f"{target.name} is unchanged" if target.exists() else f"no {target.name} was written"
        raise OutputWriteError(
            f"no space left on the device for {target.name} in {target.parent}: free some space or choose "
            f"another folder ({kept}, nothing half-written was kept)"
        ) from None


def nearly_full(folder: str | os.PathLike[str]) -> bool:
    """True when the file system of ``folder`` has less than ``NEARLY_FULL`` bytes free (False if unknown)."""
    try:
        return shutil.disk_usage(folder).free < NEARLY_FULL
    except OSError:
        return False


def remove_stale_temporaries(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files ``atomic_output`` left in ``folder`` when its process was killed mid-write
    (call only where no other process writes ``folder``); returns what was removed."""
    removed = []
    for leftover in Path(folder).glob(".*.tmp*"):
        if leftover.is_file() and re.fullmatch(r"\..+\.[^.]+\.tmp(\.\w+)?(-wal|-shm|-journal)?", leftover.name):
            leftover.unlink()
            removed.append(leftover)
    return removed
