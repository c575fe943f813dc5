"""Where a long job's time goes: seconds per named stage, for profiles and throughput reports.

Stages timed on the main thread add up to (nearly) the wall time; stages that run in helper threads (reading
ahead, writing behind) are timed there and overlap the rest, so their shares can add up to more than 100 %.
On a GPU, work is queued asynchronously: a clock given ``synchronize`` (``torch.cuda.synchronize``) waits
for the device at the end of each stage so that each stage is charged its own work (only for profiling: the
waits cost throughput).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator


class StageClock:
    """Accumulated seconds per stage name, thread-safe; ``wall()``: seconds since the clock was made."""

    def __init__(self, synchronize: Callable[[], None] | None = None) -> None:
        self.seconds: dict[str, float] = {}
        self.synchronize = synchronize
        self._started = time.perf_counter()
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            if self.synchronize is not None:
                self.synchronize()
            self.add(name, time.perf_counter() - start)

    def add(self, name: str, seconds: float) -> None:
        with self._lock:
            self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def wall(self) -> float:
        return time.perf_counter() - self._started

    def shares(self) -> dict[str, float]:
        """Each stage's seconds as a fraction of the wall time so far."""
        wall = max(self.wall(), 1e-9)
        with self._lock:
            return {name: seconds / wall for name, seconds in self.seconds.items()}
