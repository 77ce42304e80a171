#!/usr/bin/env python3
"""Cold search requests timed inside one process: what a request costs when no cache holds
its answer, without the import's warm-up that each cold sample of ``run_all.py`` waits for.

    DB_ENGINE=postgresql DB_NAME=mip_bench_1m DB_USER=postgres DB_HOST=127.0.0.1 \\
        .venv/bin/python bench/cold_inprocess.py -n 1000000 --classes q_pinyin,q_latin
    ... --repeat 5 --queries         # each SQL statement of the last sample, with its time
    ... --profile q_latin            # cProfile of one class's samples (cumulative, top 30)

The database must hold the benchmark's data set with its warm-up done (``run_all.py --steps
gen`` or ``dbtool.py serve`` + ``bump``). For each URL of a class (the same URLs as the search
step's, ``runall/classes.py``, and ``mix_<kind>``: the realistic mix's term searches of each kind
of params.json's ``q_terms``) a sample is: this process's cache emptied, the answers that
earlier samples added to the shared answer table deleted (the warm-up's stay), then one GET
through Django's test client with a bearer token, as a server worker would answer it: login,
data versions, the search, the rendering, the audit row. ``--warm`` times the same request
answered from this process's memory instead (asked once just before). Printed: median / p95
/ min per class in ms, and the number of SQL statements of a request.

Another version of the product (a git worktree, its own database) is measured with the same
URLs by pointing ``MIP_PRODUCT_DIR`` at it; run the two one after the other, twice, and
compare within the same minutes. The figures of record stay the search step's (end to end
over HTTP, each cold sample after an import's warm-up); this takes minutes where that step
takes most of an hour at a million studies. ``SORT`` / ``TOP`` set the profile's order and
length (cumulative, 30).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
import urllib.parse
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = Path(os.environ.get("MIP_PRODUCT_DIR") or BENCH.parent)
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

DEFAULT_CLASSES = (
    "no_filter,q_zh_1char,q_zh_2char,q_zh_3char,mrn,q_latin,q_pinyin,q_initials,q_name_item,"
    "patient_history"
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("-n", type=int, default=1_000_000, help="studies of the data set")
    ap.add_argument("--classes", default=DEFAULT_CLASSES)
    ap.add_argument("--repeat", type=int, default=3, help="passes over each class's URLs")
    ap.add_argument("--queries", action="store_true", help="print the last sample's SQL")
    ap.add_argument(
        "--warm", action="store_true", help="time warm requests instead (asked once before each)"
    )
    ap.add_argument("--each", action="store_true", help="print each sample's time and URL")
    ap.add_argument("--profile", metavar="CLASS", help="cProfile this class's samples")
    ap.add_argument("--user", default="bench_cold", help="an admin-role user made if missing")
    args = ap.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Role, User
    from core.models import SharedAnswer
    from runall.classes import S, q, read_params, search_classes
    from runall.measure import pct  # the search step's percentile (nearest rank)

    data = BENCH / "data" / f"studies_{args.n}"  # gen_db.legacy_files' names (the default seed)
    files = {"params": f"{data}.params.json", "search_terms": f"{data}.search.json"}
    params = read_params(files)
    classes = search_classes(params, args.n)
    # The realistic mix's term searches (the first minute after an import asks each cold),
    # one class per kind of term: mix_name_full, mix_surname, mix_latin_fragment, ...
    for kind, terms in params.get("q_terms", {}).items():
        classes[f"mix_{kind}"] = [q(S, q=term, page=1, page_size=20) for term in terms]
    wanted = args.classes.split(",")
    unknown = [c for c in wanted if c not in classes]
    if unknown:
        raise SystemExit(f"unknown classes: {', '.join(unknown)}; known: {', '.join(classes)}")

    password = "bench-cold-Passw0rd!"
    user, _ = User.objects.get_or_create(username=args.user, defaults={"role": Role.ADMIN})
    user.role, user.is_active = Role.ADMIN, True
    user.set_password(password)
    user.save()
    client = Client()
    answer = client.post(
        "/api/v1/auth/login",
        {"username": args.user, "password": password},
        content_type="application/json",
    )
    if answer.status_code != 200:
        raise SystemExit(f"login failed: {answer.status_code} {answer.content[:200]!r}")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {answer.json()['access']}"}
    warm_keys = set(SharedAnswer.objects.values_list("key", flat=True))

    def make_cold() -> None:
        cache.clear()
        SharedAnswer.objects.exclude(key__in=warm_keys).delete()

    def sample(url: str) -> tuple[float, CaptureQueriesContext]:
        if args.warm:
            client.get(url, **headers)  # the answer is now in this process's memory
        else:
            make_cold()
        with CaptureQueriesContext(connection) as queries:
            t0 = time.perf_counter()
            answer = client.get(url, **headers)
            elapsed = (time.perf_counter() - t0) * 1000
        if answer.status_code != 200:
            raise SystemExit(f"{url}: {answer.status_code} {answer.content[:200]!r}")
        return elapsed, queries

    print(
        f"{'class':<18} {'median':>8} {'p95':>8} {'min':>8} {'SQL':>5}  (ms, {args.repeat} x URLs)"
    )
    for name in wanted:
        profiler = cProfile.Profile() if name == args.profile else None
        times, last = [], None
        for _ in range(args.repeat):
            for url in classes[name]:
                if profiler:
                    profiler.enable()
                elapsed, last = sample(url)
                if profiler:
                    profiler.disable()
                times.append(elapsed)
        print(
            f"{name:<18} {statistics.median(times):8.1f} {pct(times, 95):8.1f} "
            f"{min(times):8.1f} {len(last):5d}"
        )
        if args.queries and last is not None:
            for query in last.captured_queries:
                print(f"    {float(query['time']) * 1000:7.2f}  {query['sql'][:160]}")
        if args.each:
            for url, elapsed in zip(classes[name] * args.repeat, times, strict=True):
                print(f"    {elapsed:7.1f}  {urllib.parse.unquote(url)}")
        if profiler:
            pstats.Stats(profiler).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(
                int(os.environ.get("TOP", "30"))
            )
    make_cold()


if __name__ == "__main__":
    main()
