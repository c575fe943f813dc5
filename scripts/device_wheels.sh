#!/usr/bin/env bash
# Wheels that make the engine's benchmarks run on the lent GPU machine (Python 3.12, torch installed, no GDAL,
# no network): downloaded here into .cache/device-wheels (ignored by git), carried with the device tool's
# `carry: [".cache/device-wheels"]`, installed there by bench/gpu_issue18.sh. About 56 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
PIP=${PIP:-.venv/bin/pip}
DEST=.cache/device-wheels
mkdir -p "$DEST"
"$PIP" download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    rasterio==1.4.3 rf-sam-2==1.0.3 hydra-core==1.3.8 omegaconf==2.3.1 pyogrio==0.13.0 shapely==2.2.0 \
    affine click-plugins cligj -d "$DEST"
"$PIP" wheel --quiet --no-deps antlr4-python3-runtime==4.9.3 iopath==0.1.10 -w "$DEST"  # sdists: built here
du -sh "$DEST"
