#!/usr/bin/env python3
"""The whole performance suite in one command: every figure of the performance issue's targets.

    python3.11 bench/run_all.py                       # 1,000,000 studies on PostgreSQL mip_bench_1m
    python3.11 bench/run_all.py -n 100000 --pg-db mip_bench_100k
    python3.11 bench/run_all.py -n 100000 --steps sqlite      # SQLite at 100K only

It re-executes itself under ``bench/.venv`` (created from ``bench/legacy/requirements.txt`` when
missing). Steps (``--steps``, comma-separated, default all):

  gen      generate the data set if missing: PostgreSQL (bench/gen_db.py, COPY) + legacy DuckDB
  servers  gunicorn sync / gunicorn gthread (2 threads) / uvicorn / granian (those installed),
           2 workers each, the realistic mix at 100 clients, interleaved rounds: the one with
           the most req/s whose p95 is within target and no errors is recommended (used later
           with --server auto)
  search   single client, per query class: cold (first request after an import of the data
           the class searches: its data-version bump + that import's cache warm-up)
           and warm medians / p95; filter options; detail; report search q (Chinese, English)
  parity   the same search URLs against the legacy and the product: totals and rows compared;
           a Latin or several-word name must find a superset of the legacy's rows (the
           product also matches pinyin and each word, issue 26)
  compare  100 clients x 60 s, the legacy's realistic mix, legacy (A) and product (B)
           interleaved A B A B (bench/legacy/compare.py), each run after 30 s of the same load
           unmeasured (--load-warmup); then the product alone on the mix extended with report
           search; then the product alone right after an import (bump + warm-up, no warm-up load)
  export   1M-row (all studies) CSV and .xlsx export through the API: total time, time to first
           byte, the server workers' peak RSS (VmHWM) before and after
  import   manage.py import_excel of the N-row .xlsx into an empty database, then again (upsert):
           time and peak RSS; "not available" while the command does not exist
  sqlite   the search step again on SQLite with --sqlite-n studies (default 100,000)

Everything runs on 127.0.0.1, each load bounded in time and requests, every process started in
its own process group and killed on the way out. Results: a table on stdout, and
bench/results/run_<stamp>.json and .md (the .md is what docs/performance.md shows).

The code is in bench/runall/, a module per responsibility (bench/README.md lists them).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# The modules (bench/runall/) sit beside this file: the folder of the script run is on sys.path.
from runall.cli import main
from runall.common import LEGACY, VENV


def ensure_bench_venv() -> None:
    """Run under bench/.venv (aiohttp for the load client, FastAPI + DuckDB for the legacy)."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    py = VENV / "bin" / "python"
    if not py.exists():
        print(f"creating {VENV} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(py), "-m", "pip", "install", "-q", "-r", str(LEGACY / "requirements.txt")],
            check=True,
        )
    os.execv(str(py), [str(py), str(Path(__file__).resolve()), *sys.argv[1:]])


if __name__ == "__main__":
    ensure_bench_venv()
    sys.exit(main(description=__doc__))
