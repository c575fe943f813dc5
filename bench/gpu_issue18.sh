#!/usr/bin/env bash
# On the lent GPU machine (device tool; run scripts/device_wheels.sh here first and carry .cache/device-wheels):
# whole-raster prediction throughput and stages for hiera-large at 1024 on a 24k x 24k orthophoto, then the
# encoder's own rate per model size. Prints what bench/RESULTS.md records; copies go to $OUT.
set -euo pipefail
SITE=/tmp/sam2-site
python3 -m pip install --quiet --no-deps --target "$SITE" .cache/device-wheels/*.whl
export PYTHONPATH="$SITE:$PWD"
OUT=${OUT:-/tmp}
nvidia-smi -L | tee "$OUT/gpu.txt"
python3 -m bench.bench_predict_gpu --model sam2.1_hiera_l --image-size 1024 --side 24576 --profile-side 8192 \
    --batch-size 8 --device cuda 2>&1 | grep -v -i warning | tee "$OUT/predict_gpu.txt"
