"""Every error the engine raises on purpose. Each message says what is wrong and what to do."""

from __future__ import annotations

from collections.abc import Callable


class Sam2QgisError(Exception):
    """Base class: an expected failure with a message meant for the analyst."""


class InvalidConfigError(Sam2QgisError, ValueError):
    """A configuration value is out of range or inconsistent."""


class InvalidInputError(Sam2QgisError, ValueError):
    """An input file exists but cannot be used (wrong format, CRS, bands, ...)."""


class UsageError(InvalidInputError):
    """A command line or job request names an unknown option, misses a required one or gives a bad value."""


class MissingInputError(Sam2QgisError, FileNotFoundError):
    """An input file or folder does not exist."""


class IntegrityError(Sam2QgisError):
    """A downloaded or cached file does not match its recorded size or sha256."""


class DownloadError(Sam2QgisError):
    """A file could not be fetched from its source."""


class DependencyError(Sam2QgisError, ImportError):
    """A Python package the operation needs is missing or too old."""


class InvalidCheckpointError(Sam2QgisError, ValueError):
    """A checkpoint is empty, corrupt, unsafe, or does not fit the model asked for."""


class CancelledError(Sam2QgisError):
    """The user cancelled a long operation; nothing half-done was kept."""


class OutputConflictError(Sam2QgisError, ValueError):
    """An output would replace one of the job's inputs, another output, a folder or another run's files."""


class OutputWriteError(Sam2QgisError, OSError):
    """An output cannot be written: a read-only or missing folder, no permission, or no space left."""


class OutOfMemoryError(Sam2QgisError, MemoryError):
    """The accelerator ran out of memory (the message says which setting to lower)."""


def stop_if(cancelled: Callable[[], bool] | None, why: str = "superseded by a newer request") -> None:
    """CancelledError when ``cancelled`` says so, between the stages of work no longer wanted."""
    if cancelled is not None and cancelled():
        raise CancelledError(why)
