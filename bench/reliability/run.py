#!/usr/bin/env python3
"""The security and failure campaign in one command; its figures go to docs/reliability.md.

    .venv/bin/python bench/reliability/run.py --quick     # the CI checks, live server
    .venv/bin/python bench/reliability/run.py --full      # + faults, load, full sizes

(How long each takes: docs/reliability.md.)

--quick runs live.py (access matrix, tokens, parallel refresh, lockout, audit and logs, file
corpus, export injection, deploy check, schemathesis, issue 20's doors) against gunicorn on a PostgreSQL database
of its own (mip_rel_*; SQLite when no PostgreSQL answers on 127.0.0.1:5432). --full adds the
full-size corpus and the real 1,048,576-row sheet limit, faults.py (kill -9 of imports and of
analysis workers, pg_terminate_backend of an import, /health through a database outage) and
loadcheck.py (100 clients × 60 s on 1,000,000 studies). Each suite runs in its own process with
a time limit. Prints a table and the JSON of every figure, writes bench/results/reliability/
run_<stamp>.json, updates the table in docs/reliability.md (--no-docs to leave it), and exits 1
when any figure misses its target.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from bench.reliability.common import PYTHON, RESULTS, ROOT, git_commit, log  # noqa: E402

DOC = ROOT / "docs" / "reliability.md"
START, END = "<!-- figures:start -->", "<!-- figures:end -->"


def run_suite(name: str, args: list[str], timeout: float) -> list[dict]:
    """One suite in a child process group; its figures are the last line of its stdout."""
    cmd = [str(PYTHON), str(HERE / f"{name}.py"), *args]
    log(f"suite {name}: {' '.join(cmd[1:])} (limit {timeout:.0f} s)")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            start_new_session=True)  # fmt: skip
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
        return [{"check": f"{name} suite", "method": "", "figure": f"timed out after {timeout:.0f} s",
                 "ok": False, "details": {}, "seconds": timeout}]  # fmt: skip
    for line in reversed(out.strip().splitlines()):
        if line.startswith("["):
            return json.loads(line)
    return [{"check": f"{name} suite", "method": "", "figure": f"exited {proc.returncode} "
             "without figures", "ok": False, "details": {}, "seconds": 0}]  # fmt: skip


def table(figures: list[dict], date: str, commit: str) -> list[str]:
    rows = ["| check | method | figure | met | date | commit |", "|---|---|---|---|---|---|"]
    for f in figures:
        cells = [f["check"], f["method"], f["figure"], "yes" if f["ok"] else "**NO**", date, commit]
        rows.append(
            "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"
        )
    return rows


def update_doc(figures: list[dict], date: str, commit: str) -> None:
    """Replace the rows of the checks that ran; keep the others (e.g. --full rows after --quick)."""
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else f"{START}\n{END}\n"
    before, rest = text.split(START, 1)
    current, after = rest.split(END, 1)
    rows: dict[str, str] = {}
    for line in current.strip().splitlines()[2:]:
        match = re.match(r"\| (.+?) \| ", line)
        if match:
            rows[match.group(1)] = line
    for line in table(figures, date, commit)[2:]:
        rows[re.match(r"\| (.+?) \| ", line).group(1)] = line
    order = [f["check"] for f in figures]
    keys = order + [k for k in rows if k not in order]
    body = "\n".join(table([], date, commit) + [rows[k] for k in keys if k in rows])
    DOC.write_text(f"{before}{START}\n{body}\n{END}{after}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--quick", action="store_true", help="the CI checks (~3 min)")
    mode.add_argument("--full", action="store_true", help="everything (~25 min)")
    parser.add_argument("--db", choices=["auto", "postgresql", "sqlite"], default="auto")
    parser.add_argument("--suites", help="comma-separated subset of live,faults,load")
    parser.add_argument("--no-docs", action="store_true", help="do not touch docs/reliability.md")
    parser.add_argument("--load-db", help="database for the load check (loadcheck.py --db)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    suites = ["live"] + (["faults", "load"] if args.full else [])
    if args.suites:
        suites = [s for s in args.suites.split(",") if s]
    started = time.time()
    figures: list[dict] = []
    for suite in suites:
        if suite == "live":
            extra = ["--db", args.db] + (["--full", "--max-examples", "60"] if args.full else [])
            figures += run_suite("live", extra, timeout=1800 if args.full else 900)
        elif suite == "faults":
            figures += run_suite("faults", [], timeout=2400)
        elif suite == "load":
            extra = ["--db", args.load_db] if args.load_db else []
            figures += run_suite("loadcheck", extra, timeout=1200)
    date, commit = time.strftime("%Y-%m-%d"), git_commit()

    width = max((len(f["check"]) for f in figures), default=10)
    print(f"{'check':<{width}}  met  figure")
    for f in figures:
        print(f"{f['check']:<{width}}  {'yes' if f['ok'] else 'NO '}  {f['figure']}")
    result = {"date": date, "commit": commit, "mode": "full" if args.full else "quick",
              "seconds": round(time.time() - started), "figures": figures}  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"run_{time.strftime('%Y%m%d_%H%M%S')}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, default=str))
    if not args.no_docs:
        update_doc(figures, date, commit)
        log(f"updated {DOC.relative_to(ROOT)}; raw figures in {out.relative_to(ROOT)}")
    failed = [f["check"] for f in figures if not f["ok"]]
    if failed:
        log(f"figures missed: {', '.join(failed)}")
    return 1 if failed or not figures else 0


if __name__ == "__main__":
    sys.exit(main())
