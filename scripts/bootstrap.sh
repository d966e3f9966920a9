#!/usr/bin/env bash
# Set up everything the tests need, idempotently: a virtualenv in .venv with the pinned
# dependencies (requirements/ci.txt: the extras too, caldav's Radicale included, and the
# caldav client library the CalDAV tests use) and this package installed editable, plus Node 22 and
# the MCP Inspector in .node (skipped without npm unless TODO_REQUIRE_INSPECTOR=1).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "bootstrap: Python 3.11 or newer is required (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.bootstrap-$(cat requirements/ci.txt pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements/ci.txt
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .
  rm -f .venv/.bootstrap-* && touch "$stamp"
fi

if command -v npm >/dev/null 2>&1 || [ "${TODO_REQUIRE_INSPECTOR:-0}" = 1 ]; then
  bash scripts/install-inspector.sh >/dev/null
else
  echo "bootstrap: npm not found; the MCP Inspector test will be skipped" >&2
fi
