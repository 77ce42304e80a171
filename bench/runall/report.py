"""The results as Markdown (what docs/performance.md shows), each figure marked met / NOT met
against the issue's targets."""

from __future__ import annotations

from runall.common import TARGETS

SEARCH_CLASS_ORDER = ["no_filter", "one_filter", "three_filters", "unselective", "q_zh_1char",
                      "q_zh_2char", "q_zh_3char", "q_latin", "q_pinyin", "q_initials",
                      "q_name_item", "mrn", "patient_history", "date_range", "page_1"]  # fmt: skip


def ok(flag: bool | None) -> str:
    return "—" if flag is None else ("met" if flag else "**NOT met**")


def fmt_ms(v) -> str:
    return "—" if v is None else (f"{v:.1f}" if v < 100 else f"{v:.0f}")


def verdict(s: dict, limit_median, limit_p95, errors: int) -> bool | None:
    if s["median"] is None:
        return None
    good = errors == 0
    if limit_median is not None:
        good = good and s["median"] <= limit_median
    if limit_p95 is not None:
        good = good and s["p95"] <= limit_p95
    return good


def search_rows(
    search: dict, p95_limit: float, median_limit: float | None, sqlite=False
) -> list[str]:
    rows = []
    names = [c for c in SEARCH_CLASS_ORDER if c in search] + sorted(
        c for c in search if c.startswith("page_") and c != "page_1"
    )
    others = [
        c for c in ("options", "detail", "report_q_zh", "report_q_en", "report_finding")
        if c in search
    ]  # fmt: skip
    for name in names + others:
        r = search[name]
        c, w = r["cold"], r["warm"]
        if sqlite:  # the SQLite target: every class p95 <= 100 ms
            limit_m, limit_p = None, p95_limit
        elif name in ("options", "detail"):
            limit_m, limit_p = TARGETS[f"{name}_ms"], None
        elif name.startswith("report_"):
            limit_m, limit_p = None, TARGETS["report_q_p95_ms"]
        else:
            limit_m, limit_p = median_limit, p95_limit

        vw = verdict(w, limit_m, limit_p, r["errors"])
        vc = verdict(c, limit_m, limit_p, r["errors"])
        rows.append(
            f"| {name} | {fmt_ms(w['median'])} | {fmt_ms(w['p95'])} | {ok(vw)} | "
            f"{fmt_ms(c['median'])} | {fmt_ms(c['p95'])} | {ok(vc)} | "
            f"{fmt_ms(r.get('warm_server_cpu_ms'))} | {fmt_ms(r.get('warm_db_cpu_ms'))} | "
            f"{r.get('machine_busy_cores', '')} | {r['errors']} | "
            f"{r['example_total'] if r['example_total'] is not None else ''} | `{r['example']}` |"
        )
    return rows


def parity_summary(p: dict) -> str:
    """The parity step in a sentence (results written before issue 26 compared every URL)."""
    if "superset" not in p:
        return f"{p['identical']}/{p['urls']} responses identical"
    s = p["superset"]
    return (
        f"{p['identical']}/{p['compared']} responses identical; {s['holds']}/{s['urls']} searches "
        "by a Latin or several-word name a superset by design (issue 26: the product also finds "
        "a name by its pinyin and by each word): total ≥ the legacy's and every study of the "
        f"legacy's first page found, {s['more_rows']} of them with more rows "
        f"({s['legacy_rows']:,} legacy, {s['product_rows']:,} product)"
        + "".join(
            f"; **not a superset**: `{c['url']}` ({c.get('why') or 'missing ' + ', '.join(c['missing'])})"
            for c in s["checks"]
            if not c["holds"]
        )
    )


def markdown(result: dict) -> str:
    m = result["machine"]
    lines = [
        f"Run {result['started']} · commit `{m['commit']}` · {m['nproc']} cores, "
        f"{m['mem_gb']} GB RAM · {m.get('pg_version', '')} · Python {m['python']}",
        "",
        f"Command: `{result['command']}`"
        + (
            f" (product code: a snapshot of the working tree at {result['snapshot']['taken']}"
            + (", which had uncommitted changes" if m.get("dirty") else "")
            + ")"
            if result.get("snapshot")
            else ""
        ),
        "",
        f"Data: {result['n']:,} studies, {result.get('reports', 0):,} reports "
        f"({result['database']}); server: **{result.get('server')}** with 2 workers.",
        "",
    ]
    if "servers" in result:
        s = result["servers"]
        lines += [
            f"### Production server choice (realistic mix, {s['concurrency']} clients, "
            f"{s['rounds']} interleaved rounds x {s['duration_s']:g} s)",
            "",
            "| server | req/s (median) | p50 ms | p95 ms | p99 ms | errors | server CPU ms/req |",
            "|---|---|---|---|---|---|---|",
        ]
        for k, v in s["summary"].items():
            lines.append(
                f"| {k} | {v['rps']:.0f} | {fmt_ms(v['p50'])} | {fmt_ms(v['p95'])} | "
                f"{fmt_ms(v['p99'])} | {v['errors']} | {v['cpu_ms_per_request']:.1f} |"
            )
        lines += ["", f"Recommended by this run (most req/s with p95 within target, no errors): **{s['recommended']}**"
                  + (f" (not installed: {', '.join(s['not_installed'])})" if s["not_installed"] else ""),
                  ""]  # fmt: skip
    if "search" in result:
        lines += [
            "### Search, single client (ms, end to end; target median ≤ 15 and p95 ≤ 50; "
            "options and detail median ≤ 5; report q p95 ≤ 50)",
            "",
            "| class | warm median | warm p95 | warm | cold median | cold p95 | cold | app CPU ms | DB CPU ms | busy cores | errors | total | example |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
            *search_rows(result["search"], TARGETS["search_p95_ms"], TARGETS["search_median_ms"]),
            "",
            "Cold = the first request after an import of the data the class searches (studies; "
            "reports for report search): that data's version bumped, then the import's warm-up "
            "(studies' `warm_caches`: filter lists, one grouped count that totals every "
            "combination of the exact-match filters, the per-character counts that total a "
            "one-character term, the edges of the date walk's windows, the bookmarks of every "
            "10,000th row of the date order (where a deep unfiltered page starts), and the first "
            "page of no filter and of each single filter value; reports': filter lists, the first page of "
            "all reports, the counts of frequent characters and pairs of characters, the date "
            "walk's edges); every other page and every other count of a `q` or date search is "
            "computed by that request. Warm = after each URL was requested "
            f"{result.get('warmup_passes', 3)} times (each worker keeps answers in its memory, "
            "in front of the cache table they share). "
            "App CPU / DB CPU = CPU ms per warm request of the app server's processes / of the "
            "PostgreSQL backends serving them; busy cores = the whole machine's during the warm samples.",
            "",
        ]
    if "parity" in result:
        lines += [
            f"Parity with the legacy on the same data: {parity_summary(result['parity'])}.",
            "",
        ]
    if "compare" in result:
        c = result["compare"]
        lp, pp = c["legacy"], c["product"]
        ratio = c["rps_ratio_median"]
        lines += [
            f"### {c['concurrency']} concurrent clients x {c['duration_s']:g} s, realistic mix "
            f"(A B A B, {c['rounds']} rounds, each after {c.get('warmup_s', 2):g} s of the same "
            "load unmeasured; medians)",
            "",
            "| system | req/s | p50 ms | p95 ms | p99 ms | errors | server CPU ms/req |",
            "|---|---|---|---|---|---|---|",
            f"| legacy (FastAPI + DuckDB) | {lp['rps']:.1f} | {fmt_ms(lp['p50'])} | {fmt_ms(lp['p95'])} | "
            f"{fmt_ms(lp['p99'])} | {lp['errors']} | {lp['cpu_ms_per_request'] or 0:.1f} |",
            f"| product | {pp['rps']:.1f} | {fmt_ms(pp['p50'])} | {fmt_ms(pp['p95'])} | "
            f"{fmt_ms(pp['p99'])} | {pp['errors']} | {pp['cpu_ms_per_request'] or 0:.1f} |",
            "",
            f"Product / legacy req/s: **{ratio}x** (rounds {c['rps_ratio_rounds']}); processes "
            f"other than the server and the client (PostgreSQL included) kept "
            f"{(c['other_busy_cores'] or {}).get('a', 0):.2f} / {(c['other_busy_cores'] or {}).get('b', 0):.2f} "
            "cores busy during the legacy / product runs. Targets: 0 errors "
            f"{ok(pp['errors'] == 0)}, ≥ 300 req/s {ok(pp['rps'] >= 300)}, p95 ≤ 500 ms "
            f"{ok(pp['p95'] <= 500)}, ≥ 10x legacy {ok(ratio is not None and ratio >= 10)}.",
            "",
        ]
    if "extended" in result:
        e = result["extended"]
        lines += [
            f"Product alone, the mix extended with report search ({e['concurrency']} clients x "
            f"{e['duration_s']:g} s): {e['rps']:.1f} req/s, p50 {fmt_ms(e['p50'])} / p95 "
            f"{fmt_ms(e['p95'])} / p99 {fmt_ms(e['p99'])} ms, {e['errors']} errors; per class p95: "
            + ", ".join(f"{k} {fmt_ms(v['p95'])}" for k, v in e["classes"].items()),
            "",
        ]
    if "after_import" in result:
        e = result["after_import"]
        lines += [
            f"The first minute after an import (a data-version bump and the import's warm-up, "
            f"then the realistic mix at once, measured from the first request; the product "
            f"alone, {e['concurrency']} clients x {e['duration_s']:g} s): {e['rps']:.1f} req/s, "
            f"p50 {fmt_ms(e['p50'])} / p95 {fmt_ms(e['p95'])} / p99 {fmt_ms(e['p99'])} ms, "
            f"{e['errors']} errors; per class p95: "
            + ", ".join(f"{k} {fmt_ms(v['p95'])}" for k, v in e["classes"].items()),
            "",
        ]
    if "export" in result:
        lines += [
            "### Export of every study through the API",
            "",
            "| format | total s | first byte s | MB | rows | workers' peak RSS MB (growth) | target |",
            "|---|---|---|---|---|---|---|",
        ]
        for fmt, e in result["export"].items():
            limit = TARGETS[f"export_{fmt}_s"]
            good = e["status"] == 200 and e["total_s"] <= limit and e["first_byte_s"] <= 1
            lines.append(
                f"| {fmt} | {e['total_s']} | {e['first_byte_s']} | {e['mb']} | "
                f"{e['csv_rows'] if e['csv_rows'] is not None else ''} | {e['max_hwm_mb']:.0f} "
                f"(+{e['max_hwm_growth_mb']:.0f}) | ≤ {limit} s, first byte ≤ 1 s: {ok(good)} |"
            )
        lines.append("")
    if "import" in result:
        i = result["import"]
        lines += ["### Import of the .xlsx (manage.py import_excel)", ""]
        if not i.get("available"):
            lines += [f"Not available: {i.get('reason')}.", ""]
        else:
            for label, limit in (("empty", 60), ("upsert", 120)):
                v = i.get(label, {})
                lines.append(
                    f"- {label}: {v.get('seconds')} s (≤ {limit} s: "
                    f"{ok(v.get('seconds') is not None and v['seconds'] <= limit and v.get('exit') == 0)}), "
                    f"peak RSS {v.get('peak_rss_mb')} MB (≤ 1024: {ok(v.get('peak_rss_mb') is not None and v['peak_rss_mb'] <= 1024)}); "
                    f"the importer's CPU {v.get('cpu_s')} s, the machine busy {v.get('machine_busy_s')} "
                    f"CPU s meanwhile (both cores; PostgreSQL included)"
                )
            lines.append("")
    if "sqlite" in result:
        sq = result["sqlite"]
        lines += [
            f"### SQLite, {sq['n']:,} studies (target: every search class p95 ≤ 100 ms)",
            "",
            "| class | warm median | warm p95 | warm | cold median | cold p95 | cold | app CPU ms | DB CPU ms | busy cores | errors | total | example |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
            *search_rows(sq["search"], TARGETS["sqlite_p95_ms"], None, sqlite=True),
            "",
        ]
    return "\n".join(lines)
