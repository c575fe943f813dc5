"""One training at a time per run folder, and no other run's results replaced by accident.

The lock is an operating-system lock on ``.sam2-run.lock`` in the run folder (``fcntl`` on POSIX, ``msvcrt`` on
Windows): it is released when the process ends, however it ends, so a killed run never leaves it stuck.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from core.errors import OutputConflictError
from core.io.output_paths import files_behind, same_file

LOCK_NAME = ".sam2-run.lock"
RUN_FILES = (
    "run.json",
    "resume.pt",
    "best.pt",
    "last.pt",
    "best_trained.pt",
    "last_trained.pt",
    "metrics.csv",
    "curves.png",
    "confusion.png",
    "classification_report.txt",
    "config.yaml",
    "summary.json",
    "report.html",
)
#: What a run writes only sometimes: the curve of what labels bought (two runs or more on the same labels).
SOMETIMES_WRITTEN = ("labels_bought.png",)
RUN_OUTPUTS = RUN_FILES + SOMETIMES_WRITTEN


def check_run_folder(run_dir: Path, inputs: Mapping[str, Path | None], resume: bool, overwrite: bool) -> None:
    """Refuse a run folder that is a file, that would overwrite one of ``inputs`` (flag -> path), or that holds
    another run's results (unless resuming it, or ``overwrite``)."""
    if run_dir.exists() and not run_dir.is_dir():
        raise OutputConflictError(f"--out {run_dir} is a file: give a folder for the run")
    for flag, source in inputs.items():
        behind = files_behind(source) if source is not None else []
        for name in RUN_OUTPUTS:
            if any(same_file(run_dir / name, path) for path in behind):
                raise OutputConflictError(
                    f"the input {flag} {source} is in the run folder {run_dir}, where the run writes {name}: "
                    f"give another --out (e.g. {run_dir.parent / (run_dir.name + '-tuned')})"
                )
    if resume or not run_dir.is_dir():
        return
    earlier = [name for name in RUN_OUTPUTS if (run_dir / name).exists()]
    if earlier and not overwrite:
        raise OutputConflictError(
            f"{run_dir} already holds a run ({', '.join(earlier[:4])}): choose a new --out, continue it with "
            f"--resume {run_dir}, or pass --overwrite to replace its results"
        )


def clear_earlier_run(run_dir: Path) -> None:
    """Remove the files an earlier run left in ``run_dir`` (only the run's own names; nothing else)."""
    for name in RUN_OUTPUTS:
        with contextlib.suppress(FileNotFoundError):
            (run_dir / name).unlink()


@contextlib.contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    """Hold the run folder's lock for the block; OutputConflictError when another process holds it."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / LOCK_NAME
    handle = open(path, "a+b")  # noqa: SIM115 - held for the whole block
    try:
        try:
            _lock(handle)
        except OSError:
            raise OutputConflictError(
                f"another training is writing {run_dir}: wait for it to end, or give another --out"
            ) from None
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                path.unlink()  # others that opened it before now fail to lock it or find it unlinked
            _unlock(handle)
    finally:
        handle.close()


def _lock(handle: object) -> None:
    fileno = handle.fileno()  # type: ignore[attr-defined]
    if sys.platform == "win32":
        import msvcrt

        msvcrt.locking(fileno, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fileno, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.fstat(fileno).st_ino != os.stat(handle.name).st_ino:  # type: ignore[attr-defined]
            raise OSError("the lock file was replaced while locking")


def _unlock(handle: object) -> None:
    fileno = handle.fileno()  # type: ignore[attr-defined]
    if sys.platform == "win32":
        import msvcrt

        with contextlib.suppress(OSError):
            msvcrt.locking(fileno, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fileno, fcntl.LOCK_UN)
