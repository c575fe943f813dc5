"""How the engine's processes use glibc's allocator (Linux): large freed blocks are reused while the engine
works, and freed memory is given back to the system after loading a model and when the worker is idle.

A forward pass of SAM 2's encoder at 1024 px allocates and frees buffers of tens of megabytes (hiera-tiny's
first stage: 65 536 tokens x 288 channels). glibc maps each from the OS and unmaps it when freed, so every
pass pays a page fault and a page clearing for each 4 KiB of them (bench/bench_encode.py measures the share).
Kept on the heap, they are reused. The price is that the heap keeps what was freed, so:

- loading a model gives back what loading freed (the checkpoint's state dict, as large as the model), so a
  loaded model holds what it would under glibc's defaults;
- the worker gives back what its requests freed once it has been idle a few seconds (core.jobs.worker), so beside
  QGIS it holds no more than glibc's defaults would, while a burst of encodes keeps its buffers.

``SAM2_QGIS_REUSE_FREED_MEMORY=0`` leaves glibc's defaults alone (no setting, nothing given back): the
reference the memory and speed benchmarks compare against. Elsewhere (Windows, macOS, musl) this does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform
import sys
from collections.abc import Iterator

M_TRIM_THRESHOLD = -1  # mallopt parameters (glibc's malloc.h)
M_MMAP_MAX = -4
DEFAULT_MMAP_MAX = 65536
DEFAULT_TRIM_THRESHOLD = 128 * 1024
KEEP_TRIM_THRESHOLD = 2**31 - 1  # give the heap's top back only above 2 GiB free
SWITCH = "SAM2_QGIS_REUSE_FREED_MEMORY"

_reusing = False


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def reuse_freed_memory(reuse: bool = True) -> bool:
    """Keep freed large blocks for reuse (``reuse=False``: glibc's defaults again); True where it applied."""
    global _reusing
    libc = _libc()
    if libc is None:
        return False
    mmap_max, trim = (0, KEEP_TRIM_THRESHOLD) if reuse else (DEFAULT_MMAP_MAX, DEFAULT_TRIM_THRESHOLD)
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    trimmed = libc.mallopt(M_TRIM_THRESHOLD, trim)
    applied = bool(libc.mallopt(M_MMAP_MAX, mmap_max)) and bool(trimmed)
    _reusing = reuse and applied
    return applied


def reusing() -> bool:
    """True while this process keeps freed blocks for reuse (``reuse_freed_memory``)."""
    return _reusing


def give_back_freed_memory() -> bool:
    """Return the heap's free pages to the system (glibc's ``malloc_trim``), while reusing freed blocks; True
    where something was given back. Under glibc's defaults (the switch off) it does nothing."""
    libc = _libc()
    if libc is None or not _reusing:
        return False
    libc.malloc_trim.argtypes = [ctypes.c_size_t]
    return bool(libc.malloc_trim(0))


def wanted() -> bool:
    """The engine's setting is on unless ``SAM2_QGIS_REUSE_FREED_MEMORY=0``."""
    return os.environ.get(SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


@contextlib.contextmanager
def engine_allocator() -> Iterator[bool]:
    """Reuse freed blocks inside the block (unless switched off); glibc's defaults again after it, with what was
    kept given back (so a test that runs a command in its own process leaves the setting behind). Yields
    whether the setting applies."""
    applied = wanted() and reuse_freed_memory(True)
    try:
        yield applied
    finally:
        if applied:
            give_back_freed_memory()
            reuse_freed_memory(False)
