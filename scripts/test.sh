#!/usr/bin/env bash
# Run the whole test suite with coverage. SQLite by default; point it at PostgreSQL with the
# same variables as the product (DATABASE_URL, or DB_ENGINE=postgresql DB_NAME=... DB_HOST=...).
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/python -m pytest --cov --cov-report=term-missing:skip-covered --cov-fail-under=85 "$@"
