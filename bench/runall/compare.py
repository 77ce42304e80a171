"""The compare step: the legacy and the product under the same load (bench/legacy/compare.py),
then the product alone on the mix with report search and right after an import."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

from runall.classes import REPORT_TERMS_EN, REPORT_TERMS_ZH
from runall.common import BENCH, LEGACY, RESULTS, log
from runall.db import DbHelper
from runall.servers import Server


def write_product_params(params_path: str) -> str:
    """params.json + report search terms, for the mix extended with report search."""
    params = json.loads(Path(params_path).read_text(encoding="utf-8"))
    params["report_terms"] = REPORT_TERMS_ZH + REPORT_TERMS_EN
    out = Path(params_path).with_suffix(".product.json")
    out.write_text(json.dumps(params, ensure_ascii=False), encoding="utf-8")
    return str(out)


def step_compare(product: Server, legacy: Server, params_path: str, stamp: str, args) -> dict:
    out_json = RESULTS / f"compare_{stamp}.json"
    cmd = [
        sys.executable, LEGACY / "compare.py",
        "--a", legacy.base, "--a-name", "legacy", "--a-pid", legacy.pid,
        "--b", product.base, "--b-name", "product", "--b-pid", product.pid,
        "--b-token", product.token, "--params", params_path,
        "--mix", LEGACY / "mixes" / "realistic.json",
        "-c", args.load_c, "-d", args.load_d, "--rounds", args.rounds,
        "--warmup", args.load_warmup, "--max-requests", 500_000, "--json-out", out_json,
    ]  # fmt: skip
    budget = args.rounds * 2 * (args.load_d + args.load_warmup + 1 + 40) + 120
    log(
        f"compare: legacy vs product, c={args.load_c}, {args.rounds} rounds x "
        f"({args.load_warmup:g}s warm-up + {args.load_d:g}s)"
    )
    r = subprocess.run([str(c) for c in cmd], cwd=str(LEGACY), capture_output=True, text=True,
                       timeout=budget)  # fmt: skip
    (RESULTS / "logs").mkdir(parents=True, exist_ok=True)
    (RESULTS / "logs" / f"compare_{stamp}.txt").write_text(r.stdout + r.stderr, encoding="utf-8")
    print(r.stdout, flush=True)
    if r.returncode != 0:
        raise SystemExit(f"compare.py failed:\n{r.stderr[-3000:]}")
    report = json.loads(out_json.read_text(encoding="utf-8"))
    cell = report["cells"][0]
    total = cell["summary"]["ALL"]
    runs = cell["runs"]
    ratios = [b["rps"] / a["rps"] for a, b in ((x["a"], x["b"]) for x in runs) if a["rps"]]
    return {
        "concurrency": args.load_c,
        "duration_s": args.load_d,
        "warmup_s": args.load_warmup,
        "rounds": args.rounds,
        "legacy": {
            "rps": total["rps"]["a"],
            "p50": total["p50"]["a"],
            "p95": total["p95"]["a"],
            "p99": total["p99"]["a"],
            "errors": total["errors"]["a"],
            "cpu_ms_per_request": total.get("cpu_ms_per_request", {}).get("a"),
        },
        "product": {
            "rps": total["rps"]["b"],
            "p50": total["p50"]["b"],
            "p95": total["p95"]["b"],
            "p99": total["p99"]["b"],
            "errors": total["errors"]["b"],
            "cpu_ms_per_request": total.get("cpu_ms_per_request", {}).get("b"),
        },
        "rps_ratio_median": round(statistics.median(ratios), 2) if ratios else None,
        "rps_ratio_rounds": [round(x, 2) for x in ratios],
        "cpu_ratio": total.get("cpu_ms_per_request", {}).get("ratio"),
        "other_busy_cores": total.get("other_busy_cores"),
        "per_class": {
            cls: {
                "legacy_p95": row["p95"]["a"],
                "product_p95": row["p95"]["b"],
                "legacy_errors": row["errors"]["a"],
                "product_errors": row["errors"]["b"],
            }
            for cls, row in cell["summary"].items()
        },  # fmt: skip
        "json": str(out_json),
    }


def product_load(product: Server, mix: dict, params: dict, args, label: str) -> dict:
    """The product alone under ``mix``: 100 clients (--load-c) for --load-d seconds, measured
    from the first request (no warm-up)."""
    import load

    plan = load.build_plan(mix, params, 1, load.PLAN_LENGTH)
    cfg = load.Config(
        product.base, plan, args.load_c, args.load_d, 0.0, load.auth_headers(product.token, []),
        500_000, 30.0, "aiohttp", server_pids=[product.pid],
    )  # fmt: skip
    log(f"{label}, c={args.load_c}, {args.load_d}s")
    r = load.run(cfg)
    print(load.format_table(r), flush=True)
    return {
        "concurrency": args.load_c,
        "duration_s": args.load_d,
        "rps": r["rps"],
        "p50": r["latency_ms"]["p50"],
        "p95": r["latency_ms"]["p95"],
        "p99": r["latency_ms"]["p99"],
        "errors": r["errors"],
        "cpu_ms_per_request": r.get("server_cpu_ms_per_request"),
        "other_busy_cores": r.get("other_busy_cores"),
        "classes": {
            k: {
                "rps": v["rps"],
                "p50": v["latency_ms"]["p50"],
                "p95": v["latency_ms"]["p95"],
                "errors": v["errors"],
            }
            for k, v in r["classes"].items()
        },  # fmt: skip
        "error_samples": r.get("error_samples", [])[:5],
    }


def step_extended_mix(product: Server, params_path: str, args) -> dict:
    import load

    mix = load.load_json(str(BENCH / "mixes" / "realistic_reports.json"))
    params = load.load_json(write_product_params(params_path))
    return product_load(product, mix, params, args, "product alone, mix with report search")


def step_after_import(product: Server, helper: DbHelper, params_path: str, args) -> dict:
    """The first minute after an import: a data-version bump and the import's warm-up, then the
    legacy's realistic mix at once, every term and filter combination computed afresh."""
    import load

    helper.bump()
    mix = load.load_json(str(LEGACY / "mixes" / "realistic.json"))
    return product_load(
        product, mix, load.load_json(params_path), args, "product alone, right after an import"
    )
