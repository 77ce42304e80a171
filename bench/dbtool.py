#!/usr/bin/env python3
"""Small database chores for the benchmark, run with the product's interpreter and settings.

    .venv/bin/python bench/dbtool.py createdb NAME          # PostgreSQL database, if missing
    .venv/bin/python bench/dbtool.py dropdb NAME_import      # only mip_bench*_import
    .venv/bin/python bench/dbtool.py user USERNAME PASSWORD  # an active admin-role user
    .venv/bin/python bench/dbtool.py info                    # vendor, version, row counts (JSON)
    .venv/bin/python bench/dbtool.py settle                  # CHECKPOINT, then wait for autovacuum
    .venv/bin/python bench/dbtool.py serve                   # reads commands on stdin:
        bump      -> bumps the studies and reports data versions and warms both caches
        bump NAME -> bumps one data version (studies or reports) and warms its caches, as an
                     import of that data does
        quit

The database is whatever the product's settings say (DATABASE_URL / DB_*).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(os.environ.get("MIP_PRODUCT_DIR") or Path(__file__).resolve().parents[1])
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    import psycopg


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _maintenance_connection() -> psycopg.Connection:
    """An autocommit connection to the 'postgres' database of the server the settings point
    at, as the settings' user: CREATE and DROP DATABASE cannot run in the database itself."""
    import psycopg

    setup()
    from django.db import connection

    params = connection.get_connection_params()
    for key in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(key, None)
    params["dbname"] = "postgres"
    return psycopg.connect(**params, autocommit=True)


def createdb(name: str) -> None:
    """CREATE DATABASE name on the server the settings point at (connecting to 'postgres')."""
    if not name.startswith("mip_bench"):
        raise SystemExit("the benchmark only creates databases named mip_bench*")
    with _maintenance_connection() as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    print(json.dumps({"database": name, "created": not exists}))


def dropdb(name: str) -> None:
    """DROP DATABASE name: only the import benchmark's scratch databases (mip_bench*_import)."""
    if not (name.startswith("mip_bench") and name.endswith("_import")):
        raise SystemExit("the benchmark only drops its scratch databases mip_bench*_import")
    with _maintenance_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(json.dumps({"database": name, "dropped": True}))


def user(username: str, password: str) -> None:
    setup()
    from accounts.models import User

    u = User.objects.filter(username=username).first() or User(
        username=username, email=f"{username}@bench.invalid"
    )
    u.role = "admin"
    u.is_active = True
    u.set_password(password)
    u.save()
    print(json.dumps({"user": username, "role": u.role}))


def settle(timeout: str = "600") -> None:
    """Leave PostgreSQL idle before a timed step: write out the dirty buffers the earlier steps
    left (the gen step writes gigabytes; the checkpointer would write them during the step)
    and wait for autovacuum workers to finish. Prints what it waited for (JSON)."""
    import time

    setup()
    from django.db import DatabaseError, connection

    def checkpoint() -> bool:
        try:
            with connection.cursor() as c:
                c.execute("CHECKPOINT")  # superuser or pg_checkpoint only
            return True
        except DatabaseError:
            return False

    t0 = time.monotonic()
    checkpointed = checkpoint()
    checkpoint_s = time.monotonic() - t0
    with connection.cursor() as c:
        while time.monotonic() - t0 < float(timeout):
            c.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'"
            )
            if not c.fetchone()[0]:
                break
            time.sleep(1)
    if checkpointed:
        checkpoint()
    os.sync()
    print(json.dumps({"checkpoint_s": round(checkpoint_s, 1) if checkpointed else "not permitted",
                      "settle_s": round(time.monotonic() - t0, 1)}))  # fmt: skip


def info() -> None:
    setup()
    from django.db import connection

    with connection.cursor() as c:
        if connection.vendor == "postgresql":
            c.execute("SHOW server_version")
            version = "PostgreSQL " + c.fetchone()[0]
        else:
            c.execute("SELECT sqlite_version()")
            version = "SQLite " + c.fetchone()[0]
        out = {
            "vendor": connection.vendor,
            "version": version,
            "name": str(connection.settings_dict["NAME"]),
        }
        for table in ("studies_study", "reports_report"):
            c.execute(f"SELECT count(*) FROM {table}")
            out[table] = c.fetchone()[0]
    print(json.dumps(out))


def bump(*names: str) -> None:
    from django.db import connection

    names = names or ("studies", "reports")
    with connection.cursor() as c:
        marks = ", ".join(["%s"] * len(names))
        c.execute(
            f"UPDATE core_dataversion SET version = version + 1 WHERE name IN ({marks})", names
        )
    # What every import does after it commits (ingest.services): the first pages, totals and
    # filter lists of the new data are computed ahead, into the cache all workers share.
    from reports.services import warm_caches as warm_reports
    from studies.services import warm_caches as warm_studies

    if "studies" in names:
        warm_studies()
    if "reports" in names:
        warm_reports()


def serve() -> None:
    setup()
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "quit":
            break
        try:
            if cmd == "bump" or cmd.startswith("bump "):
                names = cmd.split()[1:]
                if set(names) - {"studies", "reports"}:
                    raise ValueError(f"unknown data {names!r}")
                bump(*names)
            else:
                raise ValueError(f"unknown command {cmd!r}")
            print("ok", flush=True)
        except Exception as exc:  # report, keep serving
            print(f"error {type(exc).__name__}: {exc}", flush=True)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    cmd, args = argv[0], argv[1:]
    {
        "createdb": createdb,
        "dropdb": dropdb,
        "user": user,
        "info": info,
        "serve": serve,
        "settle": settle,
    }[cmd](*args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
