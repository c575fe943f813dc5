"""Running one command as a job: parse (a bad command line is an error event too), run it with the engine's
allocator, report its result or error on the event stream, and clean up on a cancel, Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import errno
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.cli.args import attach_negative_coordinates
from core.cli.parser import build_parser
from core.errors import CancelledError, Sam2QgisError
from core.io.output_paths import check_outputs
from core.jobs.events import JobEvents
from core.jobs.logs import configure_logging
from core.jobs.requests import expand_request
from core.models.allocator import engine_allocator

UNWRITABLE = (errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its result goes to stdout as JSON (or as the ``result`` event of ``--events -``).
    Exit 2 on an expected error (``error: MESSAGE`` on stderr, an ``error`` event), 1 on a bug (traceback)."""
    with engine_allocator():  # the encoder's large buffers: reused, not mapped afresh per pass (allocator.py)
        return _run(list(sys.argv[1:] if argv is None else argv))


def _run(argv: list[str]) -> int:
    parser = build_parser()
    configure_logging()
    try:
        args = parser.parse_args(attach_negative_coordinates(expand_request(parser, argv)))
    except Sam2QgisError as error:  # a bad command line or request: the job never started
        early = JobEvents("-" if flag_value(argv, "--events") == "-" else None)  # a FILE was never checked
        early.error(str(error), expected=True)
        early.close()
        return 2
    try:
        _check_events_file(args)
    except Sam2QgisError as error:  # never write to the file it names
        print(f"error: {error}", file=sys.stderr)
        return 2
    # a job whose request came on stdin has a driver there (the plugin): stdin closing means it is gone
    driven = flag_value(argv, "--request") == "-"
    job = args.job = JobEvents(getattr(args, "events", None), stop_on_eof=driven)
    previous = _stop_on_terminate()
    try:
        try:
            result = args.run(args)
        except CancelledError as error:
            job.error(str(error), expected=True, cancelled=True)
            return 2
        except KeyboardInterrupt:
            job.error("interrupted (Ctrl-C): nothing half-written was kept", expected=True, cancelled=True)
            return 130
        except Sam2QgisError as error:
            job.error(str(error), expected=True)
            return 2
        except Exception as error:
            if isinstance(error, OSError) and error.errno in UNWRITABLE:  # a folder it may not write, a full disk
                job.error(f"cannot write {error.filename or 'an output'} ({error.strerror}): choose a folder you can "
                          "write to, or free some space", expected=True)  # fmt: skip
                return 2
            job.error(f"{type(error).__name__}: {error} (a bug: the traceback follows)", expected=False)
            raise
        if result is not None:
            job.result(result)
        return 0
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        job.close()


def _check_events_file(args: argparse.Namespace) -> None:
    """``--events FILE`` appends JSON lines: refuse a FILE that is one of the job's own files (inputs, outputs)."""
    target = getattr(args, "events", None)
    if target in (None, "-"):
        return
    for name, value in vars(args).items():
        items = value if isinstance(value, list) else [value]  # a repeated flag (--raster of a region)
        for item in items:
            if isinstance(item, Path) or (isinstance(value, list) and isinstance(item, str)):
                check_outputs({"--events": Path(target)}, {f"--{name.replace('_', '-')}": item})


def flag_value(argv: Sequence[str], flag: str) -> str | None:
    """The value of ``flag`` on a raw command line (``--flag VALUE`` or ``--flag=VALUE``), None without it."""
    for index, token in enumerate(argv):
        if token == flag and index + 1 < len(argv):
            return argv[index + 1]
        if token.startswith(f"{flag}="):
            return token.split("=", 1)[1]
    return None


def _stop_on_terminate() -> Any:
    """SIGTERM ends the job like a cancel, through its cleanup (no temporary file stays behind); training
    replaces this with its own handler (finish the step, save, exit 0). Returns the previous handler."""

    def terminate(number: int, frame: Any) -> None:
        raise CancelledError("stopped by a termination signal: nothing half-written was kept")

    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, terminate)
