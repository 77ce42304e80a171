"""The command line of bench/run_all.py: its options, and the steps run in order."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sys
import time
from pathlib import Path

from runall import common
from runall.classes import S, only_classes, q, read_params, search_classes
from runall.client import Client
from runall.common import ALL_STEPS, BENCH, LEGACY, PRODUCT_PY, RESULTS, SERVER_KINDS, log
from runall.compare import step_after_import, step_compare, step_extended_mix
from runall.db import Database, DbHelper, add_pg_options, last_json, product_run, step_gen
from runall.export import step_export
from runall.import_xlsx import step_import
from runall.measure import measure_classes, step_sqlite
from runall.parity import step_parity
from runall.procs import Procs
from runall.report import markdown, parity_summary
from runall.results import RunFiles
from runall.servers import start_legacy, start_product, step_servers
from runall.snapshot import machine_info, start_run


def build_parser(description: str | None) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("-n", type=int, default=1_000_000, help="studies (default 1,000,000)")
    ap.add_argument("--pg-db", help="PostgreSQL database (default mip_bench_<n>)")
    add_pg_options(ap)
    ap.add_argument("--seed", type=int, default=20251029)
    ap.add_argument("--steps", default=",".join(ALL_STEPS), help=f"from {','.join(ALL_STEPS)}")
    ap.add_argument("--server", default="auto", choices=[*SERVER_KINDS, "auto"],
                    help="server for the later steps; auto = the servers step's pick (gunicorn without that step)")  # fmt: skip
    ap.add_argument("--cold", type=int, default=10, help="cold samples per class")
    ap.add_argument("--classes", help="only these query classes (comma-separated names)")
    ap.add_argument("--warmup-passes", type=int, default=3, help="warm-up passes over the URLs")
    ap.add_argument("--warm", type=int, default=40, help="warm samples per class")
    # 40 % of the budget holds 10 cold samples, each after a bump and the import's warm-up
    # (how long that takes at 1M: bench/README.md, the search step)
    ap.add_argument("--class-budget", type=float, default=150, help="seconds per class at most")
    ap.add_argument("--load-c", type=int, default=100)
    ap.add_argument("--load-d", type=float, default=60)
    ap.add_argument("--load-warmup", type=float, default=30,
                    help="unmeasured seconds of the same load before each compare run (≤ 30)")  # fmt: skip
    ap.add_argument("--rounds", type=int, default=2, help="A B pairs for the legacy comparison")
    ap.add_argument("--servers-c", type=int, default=100)
    ap.add_argument("--servers-d", type=float, default=20)
    ap.add_argument("--servers-rounds", type=int, default=2)
    ap.add_argument("--sqlite-n", type=int, default=100_000)
    ap.add_argument("--export-timeout", type=float, default=600)
    ap.add_argument("--import-timeout", type=float, default=900)
    ap.add_argument("--tag", default="", help="suffix for the result files")
    ap.add_argument(
        "--no-snapshot",
        action="store_true",
        help="run the product from the checkout itself, not from a snapshot of it",
    )
    ap.add_argument("--keep-snapshot", action="store_true", help="keep the snapshot folder")
    ap.add_argument(
        "--snapshot-wait",
        type=float,
        default=900,
        help="seconds to wait for a working tree that passes manage.py check",
    )
    ap.add_argument("--render", metavar="JSON", help="only print the Markdown of a results JSON")
    return ap


def main(argv: list[str] | None = None, description: str | None = None) -> int:
    ap = build_parser(description)
    args = ap.parse_args(argv)
    if args.render:
        print(markdown(json.loads(Path(args.render).read_text(encoding="utf-8"))))
        return 0
    steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    unknown = set(steps) - set(ALL_STEPS)
    if unknown:
        ap.error(f"unknown steps {unknown}")
    if not args.pg_db:
        args.pg_db = "mip_bench_1m" if args.n == 1_000_000 else f"mip_bench_{args.n}"
    if not args.pg_db.startswith("mip_bench"):
        ap.error("use a database named mip_bench_* (the benchmark reloads it)")
    if not PRODUCT_PY.exists():
        ap.error(f"{PRODUCT_PY} missing: run scripts/install.sh first")
    sys.path.insert(0, str(LEGACY))

    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d_%H%M%S") + (f"_{args.tag}" if args.tag else "")
    snapshot = start_run(args.no_snapshot, args.snapshot_wait)
    procs = Procs()
    pg = Database("postgresql", args.pg_db, args)
    pg_steps = [s for s in steps if s != "sqlite"]
    result: dict = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": "python3.11 bench/run_all.py " + " ".join(sys.argv[1:]),
        "n": args.n,
        "database": pg.label() if pg_steps else "—",
        "steps": steps,
        "machine": machine_info(pg if pg_steps else None),
        "loadavg_at_start": os.getloadavg(),
        "product_dir": str(common.PRODUCT_DIR),
        "snapshot": snapshot,
        "warmup_passes": args.warmup_passes,
    }
    user = ("bench", secrets.token_urlsafe(18))
    record = RunFiles(f"run_{stamp}", result, markdown)
    save = record.save

    try:
        files = None
        if pg_steps:
            if "gen" in steps:
                log(f"gen: {args.n:,} studies into {pg.label()}")
                result["gen"] = step_gen(pg, args.n, args)
                files = result["gen"]["files"]
            else:
                files = last_json(product_run(pg, [BENCH / "gen_db.py", "-n", args.n, "--seed",
                                                   args.seed, "--files-only"]))["files"]  # fmt: skip
            info = last_json(product_run(pg, [BENCH / "dbtool.py", "info"]))
            result["reports"] = info["reports_report"]
            if info["studies_study"] != args.n:
                raise SystemExit(f"{pg.name} holds {info['studies_study']} studies, not {args.n}: "
                                 "run with the gen step")  # fmt: skip
            product_run(pg, [BENCH / "dbtool.py", "user", *user])
            params = read_params(files)
            save()

        kind = args.server if args.server != "auto" else "gunicorn"
        if "servers" in steps:
            log("servers: choosing the production server by measurement")
            result["servers"] = step_servers(pg, files["params"], procs, user, args)
            if args.server == "auto":
                kind = result["servers"]["recommended"]
            save()
        result["server"] = kind

        needs_product = {"search", "parity", "compare"} & set(steps)
        if needs_product:
            product = start_product(kind, pg, procs, user)
            first = Client(product.base, product.token)
            result["first_request_after_start_ms"] = round(
                first.get(q(S, page=1, page_size=20))[1], 1
            )
            first.close()
            if "search" in steps:
                classes = search_classes(params, args.n)
                classes = only_classes(classes, args)
                log(f"search: single client on {kind}, {pg.label()}")
                helper = DbHelper(pg, procs)
                try:
                    result["search"] = measure_classes(product, helper, classes, args)
                finally:
                    helper.close(procs)
                save()
            if {"parity", "compare"} & set(steps):
                legacy = start_legacy(files["duckdb"], procs)
                if "parity" in steps:
                    result["parity"] = step_parity(product, legacy, params)
                    log(f"parity: {parity_summary(result['parity'])}")
                    save()
                if "compare" in steps:
                    result["compare"] = step_compare(product, legacy, files["params"], stamp, args)
                    save()
                    procs.stop(legacy.proc)
                    result["extended"] = step_extended_mix(product, files["params"], args)
                    save()
                    helper = DbHelper(pg, procs)
                    try:
                        result["after_import"] = step_after_import(
                            product, helper, files["params"], args
                        )
                    finally:
                        helper.close(procs)
                    save()
                procs.stop(legacy.proc)
            product.stop()

        if "export" in steps:
            result["export"] = step_export(kind, pg, procs, user, args)
            save()
        if "import" in steps:
            result["import"] = step_import(args.n, args, procs)
            save()
        if "sqlite" in steps:
            result["sqlite"] = step_sqlite(kind, user, procs, args)
            save()
    finally:
        procs.stop_all()
        if snapshot and not args.keep_snapshot:
            shutil.rmtree(snapshot["dir"], ignore_errors=True)
        record.finish()
    return 0
