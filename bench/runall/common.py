"""Paths, the steps, the issue's targets and the progress log, shared by every module."""

from __future__ import annotations

import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent
ROOT = BENCH.parent
VENV = BENCH / ".venv"
EXTRAS = VENV / "server-extras"  # uvicorn / granian for the product's interpreter (pip --target)
PRODUCT_PY = ROOT / ".venv" / "bin" / "python"
# Where the product's code is run from: the checkout, or (default) a snapshot of its working
# tree taken at the start, so that edits made while the suite runs cannot change or break it.
# cli.main sets it: every module reads it as common.PRODUCT_DIR, never a copy of its own.
PRODUCT_DIR = ROOT
RESULTS = BENCH / "results"
DATA = BENCH / "data"
LEGACY = BENCH / "legacy"

ALL_STEPS = ["gen", "servers", "search", "parity", "compare", "export", "import", "sqlite"]
SERVER_KINDS = ["gunicorn", "gthread", "uvicorn", "granian"]


def log(msg: str) -> None:
    print(f"[run_all {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# The targets: each figure of the report is marked met / NOT met against them.
TARGETS = {
    "search_median_ms": 15,
    "search_p95_ms": 50,
    "options_ms": 5,
    "detail_ms": 5,
    "report_q_p95_ms": 50,
    "load_rps": 300,
    "load_p95_ms": 500,
    "legacy_ratio": 10,
    "import_empty_s": 60,
    "import_upsert_s": 120,
    "import_peak_mb": 1024,
    "export_csv_s": 10,
    "export_xlsx_s": 30,
    "export_first_byte_s": 1,
    "sqlite_p95_ms": 100,
}
