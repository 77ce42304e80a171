#!/usr/bin/env python3
"""Load N generated studies and their reports straight into the product's database.

    .venv/bin/python bench/gen_db.py -n 100000                       # SQLite in var/ (settings)
    DB_ENGINE=postgresql DB_NAME=mip_bench_1m DB_USER=postgres DB_HOST=127.0.0.1 \\
        .venv/bin/python bench/gen_db.py -n 1000000

The database is whatever the product's settings say (DATABASE_URL / DB_*); it is migrated
first. The studies are the legacy generator's (``bench/legacy/gen_studies.py``, same seed ->
same rows as the legacy DuckDB file, which it also writes, with the CSV and params.json, into
``bench/data``), so both services answer the same questions on the same data. Reports: one per
reported study (``bench/reportgen.py``).

PostgreSQL: secondary indexes dropped, COPY (psycopg 3 ``cursor.copy``), indexes rebuilt,
VACUUM ANALYZE. SQLite: batched ``executemany`` in one transaction, indexes rebuilt, ANALYZE.
Idempotent: a database that already holds this data set (same N and seed, recorded in
``bench_dataset``) is left alone unless --force. Prints a JSON summary on stdout.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
# the product to load with: the checkout, or run_all.py's snapshot of it
ROOT = Path(os.environ.get("MIP_PRODUCT_DIR") or BENCH.parent)
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH / "legacy"))

import gen_studies  # noqa: E402  (bench/legacy, on the path above)

from sampledata.reports import REPORT_FIELDS  # noqa: E402  (the product, on the path above)

# The CSV's order, then the two automatic timestamps and the columns computed from
# patient_name (studies.pinyin), as the importer does.
STUDY_COLUMNS = [
    *gen_studies.COLUMNS,
    "created_at",
    "updated_at",
    "patient_name_pinyin",
    "patient_name_initials",
]
NAME_COLUMN = STUDY_COLUMNS.index("patient_name")
ITEM_COLUMN = STUDY_COLUMNS.index("exam_item")
# reportgen's rows (the sample data's report fields, the study as the table's foreign key),
# then the update time.
REPORT_COLUMNS = [
    *("study_id" if field == "exam_id" else field for field in REPORT_FIELDS),
    "updated_at",
]
TABLES = ("studies_study", "reports_report")
DATETIME_COLUMNS = tuple(
    STUDY_COLUMNS.index(c)
    for c in ("order_datetime", "check_in_datetime", "report_certification_datetime")
)
BATCH = 10_000


def log(msg: str) -> None:
    print(f"[gen_db {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def legacy_files(n: int, seed: int, data_dir: Path, xlsx: bool = False) -> dict:
    """The legacy generator's CSV, DuckDB and params.json for N (written if missing)."""
    name = f"studies_{n}" if seed == 20251029 else f"studies_{n}_s{seed}"
    files = {
        "csv": data_dir / f"{name}.csv",
        "duckdb": data_dir / f"{name}.duckdb",
        "params": data_dir / f"{name}.params.json",
    }
    if xlsx:
        files["xlsx"] = data_dir / f"{name}.xlsx"
    if not all(p.exists() for p in files.values()):
        log(f"generating {n:,} studies (legacy generator) into {data_dir}")
        t0 = time.perf_counter()
        args = ["-n", str(n), "--seed", str(seed), "--out-dir", str(data_dir), "--name", name]
        if xlsx:
            args.append("--xlsx")
        old_stdout = sys.stdout
        sys.stdout = sys.stderr  # gen_studies prints its JSON summary; keep our stdout clean
        try:
            if gen_studies.main(args) != 0:
                raise SystemExit("gen_studies.py failed")
        finally:
            sys.stdout = old_stdout
        log(f"legacy files written in {time.perf_counter() - t0:.1f}s")
    return {k: str(v) for k, v in files.items()}


def csv_rows(path: str):
    with Path(path).open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        yield from reader


def django_setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def utc_converter():
    """Local wall-clock text -> what the database stores (UTC for SQLite; PG gets SET TIME ZONE)."""
    from django.conf import settings

    if settings.TIME_ZONE == "UTC":
        return lambda s: s
    from zoneinfo import ZoneInfo

    zone, utc = ZoneInfo(settings.TIME_ZONE), dt.UTC

    def convert(s: str) -> str:
        d = dt.datetime.fromisoformat(s).replace(tzinfo=zone).astimezone(utc)
        return d.replace(tzinfo=None).isoformat(" ")

    return convert


def pinyin(row: list[str]) -> tuple[str, str]:
    from studies.pinyin import name_pinyin

    return name_pinyin(row[NAME_COLUMN])


def search_terms(files: dict, params_path: str) -> str:
    """Beside params.json, the pinyin searches' terms (run_all's q_pinyin, q_initials,
    q_name_item): the pinyin and initials of the Chinese full names params.json offers, and
    for each a word of one of that patient's items (its first two characters: 头颅 of
    头颅CT平扫). Written once, from the CSV; the legacy generator is left as it is."""
    path = Path(params_path).with_suffix("").with_suffix(".search.json")
    if path.exists():
        return str(path)
    from studies.pinyin import name_pinyin, syllables

    params = json.loads(Path(params_path).read_text(encoding="utf-8"))
    names = [x for x in params["q_terms"]["name_full"] if not x.isascii()]
    wanted = set(names)
    items: dict[str, str] = {}
    for row in csv_rows(files["csv"]):
        name, item = row[NAME_COLUMN], row[ITEM_COLUMN]
        if name in wanted and name not in items and item[:2] and not item[:2].isascii():
            items[name] = item[:2]
    terms = {
        # name -> [pinyin, initials, pinyin with a space after the surname]
        "pinyin": {
            name: [*name_pinyin(name), f"{syl[0]} {''.join(syl[1:])}".strip()]
            for name in names
            if (syl := syllables(name))
        },
        "name_item": [[name, items[name]] for name in names if name in items],
    }
    path.write_text(json.dumps(terms, ensure_ascii=False), encoding="utf-8")
    return str(path)


# ------------------------------------------------------------------------------ bookkeeping


def dataset_marker(cursor) -> dict | None:
    try:
        cursor.execute("SELECT info FROM bench_dataset WHERE id = 1")
        row = cursor.fetchone()
    except Exception:
        return None
    return json.loads(row[0]) if row else None


def write_marker(cursor, info: dict) -> None:
    cursor.execute("CREATE TABLE IF NOT EXISTS bench_dataset (id integer PRIMARY KEY, info text)")
    cursor.execute("DELETE FROM bench_dataset")
    cursor.execute("INSERT INTO bench_dataset (id, info) VALUES (1, %s)", [json.dumps(info)])


def counts(cursor) -> dict:
    out = {}
    for table in TABLES:
        cursor.execute(f"SELECT count(*) FROM {table}")
        out[table] = cursor.fetchone()[0]
    return out


# ------------------------------------------------------------------------------ PostgreSQL


def pg_secondary_indexes(cursor) -> list[tuple[str, str]]:
    """(name, CREATE INDEX ...) of every index not backing a constraint, on the two tables."""
    cursor.execute(
        """SELECT i.relname, pg_get_indexdef(x.indexrelid)
           FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
           JOIN pg_class t ON t.oid = x.indrelid
           WHERE t.relname = ANY(%s)
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
           ORDER BY i.relname""",
        [list(TABLES)],
    )
    return list(cursor.fetchall())


def load_postgresql(connection, files: dict, seed: int, now: str) -> dict:
    from django.conf import settings

    from reportgen import ReportGenerator

    timings = {}
    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE %s", [settings.TIME_ZONE])
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '512MB'")
        indexes = pg_secondary_indexes(cursor)
        # Replica role: no FK checks and no per-statement triggers during the load; the data
        # versions are bumped explicitly below, and the FK is verified in one query.
        cursor.execute("SET session_replication_role = replica")
        t0 = time.perf_counter()
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} CASCADE")
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
        studies = 0
        with cursor.copy(f"COPY studies_study ({', '.join(STUDY_COLUMNS)}) FROM STDIN") as copy:
            for row in csv_rows(files["csv"]):
                copy.write_row([v if v != "" else None for v in row] + [now, now, *pinyin(row)])
                studies += 1
        timings["copy_studies_s"] = round(time.perf_counter() - t0, 1)
        log(f"COPY {studies:,} studies in {timings['copy_studies_s']}s")

        t0 = time.perf_counter()
        reports = 0
        gen = ReportGenerator(seed)
        with cursor.copy(f"COPY reports_report ({', '.join(REPORT_COLUMNS)}) FROM STDIN") as copy:
            for r in gen.reports(csv_rows(files["csv"])):
                copy.write_row((*r, now))
                reports += 1
        timings["copy_reports_s"] = round(time.perf_counter() - t0, 1)
        log(f"COPY {reports:,} reports in {timings['copy_reports_s']}s")

        t0 = time.perf_counter()
        pg_build_indexes(connection, [ddl for _, ddl in indexes])
        timings["indexes_s"] = round(time.perf_counter() - t0, 1)
        log(f"rebuilt {len(indexes)} indexes in {timings['indexes_s']}s")
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute(
            "SELECT count(*) FROM reports_report r LEFT JOIN studies_study s "
            "ON s.exam_id = r.study_id WHERE s.exam_id IS NULL"
        )
        orphans = cursor.fetchone()[0]
        if orphans:
            raise SystemExit(f"{orphans} reports without a study")
        bump_versions(cursor)
        cursor.execute("SET TIME ZONE 'UTC'")
    # VACUUM cannot run inside a transaction block; Django runs in autocommit here.
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    timings["vacuum_analyze_s"] = round(time.perf_counter() - t0, 1)
    log(f"VACUUM ANALYZE in {timings['vacuum_analyze_s']}s")
    return {"studies": studies, "reports": reports, **timings}


def pg_build_indexes(connection, statements: list[str], workers: int = 2) -> None:
    """CREATE INDEX on two connections at once (they take compatible SHARE locks): the trigram
    GIN indexes are single-threaded, and this machine has two cores."""
    from concurrent.futures import ThreadPoolExecutor

    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    # the expensive GIN indexes first, so that the two queues end together
    statements = sorted(statements, key=lambda s: (" gin " not in s.lower(), s))

    def build(ddl: str) -> None:
        with psycopg.connect(**params, autocommit=True) as conn:
            conn.execute("SET maintenance_work_mem = '512MB'")
            conn.execute(ddl)

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(build, statements))


def bump_versions(cursor) -> None:
    """What the triggers would have done: cached counts and lists of old data are never reused."""
    for name in ("studies", "reports"):
        cursor.execute(
            "INSERT INTO core_dataversion (name, version) VALUES (%s, 1) "
            "ON CONFLICT (name) DO UPDATE SET version = core_dataversion.version + 1",
            [name],
        )


# ------------------------------------------------------------------------------ SQLite


def load_sqlite(connection, files: dict, seed: int, now: str) -> dict:
    from reportgen import ReportGenerator

    to_utc = utc_converter()
    timings = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('studies_study', 'reports_report')"
        )
        indexes = list(cursor.fetchall())
        cursor.execute("PRAGMA foreign_keys = OFF")
        cursor.execute("PRAGMA synchronous = OFF")
        cursor.execute("PRAGMA cache_size = -200000")
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        # The reports' findings (reports.findings) go with them; run_all reads them again.
        cursor.execute("DELETE FROM reports_reportfinding")
        cursor.execute("DELETE FROM reports_reportfindingsource")
        cursor.execute("DELETE FROM reports_report")
        cursor.execute("DELETE FROM studies_study")
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
        sql = (
            f"INSERT INTO studies_study ({', '.join(STUDY_COLUMNS)}) "
            f"VALUES ({', '.join(['%s'] * len(STUDY_COLUMNS))})"
        )
        batch, studies = [], 0
        for row in csv_rows(files["csv"]):
            values = [v if v != "" else None for v in row]
            for i in DATETIME_COLUMNS:
                if values[i] is not None:
                    values[i] = to_utc(values[i])
            values[5] = int(values[5]) if values[5] is not None else None
            values += [now, now, *pinyin(row)]
            batch.append(values)
            if len(batch) >= BATCH:
                cursor.executemany(sql, batch)
                studies += len(batch)
                batch.clear()
        cursor.executemany(sql, batch)
        studies += len(batch)
        timings["insert_studies_s"] = round(time.perf_counter() - t0, 1)
        log(f"inserted {studies:,} studies in {timings['insert_studies_s']}s")

        t0 = time.perf_counter()
        sql = (
            f"INSERT INTO reports_report ({', '.join(REPORT_COLUMNS)}) "
            f"VALUES ({', '.join(['%s'] * len(REPORT_COLUMNS))})"
        )
        batch, reports = [], 0
        for r in ReportGenerator(seed).reports(csv_rows(files["csv"])):
            batch.append((*r[:5], to_utc(r[5]), to_utc(r[6]), to_utc(r[7]) if r[7] else None, now))
            if len(batch) >= BATCH:
                cursor.executemany(sql, batch)
                reports += len(batch)
                batch.clear()
        cursor.executemany(sql, batch)
        reports += len(batch)
        timings["insert_reports_s"] = round(time.perf_counter() - t0, 1)
        log(f"inserted {reports:,} reports in {timings['insert_reports_s']}s")
        t0 = time.perf_counter()
        for _name, ddl in indexes:
            cursor.execute(ddl)
        timings["indexes_s"] = round(time.perf_counter() - t0, 1)
        cursor.execute("COMMIT")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA foreign_key_check(reports_report)")
        if cursor.fetchone():
            raise SystemExit("reports without a study")
        t0 = time.perf_counter()
        cursor.execute("ANALYZE")
        timings["analyze_s"] = round(time.perf_counter() - t0, 1)
    return {"studies": studies, "reports": reports, **timings}


# ------------------------------------------------------------------------------ main


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("-n", "--count", type=int, default=100_000, help="studies (default 100000)")
    ap.add_argument("--seed", type=int, default=20251029)
    ap.add_argument("--data-dir", default=str(BENCH / "data"))
    ap.add_argument("--force", action="store_true", help="reload even if the data set is there")
    ap.add_argument("--xlsx", action="store_true", help="also write the RIS-style .xlsx")
    ap.add_argument("--files-only", action="store_true", help="only the legacy files, no DB")
    args = ap.parse_args(argv)
    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    files = legacy_files(args.count, args.seed, data_dir, xlsx=args.xlsx)
    files["search_terms"] = search_terms(files, files["params"])
    result = {"n": args.count, "seed": args.seed, "files": files}
    if args.files_only:
        print(json.dumps(result, ensure_ascii=False))
        return 0

    django_setup()
    from django.core.management import call_command
    from django.db import connection

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    result["migrate_s"] = round(time.perf_counter() - t0, 1)
    result["database"] = {
        "vendor": connection.vendor,
        "name": str(connection.settings_dict["NAME"]),
    }
    wanted = {"n": args.count, "seed": args.seed, "generator": "gen_studies+reportgen/1"}
    with connection.cursor() as cursor:
        marker = dataset_marker(cursor)
        have = counts(cursor)
    if (
        not args.force
        and marker
        and {k: marker.get(k) for k in wanted} == wanted
        and have["studies_study"] == args.count
        and have["reports_report"] == marker.get("reports")
    ):
        log(f"{connection.settings_dict['NAME']} already holds this data set: {have}")
        result.update(skipped=True, counts=have)
        print(json.dumps(result, ensure_ascii=False))
        return 0

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0).isoformat(" ")
    if connection.vendor == "postgresql":
        now += "+00"
        loaded = load_postgresql(connection, files, args.seed, now)
    elif connection.vendor == "sqlite":
        loaded = load_sqlite(connection, files, args.seed, now)
    else:
        raise SystemExit(f"unsupported database {connection.vendor}")
    with connection.cursor() as cursor:
        have = counts(cursor)
        write_marker(cursor, {**wanted, "reports": have["reports_report"]})
    if have["studies_study"] != args.count or have["reports_report"] != loaded["reports"]:
        raise SystemExit(f"count mismatch after load: {have} vs {loaded}")
    result.update(loaded)
    result["counts"] = have
    result["total_s"] = round(time.perf_counter() - t_start, 1)
    rate = (loaded["studies"] + loaded["reports"]) / max(1e-9, result["total_s"])
    log(f"done in {result['total_s']}s ({rate:,.0f} rows/s overall)")
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
