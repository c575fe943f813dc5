# SAM 2 for QGIS. `make test` on a fresh Debian machine installs everything and runs the suite.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: help setup system-packages venv data test test-fast test-plugin-fast test-core test-plugin test-gpu lint format typecheck demo clean distclean package install-plugin qgis

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

setup: system-packages venv data  ## install Debian packages, the venv, sample data and the tiny model (idempotent)

system-packages:  ## apt-get install what is missing (QGIS, GDAL, rasterio, Xvfb, python3.11-venv)
	scripts/setup_system.sh

venv: system-packages  ## create .venv and pip install requirements.txt when it changed
	scripts/setup_venv.sh

data: venv  ## fetch and verify the sample imagery; build the random-init SAM 2.1 tiny checkpoint (cached)
	$(PY) -m core sample-data > /dev/null
	$(PY) -m core weights init > /dev/null
	@echo "setup: sample data and random-init checkpoint ready in $$($(PY) -c 'from core.io.cache import cache_root; print(cache_root())')"

test: setup  ## what CI runs: lint (ruff), types (mypy), then the default suite (everything but gpu tests)
	$(MAKE) --no-print-directory lint typecheck
	scripts/run_tests.sh

test-fast: setup  ## the quick tier while working (under 2 minutes): engine tests marked quick
	$(PY) -m pytest -p no:pytest_qgis -W "ignore:Unknown config option" -m "quick and not slow and not gpu" -q tests/core

test-plugin-fast: setup  ## the plugin's quick tier (about a minute): plugin tests marked quick, real QGIS
	$(PY) -m pytest -m "quick and not slow and not gpu" -q tests/plugin

test-core: setup  ## engine tests only (no QGIS in the process)
	$(PY) -m pytest -p no:pytest_qgis -W "ignore:Unknown config option" -m "not gpu" tests/core

test-plugin: setup  ## plugin and end-to-end tests only (QGIS, no torch in the process)
	$(PY) -m pytest -m "not gpu" tests/plugin tests/e2e

test-gpu: setup  ## tests that need CUDA
	MARKERS=gpu scripts/run_tests.sh

lint:  ## ruff lint and format check
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format:  ## apply ruff's fixes and formatting
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

typecheck:  ## mypy on the engine and the plugin
	$(PY) -m mypy

demo: setup  ## the whole mission on a real and a synthetic orthophoto: clicks, fine-tuning, prediction, report in demo-output/
	$(PY) -m core demo --out demo-output

QGIS_PROFILES ?= $(HOME)/.local/share/QGIS/QGIS3
QGIS_BIN ?= qgis
DEV_PROFILES := .cache/qgis-profiles

package:  ## build dist/sam2_qgis_plugin-<version>.zip (plugin + engine sources)
	$(PY) scripts/package_plugin.py

install-plugin:  ## link the plugin into the default QGIS profile for development
	mkdir -p "$(QGIS_PROFILES)/profiles/default/python/plugins"
	ln -sfn "$(CURDIR)/sam2_qgis_plugin" "$(QGIS_PROFILES)/profiles/default/python/plugins/sam2_qgis_plugin"
	@echo "installed: enable 'SAM 2 Segmentation' in Plugins > Manage and Install Plugins"

qgis: setup  ## start QGIS (a project profile) with the plugin enabled and the engine configured; OPEN="files" loads them
	mkdir -p "$(DEV_PROFILES)/profiles/default/python/plugins" "$(DEV_PROFILES)/profiles/default/QGIS"
	ln -sfn "$(CURDIR)/sam2_qgis_plugin" "$(DEV_PROFILES)/profiles/default/python/plugins/sam2_qgis_plugin"
	grep -q sam2_qgis_plugin "$(DEV_PROFILES)/profiles/default/QGIS/QGIS3.ini" 2>/dev/null || \
	  printf '[PythonPlugins]\nsam2_qgis_plugin=true\n' >> "$(DEV_PROFILES)/profiles/default/QGIS/QGIS3.ini"
	SAM2_QGIS_PYTHON="$(CURDIR)/$(PY)" $(QGIS_BIN) --profiles-path "$(DEV_PROFILES)" $(OPEN)

clean:  ## remove tool caches and test results (keeps .venv and the data cache)
	rm -rf .pytest_cache .ruff_cache .mypy_cache .cache/test-results demo-output
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +

distclean: clean  ## also remove .venv
	rm -rf $(VENV)
