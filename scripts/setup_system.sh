#!/usr/bin/env bash
# Install the Debian packages the project needs, only those that are missing.
#
# Debian/Ubuntu only (apt). Runs `apt-get update` once, then `apt-get install`, through sudo when not
# root. On other systems install the equivalents by hand: QGIS >= 3.22 with its Python bindings,
# GDAL >= 3.6 with Python bindings, rasterio built against that same GDAL, PyYAML, Xvfb, and a
# Python 3.11 with venv; then run `make setup` again with SKIP_SYSTEM_PACKAGES=1.
set -euo pipefail

PACKAGES=(
  qgis python3-qgis qgis-providers       # QGIS 3.22 desktop, its Python API, data providers
  gdal-bin python3-gdal python3-rasterio # one GDAL/PROJ for QGIS, rasterio and ogr
  python3-yaml python3-matplotlib
  python3.11 python3.11-venv
  xvfb xauth                             # a virtual screen for the end-to-end QGIS tests
  qttools5-dev-tools                     # lrelease: the translation test compiles a .ts as translators do
)

if [[ "${SKIP_SYSTEM_PACKAGES:-0}" == "1" ]]; then
  echo "setup: SKIP_SYSTEM_PACKAGES=1, not checking Debian packages"
  exit 0
fi

if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
  cat >&2 <<MSG
setup: this is not a Debian-like system (no apt-get/dpkg-query).
Install by hand: QGIS >= 3.22 with Python bindings, GDAL with Python bindings, rasterio built
against the same GDAL, PyYAML, Xvfb, Python 3.11 with venv. Then run:
  SKIP_SYSTEM_PACKAGES=1 make setup
MSG
  exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "installed" ]] || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup: Debian packages present"
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  SUDO=()
elif command -v sudo >/dev/null; then
  SUDO=(sudo)
else
  echo "setup: need root to install: ${missing[*]} (run as root or install sudo)" >&2
  exit 1
fi

echo "setup: installing Debian packages: ${missing[*]}"
"${SUDO[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
