#!/usr/bin/env bash
# Create .venv from Debian's Python (it must see QGIS, GDAL and rasterio from the system site) and
# install requirements.txt into it. Skips pip when requirements.txt has not changed since the last
# successful install (a stamp file in .venv records its sha256).
set -euo pipefail

VENV=${VENV:-.venv}
PYTHON=${SYSTEM_PYTHON:-/usr/bin/python3.11}
REQUIREMENTS=${REQUIREMENTS:-requirements.txt}
STAMP="$VENV/.requirements.sha256"

if [[ ! -x "$PYTHON" ]]; then
  echo "setup: $PYTHON not found; install python3.11 (Debian: apt-get install python3.11 python3.11-venv)" >&2
  exit 1
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  echo "setup: creating $VENV from $PYTHON (with system site packages)"
  "$PYTHON" -m venv --system-site-packages "$VENV"
fi

want=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
have=$(cat "$STAMP" 2>/dev/null || true)
if [[ "$want" == "$have" ]]; then
  echo "setup: $VENV is up to date with $REQUIREMENTS"
  exit 0
fi

echo "setup: installing $REQUIREMENTS into $VENV (torch is large: a few minutes the first time)"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
"$VENV/bin/python" - <<'PY'
import torch, torchvision, sam2, numpy, rasterio, qgis.core  # noqa: F401  all must import together
from osgeo import gdal
assert numpy.__version__.startswith("1."), f"numpy {numpy.__version__}: QGIS's GDAL needs numpy < 2"
print(f"setup: torch {torch.__version__}, torchvision {torchvision.__version__}, numpy {numpy.__version__},"
      f" rasterio {rasterio.__version__}, GDAL {gdal.__version__}")
PY
echo "$want" > "$STAMP"
