#!/usr/bin/env bash
# Run the default suite (everything but `gpu` tests, or what MARKERS selects) in two processes, as the
# product runs: tests/core without QGIS, tests/plugin and tests/e2e with QGIS (pytest-qgis) and without
# torch. Exit code 5 (no tests selected) is not a failure. Ends with one summary line for both runs.
set -uo pipefail

PY=${PY:-.venv/bin/python}
MARKERS=${MARKERS:-not gpu}
RESULTS=${RESULTS:-.cache/test-results}
mkdir -p "$RESULTS"
rm -f "$RESULTS"/*.xml

status=0
run() {
  local name=$1; shift
  echo "=== $name: pytest $* ==="
  "$PY" -m pytest -m "$MARKERS" --junitxml="$RESULTS/$name.xml" "$@"
  local rc=$?
  if [[ $rc -eq 5 ]]; then
    echo "($name: no tests selected by -m '$MARKERS')"
  elif [[ $rc -ne 0 ]]; then
    status=1
  fi
}

# The engine's process never has QGIS: leave pytest-qgis out (and its ini key unknown, silently).
run core -p no:pytest_qgis -W "ignore:Unknown config option" tests/core "$@"
run plugin tests/plugin tests/e2e "$@"

"$PY" - "$RESULTS" <<'PY'
import sys, pathlib, xml.etree.ElementTree as ET
totals = dict(tests=0, failures=0, errors=0, skipped=0)
for report in pathlib.Path(sys.argv[1]).glob("*.xml"):
    for suite in ET.parse(report).getroot().iter("testsuite"):
        for key in totals:
            totals[key] += int(suite.get(key, 0))
failed = totals["failures"] + totals["errors"]
passed = totals["tests"] - failed - totals["skipped"]
print(f"total: {passed} passed, {failed} failed, {totals['skipped']} skipped")
PY
exit $status
