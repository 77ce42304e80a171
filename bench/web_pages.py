"""Render time of the web UI's pages on a big database, read-only.

Calls the page views in-process with Django's RequestFactory (template rendering included, no
network, no session, no audit write: the audit middleware is not in the path), so it can run
against a shared benchmark database without changing it. For each page: one cold sample
(process cache empty: counts and filter lists computed) and N warm ones; prints a table and
JSON.

    DB_ENGINE=postgresql DB_NAME=mip_bench_1m DB_USER=postgres DB_HOST=127.0.0.1 \
        .venv/bin/python bench/web_pages.py --warm 20
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django_htmx.middleware import HtmxDetails  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from studies.models import Study  # noqa: E402
from web import dashboard, views  # noqa: E402

PAGES = [
    ("studies: first page", views.studies, "/studies/", {}),
    ("studies: q=王 (one Chinese character)", views.studies, "/studies/", {"q": "王"}),
    ("studies: q=王小明", views.studies, "/studies/", {"q": "王小明"}),
    ("studies: status + source filter", views.studies, "/studies/", None),  # filled below
    ("studies: sort by patient name", views.studies, "/studies/", {"sort": "patient_name"}),
    ("studies: page 5,000", views.studies, "/studies/", {"page": "5000"}),
    ("studies: htmx fragment", views.studies, "/studies/", {"q": "张"}),
    ("study detail", views.study_detail, None, {}),
    ("patient page (its record number)", views.patient_detail, None, {}),
    ("dashboard: 30 days", dashboard.dashboard, "/dashboard/", {}),
    ("dashboard: 365 days", dashboard.dashboard, "/dashboard/", {"days": "365"}),
    ("data quality", dashboard.quality, "/dashboard/quality/", {}),
]


def _request(factory: RequestFactory, path: str, params: dict, *, fragment: bool):
    headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"} if fragment else {}
    request = factory.get(path, params, **headers)
    request.user = User(username="bench", role=Role.VIEWER)  # never saved
    request.htmx = HtmxDetails(request)
    return request


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warm", type=int, default=20, help="warm samples per page")
    args = parser.parse_args()
    factory = RequestFactory()
    first = (
        Study.objects.order_by("-order_datetime")
        .values("exam_id", "exam_status", "exam_source", "medical_record_no")
        .first()
    )
    if first is None:
        sys.exit("The database has no studies")
    count = Study.objects.count()
    rows = []
    for name, view, path, params in PAGES:
        if params is None:
            params = {"exam_status": first["exam_status"], "exam_source": first["exam_source"]}
        kwargs = {}
        if view is views.study_detail:
            path, kwargs = f"/studies/{first['exam_id']}/", {"exam_id": first["exam_id"]}
        elif view is views.patient_detail:
            mrn = first["medical_record_no"]
            path, kwargs = f"/patients/{mrn}/", {"medical_record_no": mrn}
        fragment = "fragment" in name
        cache.clear()
        samples = []
        for _sample in range(args.warm + 1):
            request = _request(factory, path, params, fragment=fragment)
            started = time.perf_counter()
            response = view(request, **kwargs)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (name, response.status_code)
            samples.append(elapsed)
        warm = sorted(samples[1:])
        rows.append({
            "page": name,
            "cold_ms": round(samples[0], 1),
            "warm_median_ms": round(statistics.median(warm), 1),
            "warm_p95_ms": round(warm[max(0, int(len(warm) * 0.95) - 1)], 1),
            "warm_max_ms": round(warm[-1], 1),
            "bytes": len(response.content),
        })  # fmt: skip
    print(f"{connection.vendor} {connection.settings_dict['NAME']}: {count:,} studies")
    print(f"{'page':42} {'cold':>9} {'median':>9} {'p95':>9} {'max':>9}")
    for r in rows:
        print(
            f"{r['page']:42} {r['cold_ms']:>7} ms {r['warm_median_ms']:>6} ms "
            f"{r['warm_p95_ms']:>6} ms {r['warm_max_ms']:>6} ms"
        )
    print(json.dumps({"database": connection.vendor, "studies": count, "pages": rows}))


if __name__ == "__main__":
    main()
