"""How the engine's process reuses freed memory: on glibc (Linux), large blocks come from the heap and stay
there, instead of being mapped fresh from the OS for every tensor and unmapped when it is freed.

A forward pass of SAM 2's encoder at 1024 px allocates and frees buffers of tens of megabytes (hiera-tiny's
first stage: 65 536 tokens x 288 channels). glibc maps each from the OS and unmaps it when freed, so every
pass pays a page fault and a page clearing for each 4 KiB of them: about 20 % of hiera-tiny's encoder time on
2 CPU cores (bench/bench_encode.py). Kept on the heap, they are reused. The price: a process keeps the peak
of what it allocated (the engine's jobs and worker hold about that anyway). Elsewhere (Windows, macOS, musl)
this does nothing.
"""

from __future__ import annotations

import ctypes
import platform
import sys

M_TRIM_THRESHOLD = -1  # mallopt parameters (glibc's malloc.h)
M_MMAP_MAX = -4
DEFAULT_MMAP_MAX = 65536
DEFAULT_TRIM_THRESHOLD = 128 * 1024
KEEP_TRIM_THRESHOLD = 2**31 - 1  # give the heap's top back only above 2 GiB free


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def reuse_freed_memory(reuse: bool = True) -> bool:
    """Keep freed large blocks for reuse (``reuse=False``: glibc's defaults again); True where it applied."""
    libc = _libc()
    if libc is None:
        return False
    mmap_max, trim = (0, KEEP_TRIM_THRESHOLD) if reuse else (DEFAULT_MMAP_MAX, DEFAULT_TRIM_THRESHOLD)
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    trimmed = libc.mallopt(M_TRIM_THRESHOLD, trim)
    return bool(libc.mallopt(M_MMAP_MAX, mmap_max)) and bool(trimmed)
