"""Write sample radiology data files.

    python -m sampledata --studies 3000 --out-dir sample_data
    python -m sampledata --seed 7 --formats studies.csv,reports.json

Options:
  --studies N      number of studies (default 3000)
  --seed S         random seed (default 20251029); the same seed gives the same files
  --out-dir DIR    where to write (default sample_data), created if missing
  --formats LIST   comma-separated files to write, from studies.xlsx, studies.csv,
                   reports.xlsx, reports.csv, reports.json, or "all"
                   (default studies.xlsx,studies.csv,reports.xlsx,reports.json)
  --end DATETIME   the export time; every date is at or before it (default 2025-10-29T13:02:03)
  --days D         how many days before --end the studies span (default 730)
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sampledata.reports import generate_reports
from sampledata.studies import DEFAULT_DAYS, DEFAULT_END, DEFAULT_SEED, generate_studies
from sampledata.writers import (
    write_reports_csv,
    write_reports_json,
    write_reports_xlsx,
    write_studies_csv,
    write_studies_xlsx,
)

WRITERS: dict[str, tuple[str, Callable[[Path, Iterable[Any]], int]]] = {
    "studies.xlsx": ("studies", write_studies_xlsx),
    "studies.csv": ("studies", write_studies_csv),
    "reports.xlsx": ("reports", write_reports_xlsx),
    "reports.csv": ("reports", write_reports_csv),
    "reports.json": ("reports", write_reports_json),
}
DEFAULT_FORMATS = "studies.xlsx,studies.csv,reports.xlsx,reports.json"


def _formats(value: str) -> list[str]:
    names = list(WRITERS) if value.strip() == "all" else [v.strip() for v in value.split(",")]
    unknown = [n for n in names if n not in WRITERS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown format {', '.join(unknown) or value!r}; choose from {', '.join(WRITERS)} or all"
        )
    return list(dict.fromkeys(names))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m sampledata",
        description="Write deterministic sample radiology studies and reports.",
    )
    ap.add_argument("--studies", type=int, default=3000, help="number of studies (default 3000)")
    ap.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
    )
    ap.add_argument(
        "--out-dir", default="sample_data", help="output directory (default sample_data)"
    )
    ap.add_argument(
        "--formats",
        type=_formats,
        default=_formats(DEFAULT_FORMATS),
        help=f"comma-separated from {', '.join(WRITERS)}, or all (default {DEFAULT_FORMATS})",
    )
    ap.add_argument(
        "--end",
        type=datetime.fromisoformat,
        default=DEFAULT_END,
        help=f"export time, no date after it (default {DEFAULT_END.isoformat()})",
    )
    ap.add_argument("--days", type=int, default=DEFAULT_DAYS, help="days spanned (default 730)")
    args = ap.parse_args(argv)
    if args.studies < 0 or args.days < 1:
        ap.error("--studies must be >= 0 and --days >= 1")

    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)

    # Each file regenerates the (deterministic) data rather than holding it in memory.
    def studies() -> Iterable[dict[str, Any]]:
        return generate_studies(args.studies, seed=args.seed, end=args.end, days=args.days)

    def reports() -> Iterable[dict[str, Any]]:
        return generate_reports(studies(), seed=args.seed, now=args.end)

    t0 = time.perf_counter()
    for name in args.formats:
        kind, writer = WRITERS[name]
        t1 = time.perf_counter()
        path = out / name
        rows = writer(path, studies() if kind == "studies" else reports())
        size = path.stat().st_size
        print(
            f"wrote {path}  {rows:,} {kind}  {size / 1024:,.0f} KiB  {time.perf_counter() - t1:.2f}s"
        )
    print(f"done in {time.perf_counter() - t0:.2f}s (seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
