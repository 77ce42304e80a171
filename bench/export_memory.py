#!/usr/bin/env python3
"""Peak memory of the study export as the row count grows: it must stay flat.

    DB_ENGINE=postgresql DB_NAME=mip_bench_1m DB_USER=postgres DB_HOST=127.0.0.1 \\
        .venv/bin/python bench/export_memory.py [--rows 50000,100000,200000] [--formats csv,xlsx]

Each (format, rows) runs in a fresh subprocess that sets Django up, notes its RSS, then exports
the first N rows of ``studies.selectors.study_list()`` (newest first, the API's default order)
through ``studies.exports.csv_stream`` or ``studies.exports.xlsx_stream`` to /dev/null, exactly
what ``GET /studies/export`` streams, and reports its own peak RSS (ru_maxrss) and the seconds to
the first chunk and to the end. The
database is whatever the product's settings say; it needs at least max(rows) studies
(bench/gen_db.py). Prints a table, then one JSON line; the JSON also goes to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = Path(os.environ.get("MIP_PRODUCT_DIR") or BENCH.parent)


def rss_mb() -> float:
    with Path("/proc/self/status").open() as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def child(rows: int, fmt: str) -> dict:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection

    from studies import exports
    from studies.selectors import study_list

    queryset = study_list()[:rows]
    # The first query connects and loads what Django loads lazily: part of the baseline.
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    baseline = rss_mb()
    t0 = time.perf_counter()
    stream = exports.csv_stream(queryset) if fmt == "csv" else exports.xlsx_stream(queryset)
    nbytes, lines, first = 0, 0, None
    with Path(os.devnull).open("wb") as sink:
        for chunk in stream:
            if first is None:
                first = time.perf_counter() - t0
            sink.write(chunk)
            nbytes += len(chunk)
            lines += chunk.count(b"\n")
    # A CSV line per row after the header; a sheet's XML line per row after its header.
    count = lines - 1 if fmt == "csv" else queryset.count()
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "format": fmt,
        "rows": count,
        "seconds": round(seconds, 2),
        "first_chunk_s": round(first or 0, 3),
        "rows_per_s": round(count / seconds) if seconds else None,
        "mb": round(nbytes / 1e6, 1),
        "baseline_rss_mb": round(baseline, 1),
        "peak_rss_mb": round(peak, 1),
        "growth_mb": round(peak - baseline, 1),
        "database": connection.vendor,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", default="50000,100000,200000")
    ap.add_argument("--formats", default="csv,xlsx")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per export at most")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(int(args.rows), args.formats)))
        return 0
    results = []
    for fmt in [f.strip() for f in args.formats.split(",") if f.strip()]:
        for rows in [int(r) for r in args.rows.split(",") if r.strip()]:
            r = subprocess.run(
                [sys.executable, __file__, "--child", "--rows", str(rows), "--formats", fmt],
                capture_output=True,
                text=True,
                timeout=args.timeout,
                cwd=str(ROOT),
            )
            if r.returncode != 0:
                print(r.stderr[-2000:], file=sys.stderr)
                return 1
            res = json.loads(r.stdout.strip().splitlines()[-1])
            if res["rows"] != rows:
                print(f"warning: asked {rows} rows, exported {res['rows']}", file=sys.stderr)
            results.append(res)
            print(
                f"{fmt:<5}{res['rows']:>9,} rows {res['seconds']:>7.1f} s "
                f"(first chunk {res['first_chunk_s']:.2f} s) "
                f"{res['rows_per_s'] or 0:>8,} rows/s {res['mb']:>7.1f} MB   RSS baseline "
                f"{res['baseline_rss_mb']:>6.1f} MB  peak {res['peak_rss_mb']:>6.1f} MB  "
                f"growth {res['growth_mb']:>6.1f} MB",
                file=sys.stderr,
                flush=True,
            )
    out = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "results": results}
    results_dir = BENCH / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"export_memory_{time.strftime('%Y%m%d_%H%M%S')}.json"
    path.write_text(json.dumps(out, indent=1), encoding="utf-8")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
