"""Peak resident memory (and wall time) of a child script, run in a fresh process per size: the shared part of
the memory benchmarks (bench_predict_memory; bench_evaluate measures its own)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def print_peaks(child: str, heights: tuple[int, ...], title: str, checkout: Path = ROOT) -> None:
    """Run ``child`` (its last line: JSON ``{"peak_kb": ru_maxrss, "seconds": wall time}``; argv: height, a
    scratch folder) in ``checkout`` for height 0 (imports only) and each of ``heights``; print the peak above the
    import-only run, its ratio to the first, and the seconds."""
    with tempfile.TemporaryDirectory() as tmp:

        def run(height: int) -> dict[str, float]:
            out = subprocess.run(
                [sys.executable, "-c", child, str(height), tmp],
                capture_output=True,
                text=True,
                check=True,
                cwd=checkout,
            )
            return json.loads(out.stdout.strip().splitlines()[-1])

        baseline = run(0)["peak_kb"]
        print(f"{title} ({checkout}); peak RSS above an import-only process (MB), its ratio to the smallest, seconds:")
        first = None
        for height in heights:
            found = run(height)
            above = (found["peak_kb"] - baseline) / 1024
            first = first or above
            print(
                f"  height {height:6d} px ({2048 * height / 1e6:5.1f} Mpx): {above:7.1f} MB  x{above / first:4.2f}"
                f"  {found['seconds']:6.1f} s"
            )
