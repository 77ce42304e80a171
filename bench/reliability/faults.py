#!/usr/bin/env python3
"""Fault checks that take minutes: crashes and a lost database, on PostgreSQL.

    .venv/bin/python bench/reliability/faults.py [--kills 20] [--worker-kills 10] [--rows 30000]

- kill -9 of ``manage.py import_excel`` at random moments (≥ 20 times), then every file again;
- pg_terminate_backend of an import's connection while it writes, then the same file again;
- kill -9 of ``run_analysis_worker`` while it runs analyses (≥ 10 times), then one worker to
  the end of the queue;
- /health through a TCP proxy to PostgreSQL that is cut and restored (the machine's PostgreSQL
  is never stopped), with the same gunicorn processes throughout.

Works in a database of its own, ``mip_rel_faults_<pid>``, dropped at the end. Every process
runs in its own process group and is killed on the way out; every wait has a deadline.
Figures: one JSON line on stdout (for run.py), progress on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import signal
import socket
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import xlsxwriter

from bench.reliability.common import (
    PG,
    PYTHON,
    Figure,
    Http,
    Server,
    finish,
    free_port,
    log,
    manage,
    psql,
    setup_django,
    suite,
    timed,
)

if TYPE_CHECKING:
    from bench.reliability.common import Database, Procs

HEADERS = ["检查号", "病历号", "姓名", "性别", "年龄", "检查状态", "检查来源", "检查项目",
           "设备类型", "检查描述", "开单时间"]  # fmt: skip


def write_ris(path: Path, prefix: str, rows: int) -> Path:
    """A RIS export (.xlsx) of ``rows`` studies whose exam IDs all start with ``prefix``."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet()
    stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for col, header in enumerate(HEADERS):
        sheet.write_string(0, col, header)
    for n in range(rows):
        values = [f"{prefix}{n:07d}", f"M{n:09d}", "测试患者", "男" if n % 2 else "女",
                  f"{20 + n % 60}岁", "已审核", "门诊", "胸部CT平扫", "CT", "双肺纹理清晰"]  # fmt: skip
        for col, value in enumerate(values):
            sheet.write_string(n + 1, col, value)
        sheet.write_datetime(n + 1, 10, datetime(2025, 1, 1 + n % 28, 8, n % 60), stamp)
    book.close()
    return path


def count_prefix(prefix: str) -> int:
    from studies.models import Study

    return Study.objects.filter(exam_id__startswith=prefix).count()


# ---------------------------------------------------------------------------- kill -9 imports


def check_import_kills(env: dict, procs: Procs, work: Path, kills: int, rows: int) -> Figure:
    from ingest.models import ImportBatch

    calibration = write_ris(work / "cal.xlsx", "CAL", rows)
    with timed() as clock:
        done = manage(env, "import_excel", str(calibration))
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-1500:])
    duration = max(clock["seconds"], 0.5)
    log(f"  one import of {rows:,} rows takes {duration:.1f} s")
    rng = random.Random(20251029)
    outcomes, partial = [], []
    files = []
    for i in range(kills):
        prefix = f"K{i:02d}X"
        path = write_ris(work / f"kill_{i:02d}.xlsx", prefix, rows)
        files.append((prefix, path))
        delay = rng.uniform(0.05, duration * 1.05)
        proc = procs.start([PYTHON, "manage.py", "import_excel", str(path)], env=env,
                           log_path=work / f"kill_{i:02d}.log")  # fmt: skip
        time.sleep(delay)
        finished_first = proc.poll() is not None
        procs.kill9(proc)
        stored = count_prefix(prefix)
        outcomes.append("finished first" if finished_first or stored == rows else "killed")
        if stored not in (0, rows):
            partial.append(f"{prefix}: {stored} of {rows} after a kill at {delay:.2f} s")
    # Every file again, to the end: each row exactly once.
    rerun_failures = []
    for prefix, path in files:
        done = manage(env, "import_excel", str(path))
        if done.returncode != 0 or count_prefix(prefix) != rows:
            rerun_failures.append(f"{prefix}: exit {done.returncode}, {count_prefix(prefix)} rows")
    from studies.models import Study

    total = Study.objects.count()
    expected = rows * (kills + 1)
    left_running = ImportBatch.objects.filter(status="running").count()
    killed = outcomes.count("killed")
    ok = not partial and not rerun_failures and total == expected and killed >= kills // 2
    return Figure(
        "kill -9 of imports",
        f"manage.py import_excel of a {rows:,}-row RIS .xlsx killed (SIGKILL, process group) "
        f"at a random moment in 0.05–{duration * 1.05:.1f} s, {kills} times, PostgreSQL; then "
        "every file imported again",
        f"{kills} kills ({killed} mid-import, {kills - killed} after it finished): partial "
        f"batches {len(partial)}; re-run: {total:,} rows = {kills + 1} files × {rows:,}, each "
        f"once; failed re-runs {len(rerun_failures)}; batches left 'running' {left_running}",
        ok,
        {"partial": partial, "rerun_failures": rerun_failures},
    )


# ---------------------------------------------------------------------------- pg_terminate_backend


def check_terminate(env: dict, procs: Procs, work: Path, db: Database, rows: int) -> Figure:
    from ingest.models import ImportBatch

    prefix = "TERMX"
    path = write_ris(work / "terminate.xlsx", prefix, rows)
    proc = procs.start([PYTHON, "manage.py", "import_excel", str(path)], env=env,
                       log_path=work / "terminate.log")  # fmt: skip
    killed_during, deadline = "", time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and not killed_during:
        found = psql(
            "SELECT pid, left(query, 40) FROM pg_stat_activity WHERE datname = "
            f"'{db.name}' AND state = 'active' AND pid <> pg_backend_pid() AND "
            "(query LIKE 'COPY ingest_staging%' OR query LIKE 'INSERT INTO \"studies_study\"%')",
            db="postgres",
        )
        if found:
            pid, query = found.splitlines()[0].split("|", 1)
            psql(f"SELECT pg_terminate_backend({int(pid)})")
            killed_during = query
        else:
            time.sleep(0.02)
    with contextlib.suppress(Exception):
        proc.wait(60)
    exit_code = proc.poll()
    procs.stop(proc)
    stored = count_prefix(prefix)
    batch = ImportBatch.objects.filter(file_name=path.name).order_by("-started_at").first()
    status = batch.status if batch else "missing"
    retry = manage(env, "import_excel", str(path))
    after = count_prefix(prefix)
    ok = (bool(killed_during) and exit_code not in (0, None) and stored == 0
          and status == "failed" and retry.returncode == 0 and after == rows)  # fmt: skip
    return Figure(
        "pg_terminate_backend of an import",
        f"manage.py import_excel of {rows:,} rows; its backend terminated while it ran "
        f"'{killed_during.strip() or '-'}…'; then the same file again",
        f"import exit {exit_code}; rows written {stored}; batch recorded '{status}'; retry exit "
        f"{retry.returncode}, {after:,} rows",
        ok,
        {"log": (work / "terminate.log").read_text(errors="replace")[-1500:]},
    )


# ---------------------------------------------------------------------------- kill -9 workers


def check_worker_kills(env: dict, procs: Procs, work: Path, kills: int, tasks: int) -> Figure:
    from django.db.models import Count

    from analysis import services
    from analysis.models import AnalysisTask
    from audit.models import AuditEvent
    from reports.models import Report
    from studies.models import Study

    for n in range(tasks):
        study = Study.objects.create(
            exam_id=f"WK{n:04d}", patient_name="测试", exam_status="已审核", exam_source="门诊",
            exam_item="胸部CT平扫", order_datetime="2025-01-01T08:00:00+00:00",
            medical_record_no=f"WKM{n % 4}",
        )  # fmt: skip
        Report.objects.create(
            report_id=f"RWK{n:04d}", study=study, radiologist="李医生", status="finalized",
            content="检查所见：右肺上叶结节 8mm，考虑炎性。诊断意见：右肺结节。",
            created_at="2025-01-01T09:00:00+00:00",
        )  # fmt: skip
    kinds = ["general", "detailed", "comparison"]
    ids = [services.analysis_create(exam_id=f"WK{n:04d}", analysis_type=kinds[n % 3]).task_id
           for n in range(tasks)]  # fmt: skip
    worker_env = dict(env, ANALYSIS_STEP_DELAY_SECONDS="0.3", ANALYSIS_STALE_SECONDS="3",
                      ANALYSIS_RECOVERY_INTERVAL_SECONDS="1", ANALYSIS_MAX_ATTEMPTS="20")  # fmt: skip
    cmd = [PYTHON, "manage.py", "run_analysis_worker", "--interval", "0.2", "--no-startup-delay"]
    rng = random.Random(7)
    mid_run = 0
    for k in range(kills):
        worker = procs.start(cmd, env=worker_env, log_path=work / f"worker_{k:02d}.log")
        deadline = time.monotonic() + 60
        while (
            time.monotonic() < deadline
            and not AnalysisTask.objects.filter(
                status="processing", worker_id__endswith=f":{worker.pid}"
            ).exists()
        ):
            if not AnalysisTask.objects.filter(status__in=["pending", "processing"]).exists():
                break
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 1.5))
        mid_run += AnalysisTask.objects.filter(
            status="processing", worker_id__endswith=f":{worker.pid}"
        ).exists()
        procs.kill9(worker)
    # One worker to the end of the queue (it recovers what the killed ones left).
    survivor = procs.start(cmd, env=worker_env, log_path=work / "worker_final.log")
    deadline = time.monotonic() + 240
    while (
        time.monotonic() < deadline
        and AnalysisTask.objects.filter(
            task_id__in=ids, status__in=["pending", "processing"]
        ).exists()
    ):
        time.sleep(0.5)
    procs.stop(survivor)
    states = dict(
        AnalysisTask.objects.filter(task_id__in=ids).values_list("status").annotate(n=Count("pk"))
    )
    runs = AuditEvent.objects.filter(action="analysis.run", outcome="success")
    per_task: dict[str, int] = {}
    for detail in runs.values_list("detail", flat=True):
        if detail.get("task_id") in ids:
            per_task[detail["task_id"]] = per_task.get(detail["task_id"], 0) + 1
    duplicates = sum(1 for n in per_task.values() if n > 1)
    with_result = AnalysisTask.objects.filter(task_id__in=ids, result__isnull=False).count()
    stuck = states.get("processing", 0)
    lost = tasks - sum(states.get(s, 0) for s in ("completed", "failed", "cancelled"))
    ok = (stuck == 0 and lost == 0 and duplicates == 0 and states.get("completed", 0) == tasks
          and with_result == tasks and mid_run >= kills // 2)  # fmt: skip
    return Figure(
        "kill -9 of analysis workers",
        f"{tasks} analyses (general/detailed/comparison, 0.3 s per step), run_analysis_worker "
        f"killed (SIGKILL) {kills} times at random moments while it ran one; then one worker "
        "to the end (recovery after 3 s without a heartbeat)",
        f"{kills} kills ({mid_run} mid-analysis): stuck processing {stuck}; lost {lost}; "
        f"completed {states.get('completed', 0)}/{tasks}; tasks with more than one completed "
        f"run {duplicates}",
        ok,
        {"states": states},
    )


# ---------------------------------------------------------------------------- database outage


class Proxy:
    """A TCP proxy to PostgreSQL that can be cut (listener closed, connections reset) and
    restored on the same port: the database becomes unreachable without stopping it."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target, self.port = target, free_port()
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        self.listener: socket.socket | None = None
        self.up = False
        self.restore()

    def restore(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(64)
        sock.settimeout(0.2)
        self.listener, self.up = sock, True
        threading.Thread(target=self._accept, args=(sock,), daemon=True).start()

    def cut(self) -> None:
        self.up = False
        if self.listener:
            self.listener.close()
        with self.lock:
            for conn in self.conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            self.conns.clear()

    def _accept(self, listener: socket.socket) -> None:
        while self.up and listener is self.listener:
            try:
                client, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.cut()


def check_outage(env: dict, procs: Procs, work: Path, outage_seconds: float) -> Figure:
    proxy = Proxy((PG["host"], int(PG["port"])))
    server = None
    try:
        server_env = dict(env, DB_PORT=str(proxy.port), DB_CONNECT_TIMEOUT="2")
        server = Server(procs, server_env, work / "outage_server.log", access_log=False)
        server.wait_ready()
        pids = (server.proc.pid, sorted(server.workers()))
        http = Http(server.port, timeout=30)
        before = [http.get("/api/v1/health").status for _ in range(5)]
        proxy.cut()
        cut_at = time.monotonic()
        during: list[tuple[int, float]] = []
        while time.monotonic() - cut_at < outage_seconds:
            try:
                answer = http.get("/api/v1/health")
                during.append((answer.status, answer.seconds))
            except OSError:
                during.append((-1, 0.0))
            time.sleep(0.25)
        data_during = http.get("/api/v1/studies/search").status
        proxy.restore()
        restored_at, recovered_after = time.monotonic(), None
        while time.monotonic() - restored_at < 60:
            if http.get("/api/v1/health").status == 200:
                recovered_after = time.monotonic() - restored_at
                break
            time.sleep(0.25)
        same_processes = pids == (server.proc.pid, sorted(server.workers()))
    finally:
        if server:
            server.stop()
        proxy.close()
    statuses = sorted({s for s, _ in during})
    slowest = max((t for _, t in during), default=0.0)
    ok = (before == [200] * 5 and statuses == [503] and recovered_after is not None
          and same_processes and slowest < 10)  # fmt: skip
    return Figure(
        "/health through a database outage",
        f"gunicorn → TCP proxy → PostgreSQL; proxy cut (connections reset, port closed) for "
        f"{outage_seconds:g} s, then restored; the same gunicorn processes throughout",
        f"before: 200 ×5; during: {len(during)} answers {statuses} (slowest {slowest:.1f} s; "
        f"an unauthenticated data call {data_during}); after: 200 again "
        + (f"{recovered_after:.1f} s after the restore" if recovered_after is not None else "NEVER")
        + f"; app restarted: {'no' if same_processes else 'YES'}",
        ok,
    )


# ---------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--worker-kills", type=int, default=10)
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--tasks", type=int, default=12)
    parser.add_argument("--outage", type=float, default=10.0, help="seconds without database")
    parser.add_argument("--only", help="comma-separated: imports,terminate,workers,outage")
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = Path(tempfile.mkdtemp(prefix="mip_rel_faults_"))
    figures = []
    with suite("postgresql", "faults", work) as (db, procs):
        env = db.env(DEBUG="False", VAR_DIR=str(work / "var"), LOG_LEVEL="INFO",
                     SECRET_KEY="faults-" + "x" * 50, JWT_SECRET_KEY="faults-jwt-" + "y" * 50)  # fmt: skip
        migrated = manage(env, "migrate", "--noinput")
        if migrated.returncode != 0:
            raise RuntimeError(migrated.stderr[-2000:])
        setup_django(env)
        log(f"faults on PostgreSQL {db.name}; work files in {work}")
        steps = [
            ("imports", lambda: check_import_kills(env, procs, work, args.kills, args.rows)),
            ("terminate", lambda: check_terminate(env, procs, work, db, args.rows * 2)),
            (
                "workers",
                lambda: check_worker_kills(env, procs, work, args.worker_kills, args.tasks),
            ),
            ("outage", lambda: check_outage(env, procs, work, args.outage)),
        ]
        for name, step in steps:
            if only and name not in only:
                continue
            log(f"{name} ...")
            with timed() as clock:
                figure = step()
            figure.seconds = clock["seconds"]
            log(f"  {'ok ' if figure.ok else 'FAIL'} {figure.check}: {figure.figure}")
            figures.append(figure)
    return finish(figures, work)


if __name__ == "__main__":
    sys.exit(main())
