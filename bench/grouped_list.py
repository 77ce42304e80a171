"""The studies list grouped by patient on a big database, read-only: each case's page
(studies.patients.patient_groups_page) timed cold once (process cache empty) and warm N times,
and EXPLAIN ANALYZE of its queries (the page window, the page's patients' matching studies and
all their studies), with the plan of the page window.

    DB_ENGINE=postgresql DB_NAME=mip_bench_100k DB_USER=postgres DB_HOST=127.0.0.1 \
        .venv/bin/python bench/grouped_list.py --warm 10 [--plans]
"""

import argparse
import json
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from studies.models import Study  # noqa: E402
from studies.patients import patient_groups_page  # noqa: E402

PAGE_SIZE = 20


def _cases(total: int) -> list[tuple[str, dict]]:
    status, source = (
        Study.objects.values_list("exam_status", "exam_source").order_by("-exam_id").first()
    )
    middle = total // PAGE_SIZE // 2
    return [
        ("first page", {"page": 1}),
        (f"page {middle:,} (the middle)", {"page": middle}),
        (f"page {total // PAGE_SIZE:,} (the last)", {"page": total // PAGE_SIZE}),
        (f"status {status}", {"page": 1, "exam_status": status}),
        (f"status {status}, page 100", {"page": 100, "exam_status": status}),
        (f"status + source {source}", {"page": 1, "exam_status": status, "exam_source": source}),
        ("q=王 (one character)", {"page": 1, "q": "王"}),
        ("q=王小明", {"page": 1, "q": "王小明"}),
        ("q=张伟", {"page": 1, "q": "张伟"}),
        ("q=wang", {"page": 1, "q": "wang"}),
        ("q=CT + a year of dates", {"page": 1, "q": "CT", "date_from": date(2025, 1, 1),
                                      "date_to": date(2025, 12, 31)}),
    ]  # fmt: skip


def _explain(sql: str) -> tuple[float, list[str]]:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        lines = [row[0] for row in cursor.fetchall()]
    ms = next(float(line.split()[2]) for line in lines if line.startswith("Execution Time"))
    return ms, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", type=int, default=10)
    parser.add_argument("--plans", action="store_true", help="print the page window's plans")
    args = parser.parse_args()
    total = Study.objects.count()
    results = []
    for name, params in _cases(total):
        filters = {k: v for k, v in params.items() if k != "page"}
        cache.clear()  # the process's own cache only (LocMemCache)
        started = time.perf_counter()
        patient_groups_page(page=params["page"], page_size=PAGE_SIZE, **filters)
        cold = (time.perf_counter() - started) * 1000
        warm = []
        for _ in range(args.warm):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                groups, matches, _ = patient_groups_page(
                    page=params["page"], page_size=PAGE_SIZE, **filters
                )
                warm.append((time.perf_counter() - started) * 1000)
        # The last warm call's queries: the data version, the window, the two counts.
        explained = [
            _explain(q["sql"]) for q in queries.captured_queries if "studies_study" in q["sql"]
        ]  # noqa: E501
        window_plan = explained[0][1] if explained else ["(no match: no page query)"]
        row = {
            "case": name, "matches": matches, "groups": len(groups), "cold_ms": round(cold, 1),
            "warm_median_ms": round(statistics.median(warm), 1),
            "explain_ms": [round(ms, 2) for ms, _ in explained],
        }  # fmt: skip
        results.append(row)
        print(
            f"{name:34} matches {matches:>9,}  groups {len(groups):>2}  cold {cold:8.1f} ms"
            f"  warm {row['warm_median_ms']:7.1f} ms  EXPLAIN ANALYZE {row['explain_ms']} ms"
        )
        if args.plans:
            print("\n".join("    " + line for line in window_plan))
    print(json.dumps({"studies": total, "page_size": PAGE_SIZE, "results": results}, indent=1))


if __name__ == "__main__":
    main()
