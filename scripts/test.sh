#!/usr/bin/env bash
# The test suite, with the 15 slowest tests listed at the end.
#   bash scripts/test.sh          every test, with coverage (at least 85 %): what CI runs
#   bash scripts/test.sh --fast   for development: no browser tests and no tests that start
#                                 worker or server processes (markers browser and slow), no
#                                 coverage
# SQLite by default; point it at PostgreSQL with the same variables as the product
# (DATABASE_URL, or DB_ENGINE=postgresql DB_NAME=... DB_HOST=...). Other arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
fast=false
args=()
for arg in "$@"; do
    if [ "$arg" = "--fast" ]; then
        fast=true
    else
        args+=("$arg")
    fi
done
bash scripts/install.sh
if "$fast"; then
    exec .venv/bin/python -m pytest -m "not browser and not slow" --durations=15 "${args[@]}"
fi
exec .venv/bin/python -m pytest --cov --cov-report=term-missing:skip-covered --cov-fail-under=85 \
    --durations=15 "${args[@]}"
