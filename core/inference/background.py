"""Reading ahead and writing behind in helper threads, so that the model never waits for the disk.

GDAL releases Python's lock while it reads, decompresses and writes, so these threads run beside the model's
work. Each reading thread has its own raster handle (GDAL handles are not shared between threads). Both
hold a bounded number of items: memory stays flat however large the raster.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np
from rasterio.windows import Window

from core.inference.stage_clock import StageClock
from core.io.raster import RasterSource

T = TypeVar("T")
Read = tuple[np.ndarray, np.ndarray]  # RGB uint8 (rows, cols, 3), validity bool (rows, cols)


class ReadAhead:
    """Batches of windows read by ``threads`` helper threads, yielded in order; at most ``depth`` batches are
    read ahead of the one in use. Use as a context manager: leaving it stops the reads and closes the handles."""

    def __init__(
        self,
        raster: RasterSource,
        batches: Iterable[list[Window]],
        threads: int = 2,
        depth: int = 2,
        clock: StageClock | None = None,
    ) -> None:
        self.raster, self.batches, self.depth, self.clock = raster, batches, max(1, depth), clock
        self._pool = ThreadPoolExecutor(max(1, threads), thread_name_prefix="read-ahead")
        self._local = threading.local()
        self._handles: list[RasterSource] = []
        self._lock = threading.Lock()

    def _read(self, window: Window) -> Read:
        handle = getattr(self._local, "raster", None)
        if handle is None:
            handle = self._local.raster = self.raster.duplicate()
            with self._lock:
                self._handles.append(handle)
        start = time.perf_counter()
        read = handle.read_rgb(window)
        if self.clock is not None:  # timed here, never synchronising the device from a helper thread
            self.clock.add("read (helper threads)", time.perf_counter() - start)
        return read

    def __iter__(self) -> Iterator[tuple[list[Window], list[Read]]]:
        pending: collections.deque[tuple[list[Window], list[Future[Read]]]] = collections.deque()
        batches = iter(self.batches)
        while True:
            while len(pending) <= self.depth:
                batch = next(batches, None)
                if batch is None:
                    break
                pending.append((batch, [self._pool.submit(self._read, window) for window in batch]))
            if not pending:
                return
            batch, futures = pending.popleft()
            yield batch, [future.result() for future in futures]

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        for handle in self._handles:
            handle.close()


class WriteBehind:
    """Runs writes in one helper thread, in order, at most ``depth`` waiting; a failed write is raised by the
    next ``submit`` or by ``finish``. Use as a context manager: leaving it waits for the writes."""

    def __init__(self, depth: int = 2, clock: StageClock | None = None) -> None:
        self.depth, self.clock = max(1, depth), clock
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="write-behind")
        self._pending: collections.deque[Future[Any]] = collections.deque()

    def submit(self, write: Callable[[], T]) -> Future[T]:
        """Queue ``write``; its future gives what it returns (waits first while ``depth`` writes are queued)."""
        while len(self._pending) >= self.depth:
            self._pending.popleft().result()
        future = self._pool.submit(self._timed, write)
        self._pending.append(future)
        return future

    def _timed(self, write: Callable[[], T]) -> T:
        start = time.perf_counter()
        result = write()
        if self.clock is not None:
            self.clock.add("write (helper thread)", time.perf_counter() - start)
        return result

    def finish(self) -> None:
        while self._pending:
            self._pending.popleft().result()

    def __enter__(self) -> WriteBehind:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                self.finish()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)
