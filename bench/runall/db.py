"""The product's database (PostgreSQL or SQLite) seen from outside: the environment that
points the product at it, manage.py-style commands run against it, the data-version bumps
(dbtool.py serve) and the gen step that fills it."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time

from runall import common
from runall.common import BENCH, PRODUCT_PY, ROOT, log
from runall.procs import Procs


class Database:
    def __init__(self, kind: str, name: str, args) -> None:
        self.kind, self.name, self.args = kind, name, args

    def env(self) -> dict:
        env = dict(os.environ)
        env.update(
            DATABASE_URL="",
            DEBUG="False",
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
            PYTHONDONTWRITEBYTECODE="1",
            MIP_PRODUCT_DIR=str(common.PRODUCT_DIR),
        )
        for key in ("VIRTUAL_ENV", "PYTHONHOME"):
            env.pop(key, None)
        if self.kind == "postgresql":
            env.update(
                DB_ENGINE="postgresql",
                DB_NAME=self.name,
                DB_USER=self.args.pg_user,
                DB_PASSWORD=self.args.pg_password,
                DB_HOST=self.args.pg_host,
                DB_PORT=str(self.args.pg_port),
            )
        else:
            env.update(DB_ENGINE="sqlite3", DB_NAME=self.name)
        return env

    def label(self) -> str:
        return f"PostgreSQL {self.name}" if self.kind == "postgresql" else f"SQLite {self.name}"


def add_pg_options(ap: argparse.ArgumentParser) -> None:
    """Where the PostgreSQL server is (Database reads them), defaulting to the PG* variables."""
    ap.add_argument("--pg-host", default=os.environ.get("PGHOST", "127.0.0.1"))
    ap.add_argument("--pg-port", type=int, default=int(os.environ.get("PGPORT", "5432")))
    ap.add_argument("--pg-user", default=os.environ.get("PGUSER", "postgres"))
    ap.add_argument("--pg-password", default=os.environ.get("PGPASSWORD", ""))


def product_run(db: Database, args: list, timeout: float = 600, check: bool = True) -> str:
    r = subprocess.run(
        [str(PRODUCT_PY), *[str(a) for a in args]],
        env=db.env(),
        cwd=str(common.PRODUCT_DIR),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and r.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, args))} failed:\n{r.stderr[-3000:]}")
    if r.stderr.strip():
        for line in r.stderr.strip().splitlines()[-8:]:
            log(f"  | {line}")
    return r.stdout


def last_json(text: str) -> dict:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError(f"no JSON in {text[-500:]!r}")


class DbHelper:
    """bench/dbtool.py serve: bumps the data versions on request (what an import does)."""

    def __init__(self, db: Database, procs: Procs) -> None:
        self.p = subprocess.Popen(
            [str(PRODUCT_PY), str(BENCH / "dbtool.py"), "serve"],
            env=db.env(),
            cwd=str(common.PRODUCT_DIR),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        procs.items.append(self.p)

    def bump(self, *names: str) -> None:
        """Bump the data versions of ``names`` (default: studies and reports) and warm them."""
        self.p.stdin.write(" ".join(["bump", *names]) + "\n")
        self.p.stdin.flush()
        answer = self.p.stdout.readline().strip()
        if answer != "ok":
            raise RuntimeError(f"dbtool bump: {answer!r}")

    def close(self, procs: Procs) -> None:
        try:
            self.p.stdin.write("quit\n")
            self.p.stdin.flush()
            self.p.wait(5)
        except Exception:
            pass
        procs.stop(self.p)


def step_gen(db: Database, n: int, args) -> dict:
    if db.kind == "postgresql":
        product_run(db, [BENCH / "dbtool.py", "createdb", db.name])
    t0 = time.perf_counter()
    out = product_run(db, [BENCH / "gen_db.py", "-n", n, "--seed", args.seed], timeout=3600)
    result = last_json(out)
    result["wall_s"] = round(time.perf_counter() - t0, 1)
    # The findings of the reports, as an import reads them (only those not read yet).
    t0 = time.perf_counter()
    out = product_run(db, [ROOT / "manage.py", "extract_report_findings"], timeout=7200)
    result["findings"] = out.strip().splitlines()[-1] if out.strip() else ""
    result["findings_wall_s"] = round(time.perf_counter() - t0, 1)
    # The warm-up an import ends with (the name readings the pinyin searches total from, the
    # filter lists, the bookmarks…): without it a step run right after this one (`--steps
    # gen,compare`) would measure a state no import leaves.
    t0 = time.perf_counter()
    product_run(db, [ROOT / "manage.py", "warm_caches"], timeout=1800)
    result["warm_wall_s"] = round(time.perf_counter() - t0, 1)
    return result
