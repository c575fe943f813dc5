"""Reading ahead and writing behind: order kept, memory bounded, failures raised, handles closed."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from rasterio.windows import Window

from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene
from core.inference.background import ReadAhead, WriteBehind
from core.inference.stage_clock import StageClock
from core.io.raster import RasterSource

pytestmark = pytest.mark.quick  # make test-fast


def test_read_ahead_yields_every_batch_in_order_with_bounded_look_ahead(tmp_path) -> None:
    scene = write_synthetic_scene(SyntheticSceneConfig(width=200, height=120, seed=3), tmp_path)
    windows = [[Window(col, row, 40, 40) for col in (0, 50, 100, 150)] for row in (0, 40, 80)]
    started: list[Window] = []
    clock = StageClock()
    with RasterSource(scene.image) as raster:
        ahead = ReadAhead(raster, windows, threads=3, depth=1, clock=clock)
        original = ahead._read

        def read(window: Window):
            started.append(window)
            return original(window)

        ahead._read = read  # type: ignore[method-assign]
        with ahead:
            for index, (batch, reads) in enumerate(ahead):
                assert batch == windows[index]
                # the batch in use, and at most depth (1) + 1 more queued before it was handed over
                assert len(started) <= 4 * (index + 3)
                for window, (rgb, valid) in zip(batch, reads, strict=True):
                    expected_rgb, expected_valid = raster.read_rgb(window)
                    np.testing.assert_array_equal(rgb, expected_rgb)
                    np.testing.assert_array_equal(valid, expected_valid)
        handles = ahead._handles
    assert handles
    assert all(handle._dataset.closed for handle in handles)
    assert clock.seconds["read (helper threads)"] > 0


def test_write_behind_runs_writes_in_order_in_one_thread_and_raises_a_failed_one() -> None:
    done: list[int] = []
    threads: set[str] = set()

    def write(value: int) -> int:
        threads.add(threading.current_thread().name)
        done.append(value)
        return value * 2

    with WriteBehind(depth=2) as writer:
        futures = [writer.submit(lambda v=v: write(v)) for v in range(6)]
    assert done == list(range(6))
    assert [future.result() for future in futures] == [0, 2, 4, 6, 8, 10]
    assert len(threads) == 1
    assert threading.current_thread().name not in threads

    def fail() -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"), WriteBehind() as writer:
        writer.submit(fail)
