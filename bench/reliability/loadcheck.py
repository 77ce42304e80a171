#!/usr/bin/env python3
"""Load: 100 concurrent clients for 60 s on 1,000,000 studies (PostgreSQL), realistic mix.

    .venv/bin/python bench/reliability/loadcheck.py [-n 1000000] [-c 100] [-d 60] [--drop] [--db NAME]

Reuses the performance engineer's tools rather than rewriting them: ``bench/gen_db.py`` loads
the data set into a database of this campaign (``mip_rel_load_<n>``, kept for the next run
unless --drop; gen_db.py leaves a database that already holds the data set alone), and
``bench/legacy/load.py`` (run under ``bench/.venv``, which has aiohttp) sends the realistic mix
with report search (``bench/mixes/realistic_reports.json``). The server is gunicorn as the
README's Production section runs it (granian, 2 workers), with the production settings behind an
HTTPS proxy header. Figure: errors (non-2xx/3xx or transport), requests/s, p50/p95/p99.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.reliability.common import (
    PYTHON,
    ROOT,
    Database,
    Figure,
    Procs,
    Server,
    emit,
    log,
    login,
    production_env,
    psql,
)

BENCH = ROOT / "bench"
BENCH_PY = BENCH / ".venv" / "bin" / "python"
REPORT_TERMS = ["结节", "积液", "骨折", "脑梗死", "结石", "囊肿", "nodule", "effusion",
                "pneumonia", "fracture"]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=1_000_000, help="studies")
    parser.add_argument("-c", type=int, default=100, help="concurrent clients")
    parser.add_argument("-d", type=float, default=60.0, help="measured seconds (≤ 60)")
    parser.add_argument("--workers", type=int, default=2, help="server workers (README: 2)")
    parser.add_argument("--drop", action="store_true", help="drop the database afterwards")
    parser.add_argument("--db", help="PostgreSQL database to use (default mip_rel_load_<n>); "
                        "e.g. the performance benchmark's mip_bench_1m, which holds the same "
                        "data set")  # fmt: skip
    parser.add_argument("--quiet-wait", type=float, default=300.0,
                        help="seconds to wait at most for a quiet machine (load average < 1.5)")  # fmt: skip
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not BENCH_PY.exists():
        raise SystemExit(f"{BENCH_PY} missing: see bench/README.md (Set up)")
    work = Path(tempfile.mkdtemp(prefix="mip_rel_load_"))
    db = Database("postgresql", args.db or f"mip_rel_load_{args.n}")
    if not psql(f"SELECT 1 FROM pg_database WHERE datname = '{db.name}'"):
        psql(f'CREATE DATABASE "{db.name}"')
    env = db.env(**{**production_env(work), "LOG_LEVEL": "WARNING"})
    procs = Procs()
    figure = None
    try:
        log(f"gen_db.py -n {args.n} into {db.name} (skipped when already loaded)")
        gen = subprocess.run([str(PYTHON), str(BENCH / "gen_db.py"), "-n", str(args.n)], cwd=ROOT,
                             env=env, capture_output=True, text=True, timeout=1800, check=False)  # fmt: skip
        if gen.returncode != 0:
            raise RuntimeError(gen.stderr[-2000:])
        info = json.loads(gen.stdout.strip().splitlines()[-1])
        params = json.loads(Path(info["files"]["params"]).read_text(encoding="utf-8"))
        params["report_terms"] = REPORT_TERMS
        params_path = work / "params.json"
        params_path.write_text(json.dumps(params, ensure_ascii=False), encoding="utf-8")
        password = secrets.token_urlsafe(16)
        created = subprocess.run(
            [str(PYTHON), "-c", "import django, os, sys; django.setup(); from accounts.models "
             "import User; User.objects.filter(username='rel_load').delete(); "
             "User.objects.create_user('rel_load', 'rel_load@hospital.example', sys.argv[1], "
             "role='viewer')", password],
            cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        if created.returncode != 0:
            raise RuntimeError(created.stderr[-2000:])
        # As the README's Production section runs it: granian, 4 blocking threads per worker.
        server = Server(procs, env, work / "server.log", workers=args.workers, threads=4,
                        access_log=False, kind="granian")  # fmt: skip
        server.wait_ready(timeout=120)
        token = login(server.port, "rel_load", password)["access"]
        # Other tenants of this 2-core machine distort the figure: wait (bounded) for quiet.
        deadline = time.monotonic() + args.quiet_wait
        while os.getloadavg()[0] > 1.5 and time.monotonic() < deadline:
            time.sleep(5)
        loadavg = os.getloadavg()[0]
        out = work / "load.json"
        cmd = [str(BENCH_PY), str(BENCH / "legacy" / "load.py"), "--base-url", server.base,
               "--token", token, "--header", "X-Forwarded-Proto: https",
               "--mix", str(BENCH / "mixes" / "realistic_reports.json"), "--params",
               str(params_path), "-c", str(args.c), "-d", str(args.d), "--warmup", "5",
               "--max-requests", "500000", "--json-out", str(out), "--server-pid",
               str(server.proc.pid), "-q"]  # fmt: skip
        log(f"load.py: {args.c} clients × {args.d:g} s on {server.base}")
        loaded = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                                timeout=args.d + 300, check=False)  # fmt: skip
        if loaded.returncode != 0:
            raise RuntimeError(loaded.stderr[-2000:])
        result = json.loads(out.read_text(encoding="utf-8"))
        latency = result["latency_ms"]
        classes = {name: c["latency_ms"]["p95"] for name, c in result["classes"].items()}
        figure = Figure(
            "Load",
            f"{args.c} concurrent clients × {args.d:g} s (after 5 s warm-up), bench/legacy/"
            f"load.py, mix bench/mixes/realistic_reports.json (search with and without q, "
            f"filters, detail, filter options, report search) on {args.n:,} studies, "
            f"PostgreSQL, granian {args.workers} workers x 4 threads (README), "
            "production settings, 2-core machine",
            f"{result['requests']:,} requests, errors {result['errors']}; "
            f"{result['rps']:.0f} req/s; p50 {latency['p50']:.0f} ms, p95 {latency['p95']:.0f} "
            f"ms, p99 {latency['p99']:.0f} ms; p95 per class (ms): "
            + ", ".join(f"{k} {v:.0f}" for k, v in classes.items())
            + f"; load average at start {loadavg:.1f}, other processes busy "
            f"{result.get('other_busy_cores', '?')} of 2 cores",
            result["errors"] == 0 and result["requests"] > 0,
            {"result": result},
        )
        log(f"  {'ok ' if figure.ok else 'FAIL'} {figure.check}: {figure.figure}")
    finally:
        procs.stop_all()
        if args.drop:
            db.drop()
    if figure and figure.ok:
        shutil.rmtree(work, ignore_errors=True)
    else:
        log(f"work files (logs) kept in {work}")
    emit([figure] if figure else [])
    return 0 if figure and figure.ok else 1


if __name__ == "__main__":
    sys.exit(main())
