"""Time of the department's figures (/api/v1/statistics and the dashboard's pages) on a big
database: one cold sample (every cached answer removed first: core.cache.clear) and N warm
ones per request, through Django's test client (middleware, login, audit included).

Writes to the database it is given (a viewer "bench_numbers", audit events, cached answers):
use a benchmark database of your own.

    DB_ENGINE=postgresql DB_NAME=mip_bench_numbers_100000 DB_USER=postgres DB_HOST=127.0.0.1 \\
        .venv/bin/python bench/statistics_api.py --warm 10
"""

import argparse
import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from core import cache  # noqa: E402
from studies.models import Study  # noqa: E402


def requests(newest) -> list[tuple[str, str, dict]]:  # noqa: ANN001
    year = {"date_from": (newest - timedelta(days=364)).isoformat(), "date_to": newest.isoformat()}
    return [
        ("API statistics: 30 days (default)", "/api/v1/statistics/studies", {}),
        ("API statistics: 365 days, weekly", "/api/v1/statistics/studies", year),
        ("API statistics: 365 days, modality CT", "/api/v1/statistics/studies",
         {**year, "equipment_type": "CT"}),
        ("API statistics: all time, yearly", "/api/v1/statistics/studies",
         {"date_from": "2000-01-01", "date_to": newest.isoformat()}),
        ("API statistics: 365 days, Excel", "/api/v1/statistics/studies/export", year),
        ("API quality: counts, all time", "/api/v1/statistics/quality", {}),
        ("API quality: stuck, page 1", "/api/v1/statistics/quality/stuck", {}),
        ("API quality: certified before order, p1", "/api/v1/statistics/quality/certified_before_order", {}),
        ("API quality: duplicate patients, p1", "/api/v1/statistics/quality/duplicate_patients", {}),
        ("web dashboard: 365 days", "/dashboard/", {"days": "365"}),
        ("web data quality", "/dashboard/quality/", {}),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warm", type=int, default=10, help="warm samples per request")
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["*"]
    count = Study.objects.count()
    if not count:
        sys.exit("The database has no studies")
    user, _ = User.objects.get_or_create(username="bench_numbers", defaults={"role": Role.VIEWER})
    api = Client()
    token = api.post(
        "/api/v1/auth/login", {"username": user.username, "password": _password(user)},
        content_type="application/json",
    ).json()["access"]  # fmt: skip
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    web = Client()
    web.force_login(user)
    newest = timezone.localdate(Study.objects.order_by("-order_datetime")[0].order_datetime)
    rows = []
    for name, path, params in requests(newest):
        client = web if path.startswith("/dashboard") else api
        cache.clear()
        samples = []
        for _sample in range(args.warm + 1):
            started = time.perf_counter()
            response = client.get(path, params)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (name, response.status_code, response.content)
        warm = sorted(samples[1:])
        rows.append({
            "request": name,
            "cold_ms": round(samples[0], 1),
            "warm_median_ms": round(statistics.median(warm), 1),
            "warm_max_ms": round(warm[-1], 1),
        })  # fmt: skip
    print(f"{connection.vendor} {connection.settings_dict['NAME']}: {count:,} studies")
    print(f"{'request':44} {'cold':>10} {'warm median':>12} {'warm max':>10}")
    for r in rows:
        print(
            f"{r['request']:44} {r['cold_ms']:>7} ms {r['warm_median_ms']:>9} ms "
            f"{r['warm_max_ms']:>7} ms"
        )
    print(json.dumps({"database": connection.vendor, "studies": count, "requests": rows}))


def _password(user: User) -> str:
    password = "bench-numbers-password-1"  # noqa: S105 - a benchmark database's own user
    user.set_password(password)
    user.save(update_fields=["password"])
    return password


if __name__ == "__main__":
    main()
