"""The search step's measurement (cold and warm samples per query class) and the sqlite step,
which repeats it on a SQLite file."""

from __future__ import annotations

import contextlib
import json
import statistics
import time
import urllib.parse

from runall.classes import R, S, only_classes, read_params, search_classes
from runall.client import Client
from runall.common import BENCH, DATA, log
from runall.db import Database, DbHelper, product_run, step_gen
from runall.procs import Procs, db_backend_cpu, db_cpu_delta
from runall.servers import Server, start_product


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    k = max(0, -(-len(s) * p // 100) - 1)  # nearest rank
    return round(s[int(k)], 2)


def stats(values: list[float]) -> dict:
    return {
        "n": len(values),
        "median": round(statistics.median(values), 2) if values else None,
        "p95": pct(values, 95),
        "max": round(max(values), 2) if values else None,
    }


def measure_one(
    client: Client, helper: DbHelper, urls: list[str], args, server_pid: int, pg_name: str | None
) -> dict:
    import load

    # The budget is shared so that slow classes still get warm samples: cold samples until 40 %
    # of it, warm-up until 70 %, warm samples until 100 % (and at least 10 of them, within 2x).
    start = time.monotonic()
    budget = args.class_budget
    deadline = start + 0.4 * budget
    cold: list[float] = []
    warm: list[float] = []
    statuses: dict[int, int] = {}
    # A cold sample follows an import of the data the class searches (a reports import for
    # report search): that table's version is bumped and its warm-up run, as the import would.
    data = "reports" if urls[0].startswith(R) else "studies"
    for i in range(args.cold):
        if time.monotonic() > deadline:
            break
        helper.bump(data)
        status, ms, _ = client.get(urls[i % len(urls)])
        statuses[status] = statuses.get(status, 0) + 1
        if status == 200:
            cold.append(ms)
    # every worker process must have seen each URL once for its cache to be warm
    deadline = start + 0.7 * budget
    for _ in range(args.warmup_passes):
        for u in urls:
            if time.monotonic() < deadline:
                client.get(u)
    deadline, hard_stop = start + budget, start + 2 * budget
    i = 0
    cpu0, t0 = load.tree_cpu_seconds([server_pid]), time.perf_counter()
    db0 = db_backend_cpu(pg_name)
    busy0 = load.machine_busy_seconds()
    while len(warm) < args.warm and (
        time.monotonic() < deadline
        or (len(warm) < min(10, args.warm) and time.monotonic() < hard_stop)
    ):
        status, ms, _ = client.get(urls[i % len(urls)])
        statuses[status] = statuses.get(status, 0) + 1
        if status == 200:
            warm.append(ms)
        i += 1
    cpu1, t1 = load.tree_cpu_seconds([server_pid]), time.perf_counter()
    db1 = db_backend_cpu(pg_name)
    busy1 = load.machine_busy_seconds()
    total = None
    if urls[0].startswith((S, R)):
        with contextlib.suppress(ValueError, AttributeError):
            total = json.loads(client.get(urls[0])[2]).get("total")
    return {
        "cold": stats(cold),
        "warm": stats(warm),
        "errors": sum(v for k, v in statuses.items() if k != 200),
        # the app server's own CPU per warm request (the database's is not included): steadier
        # than wall-clock time on a shared machine; machine_busy_cores shows the contention
        "warm_server_cpu_ms": round((cpu1 - cpu0) * 1000 / max(1, i), 2),
        "warm_db_cpu_ms": round(db_cpu_delta(db0, db1) * 1000 / max(1, i), 2) if pg_name else None,
        "machine_busy_cores": round((busy1 - busy0) / max(1e-6, t1 - t0), 2),
        "status": {str(k): v for k, v in sorted(statuses.items())},
        "example": urllib.parse.unquote(urls[0]),
        "example_total": total,
    }


def measure_classes(server: Server, helper: DbHelper, classes: dict, args) -> dict:
    """Cold: the first request after a bump of the searched data's version (counts and filter
    lists recomputed by its warm-up), one bump per sample. Warm: after every URL of the class
    was requested --warmup-passes times."""
    client = Client(server.base, server.token)
    out = {}
    try:
        for name, urls in classes.items():
            pg_name = server.db.name if server.db.kind == "postgresql" else None
            out[name] = measure_one(client, helper, urls, args, server.pid, pg_name)
            c, w = out[name]["cold"], out[name]["warm"]
            log(
                f"  {name:<14} cold med {c['median']} p95 {c['p95']} | warm med {w['median']} "
                f"p95 {w['p95']} ms (n={w['n']}, app CPU {out[name]['warm_server_cpu_ms']} ms, "
                f"db CPU {out[name]['warm_db_cpu_ms']} ms, "
                f"busy {out[name]['machine_busy_cores']} cores, errors {out[name]['errors']}, total {out[name]['example_total']})"
            )
    finally:
        client.close()
    return out


def step_sqlite(kind: str, user: tuple[str, str], procs: Procs, args) -> dict:
    """The search step again on a SQLite file of --sqlite-n studies (made by the gen step)."""
    path = DATA / f"mip_bench_sqlite_{args.sqlite_n}.sqlite3"
    sq = Database("sqlite3", str(path), args)
    log(f"sqlite: {args.sqlite_n:,} studies in {path}")
    gen = step_gen(sq, args.sqlite_n, args)
    product_run(sq, [BENCH / "dbtool.py", "user", *user])
    sq_params = read_params(gen["files"])
    server = start_product(kind, sq, procs, user, tag="_sqlite")
    helper = DbHelper(sq, procs)
    try:
        return {
            "n": args.sqlite_n,
            "gen": gen,
            "server": kind,
            "search": measure_classes(
                server,
                helper,
                only_classes(search_classes(sq_params, args.sqlite_n), args),
                args,
            ),
        }
    finally:
        helper.close(procs)
        server.stop()
