#!/usr/bin/env python3
"""Two runs of ``run_all.py`` side by side: every figure of the performance table, before and
after, with the change in per cent, marked where the after is worse by more than a threshold.

    python3 bench/compare_runs.py bench/results/run_A.json bench/results/run_B.json [--worse 10]

Lower is better for times, CPU and memory; higher for requests per second and the ratio to the
legacy. Figures only one run has (a query class added since) are listed with the other side
empty. Nothing is measured here: it reads the two JSON files and prints Markdown.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

HIGHER_IS_BETTER = ("req/s", "× legacy")


def search_figures(prefix: str, search: dict[str, Any]) -> dict[str, float | None]:
    figures: dict[str, float | None] = {}
    for name, result in search.items():
        for kind in ("cold", "warm"):
            for stat in ("median", "p95"):
                figures[f"{prefix}{name} {kind} {stat} ms"] = result[kind][stat]
        figures[f"{prefix}{name} app CPU ms/req"] = result.get("warm_server_cpu_ms")
    return figures


def figures(run: dict[str, Any]) -> dict[str, float | None]:
    """The performance table's figures of one run, by a name that says what and in which unit."""
    out = search_figures("", run.get("search", {}))
    if "compare" in run:
        c = run["compare"]
        out["100 clients product req/s"] = c["product"]["rps"]
        out["100 clients product p95 ms"] = c["product"]["p95"]
        out["100 clients product errors"] = c["product"]["errors"]
        out["100 clients legacy req/s"] = c["legacy"]["rps"]
        out["100 clients × legacy"] = c["rps_ratio_median"]
    for part, label in (("extended", "mix with report search"), ("after_import", "first minute after an import")):  # fmt: skip
        if part in run:
            out[f"{label} req/s"] = run[part]["rps"]
            out[f"{label} p95 ms"] = run[part]["p95"]
    for fmt, e in run.get("export", {}).items():
        out[f"export {fmt} total s"] = e["total_s"]
        out[f"export {fmt} first byte s"] = e["first_byte_s"]
        out[f"export {fmt} workers' peak RSS MB"] = e["max_hwm_mb"]
    imported = run.get("import", {})
    for label in ("empty", "upsert"):
        if label in imported:
            out[f"import {label} s"] = imported[label].get("seconds")
            out[f"import {label} peak RSS MB"] = imported[label].get("peak_rss_mb")
            out[f"import {label} importer CPU s"] = imported[label].get("cpu_s")
    if "sqlite" in run:
        out.update(search_figures("SQLite ", run["sqlite"]["search"]))
    return out


def change(name: str, before: float | None, after: float | None) -> float | None:
    """How much worse ``after`` is than ``before``, in per cent (negative: better)."""
    if before is None or after is None or before == 0:
        return None
    worse = (before - after) if name.endswith(HIGHER_IS_BETTER) else (after - before)
    return worse / before * 100


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--worse", type=float, default=10, help="per cent worse that is marked")
    ap.add_argument("--only-worse", action="store_true", help="list the marked figures alone")
    args = ap.parse_args()
    a, b = (figures(json.loads(p.read_text(encoding="utf-8"))) for p in (args.before, args.after))
    print("| figure | before | after | worse by |")
    print("|---|---|---|---|")
    for name in [*a, *(k for k in b if k not in a)]:
        worse = change(name, a.get(name), b.get(name))
        marked = worse is not None and worse > args.worse
        if args.only_worse and not marked:
            continue
        text = "" if worse is None else f"{worse:+.0f} %"
        print(
            f"| {name} | {a.get(name, '')} | {b.get(name, '')} | {f'**{text}**' if marked else text} |"
        )


if __name__ == "__main__":
    main()
