"""Peak resident memory of a child script, run in a fresh process per size: the shared part of the memory
benchmarks (bench_predict_memory; bench_evaluate measures its own)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path


def print_peaks(child: str, heights: tuple[int, ...], title: str) -> None:
    """Run ``child`` (it prints its ru_maxrss in KB as the last line; argv: height, a scratch folder) for height
    0 (imports only) and each of ``heights``; print the peak above the import-only run and its ratio to the first."""
    with tempfile.TemporaryDirectory() as tmp:

        def peak(height: int) -> int:
            out = subprocess.run(
                [sys.executable, "-c", child, str(height), tmp],
                capture_output=True,
                text=True,
                check=True,
                cwd=Path(__file__).resolve().parent.parent,
            )
            return int(json.loads(out.stdout.strip().splitlines()[-1]))

        baseline = peak(0)
        print(f"{title}; peak RSS above an import-only process (MB), and its ratio to the smallest:")
        first = None
        for height in heights:
            above = (peak(height) - baseline) / 1024
            first = first or above
            print(f"  height {height:6d} px ({2048 * height / 1e6:5.1f} Mpx): {above:7.1f} MB  x{above / first:4.2f}")
