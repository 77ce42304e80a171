#!/usr/bin/env python3
"""The quick checks against a real server: gunicorn + a real database, over loopback HTTP.

    .venv/bin/python bench/reliability/live.py [--db postgresql|sqlite] [--full]

Creates its own database (PostgreSQL ``mip_rel_quick_<pid>``, dropped at the end, or a SQLite
file), migrates it, seeds users of every role and a little patient data through the ORM,
starts gunicorn (2 workers × 8 threads) with the README's production settings behind an
HTTPS proxy (every request carries ``X-Forwarded-Proto: https``), and runs: the access matrix
from the live OpenAPI schema, forged tokens, 20 parallel refreshes, the lockout from several
loopback addresses, the audit session with a grep of the server's log, the file corpus, export
injection, ``check --deploy``, schemathesis, and issue 20's doors (doors.py: the admin's login
and audit, logins ended by a change made in the admin, cancel ownership, CSP, API docs). Prints progress on stderr and its figures as
one JSON line on stdout (bench/reliability/run.py turns them into the table).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.reliability import corpus, doors, policy
from bench.reliability.common import (
    PYTHON,
    ROOT,
    Figure,
    Http,
    Server,
    finish,
    log,
    login,
    manage,
    peak_rss_mb,
    postgres_available,
    production_env,
    setup_django,
    suite,
    timed,
)

if TYPE_CHECKING:
    from bench.reliability.common import Procs

PASSWORD = "Radiology-" + secrets.token_urlsafe(12)
LOCKOUT_FAILURES = 3
LOCKOUT_SECONDS = 8.0
FILE_SECONDS_CAP = 30.0
WORKER_RSS_CAP_MB = 2048
PATIENTS = [("欧阳娜娜", "MRN-7731-0042"), ("Zhang Weiqiang", "MRN-7731-0043")]


class World:
    """Users of every role (and their tokens), and one record of each kind the API serves."""

    def __init__(self) -> None:
        from accounts.models import User
        from analysis.models import AnalysisTask
        from ingest.models import ImportBatch
        from reports.models import Report
        from studies.models import Study

        self.users = {}
        for role in policy.ROLES[1:]:
            self.users[role] = User.objects.create_user(
                f"rel_{role}", f"rel_{role}@hospital.example", PASSWORD, role=role
            )
        for n, (name, mrn) in enumerate(PATIENTS):
            Study.objects.create(
                exam_id=f"REL{n:04d}", patient_name=name, medical_record_no=mrn,
                exam_status="已审核", exam_source="门诊", exam_item="胸部CT平扫",
                order_datetime="2025-11-06T10:30:00+00:00", exam_description="右肺结节",
            )  # fmt: skip
            Report.objects.create(
                report_id=f"RREL{n:04d}", study_id=f"REL{n:04d}", radiologist="李医生",
                content=f"检查所见：{name} 右肺结节 5mm。", status="finalized",
                created_at="2025-11-06T12:00:00+00:00",
            )  # fmt: skip
        self.exam_id, self.report_id = "REL0000", "RREL0000"
        self.task_id = AnalysisTask.objects.create(
            study_id=self.exam_id, analysis_type="general", created_by=self.users["analyst"]
        ).task_id
        self.batch_id = ImportBatch.objects.create(kind="studies", file_name="seed.csv").batch_id
        self.tokens: dict[str, dict] = {}
        self.port = 0

    def sign_in(self, port: int) -> None:
        self.port = port
        for role, user in self.users.items():
            self.tokens[role] = login(port, user.username, PASSWORD)

    def http(self, role: str, **kwargs: object) -> Http:
        token = self.tokens[role]["access"] if role != "anonymous" else None
        return Http(self.port, token=token, **kwargs)


# ---------------------------------------------------------------------------- access matrix


def send(world: World, method: str, path: str, role: str, n: int):
    """One operation as ``role``, with a body that would succeed for a role allowed to call it."""
    from analysis.models import AnalysisTask

    extra = policy.ELEVATION_FIELDS
    client = world.http(role)
    url = path.replace("{exam_id}", world.exam_id).replace("{report_id}", world.report_id)
    url = url.replace("{batch_id}", world.batch_id)
    if "{task_id}" in url:
        task_id = world.task_id
        if method == "DELETE":
            # The caller's own task: the matrix is about roles (a colleague's task is refused
            # to everyone but admins, see check_cancel_ownership).
            task_id = AnalysisTask.objects.create(
                study_id=world.exam_id, analysis_type="general", created_by=world.users.get(role)
            ).task_id
        url = url.replace("{task_id}", task_id)
    user = world.users.get(role, world.users["viewer"])
    if url.endswith("/auth/login"):
        return client.post_json(url, {"username": user.username, "password": PASSWORD, **extra})
    if url.endswith("/auth/refresh"):
        fresh = login(world.port, user.username, PASSWORD)
        return client.post_json(url, {"refresh": fresh["refresh"], **extra})
    if url.endswith("/auth/logout"):
        if role != "anonymous":
            client = Http(world.port, token=login(world.port, user.username, PASSWORD)["access"])
        return client.request("POST", url)
    if url.endswith("/import/studies"):
        body = f"{corpus.HEADERS[0]},{','.join(corpus.HEADERS[1:6])}\nRELI{n:05d},测试,已审核,门诊,胸部CT,2025-11-06 10:30:00\n"
        return client.post_file(
            url, "tiny.csv", body.encode(), {k: str(v) for k, v in extra.items()}
        )
    if url.endswith("/import/reports"):
        body = json.dumps(
            [{"report_id": f"RRELI{n:05d}", "exam_id": world.exam_id, "content": "x"}]
        )
        return client.post_file(
            url, "tiny.json", body.encode(), {k: str(v) for k, v in extra.items()}
        )
    if method == "POST" and url.endswith("/analysis/tasks"):
        return client.post_json(
            url, {"exam_id": world.exam_id, "analysis_type": "general", **extra}
        )
    return client.request(method, url)


def check_access(world: World) -> list[Figure]:
    from accounts.models import User

    schema_answer = world.http("viewer").get("/api/v1/openapi.json")
    schema = schema_answer.json()
    ops = policy.operations(schema)
    unclassified = sorted(set(ops) ^ set(policy.MINIMUM_ROLE))
    verdicts, header_misses, n = [], [], 0
    for method, path in ops:
        minimum = policy.MINIMUM_ROLE.get((method, path), "admin")
        for role in policy.ROLES:
            n += 1
            answer = send(world, method, path, role, n)
            verdicts.append(policy.Verdict(method, path, role,
                                           policy.expected_status(minimum, role), answer.status))  # fmt: skip
            if (
                not answer.header("strict-transport-security").startswith("max-age=31536000")
                or answer.header("x-content-type-options") != "nosniff"
                or "no-store" not in answer.header("cache-control")
                or "script-src 'self'" not in answer.header("content-security-policy")
            ):
                header_misses.append(f"{method} {path} as {role}")
    elevated = [u.username for u in User.objects.all() if u.is_staff or u.is_superuser]
    unexpected = [v for v in verdicts if v.unexpected_success]
    wrong = [f"{v.method} {v.path} as {v.role}: {v.status}, expected {v.expected}"
             for v in verdicts if not v.ok]  # fmt: skip
    docs = [Http(world.port).get(p).status for p in ("/api/v1/docs", "/api/v1/openapi.json")]
    return [
        Figure(
            "Access control matrix",
            f"every operation of the live OpenAPI schema × {{{', '.join(policy.ROLES)}}} "
            "over HTTP, bodies with role/is_staff/is_superuser/id added",
            f"{len(ops)} operations × {len(policy.ROLES)} roles = {len(verdicts)} calls; "
            f"unexpected 2xx "
            f"{len(unexpected)}; wrong status {len(wrong)}; unclassified operations "
            f"{len(unclassified)}; accounts elevated {len(elevated)}",
            not unexpected and not wrong and not unclassified and not elevated,
            {"wrong": wrong[:20], "unclassified": unclassified, "elevated": elevated},
        ),
        Figure(
            "Headers on patient data",
            "every answer of the matrix (HTTPS via the proxy header), production settings",
            f"{len(verdicts)} answers; missing HSTS / nosniff / no-store / CSP: "
            f"{len(header_misses)}; API docs anonymous: {docs[0]} (to the sign-in page), "
            f"schema anonymous: {docs[1]}",
            not header_misses and docs == [302, 401],
            {"missing": header_misses[:20]},
        ),
    ]


# ---------------------------------------------------------------------------- tokens


def check_tokens(world: World, env: dict[str, str]) -> list[Figure]:
    viewer = login(world.port, "rel_viewer", PASSWORD)
    forged = list(policy.forged_tokens(
        access=viewer["access"], refresh=viewer["refresh"], jwt_key=env["JWT_SECRET_KEY"],
        secret_key=env["SECRET_KEY"], other_user_id=world.users["admin"].pk,
    ))  # fmt: skip
    accepted = [
        f"{name} on {path}"
        for name, token in forged
        for path in ("/api/v1/auth/me", "/api/v1/studies/search")
        if Http(world.port, token=token).get(path).status != 401
    ]
    real_works = Http(world.port, token=viewer["access"]).get("/api/v1/auth/me").status == 200
    # Spent tokens: after logout, after rotation, after deactivation.
    spent = {}
    pair = login(world.port, "rel_viewer", PASSWORD)
    Http(world.port, token=pair["access"]).request("POST", "/api/v1/auth/logout")
    spent["access after logout"] = (
        Http(world.port, token=pair["access"]).get("/api/v1/auth/me").status
    )
    spent["refresh after logout"] = (
        Http(world.port).post_json("/api/v1/auth/refresh", {"refresh": pair["refresh"]}).status
    )
    pair = login(world.port, "rel_viewer", PASSWORD)
    rotated = Http(world.port).post_json("/api/v1/auth/refresh", {"refresh": pair["refresh"]})
    spent["refresh after rotation"] = (
        Http(world.port).post_json("/api/v1/auth/refresh", {"refresh": pair["refresh"]}).status
    )
    # Past the grace window for concurrent refreshes, reuse of the spent token ends the login.
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import AuthSession

    AuthSession.objects.filter(user__username="rel_viewer").update(
        rotated_at=timezone.now() - timedelta(hours=1)
    )
    spent["refresh reused after the grace window"] = (
        Http(world.port).post_json("/api/v1/auth/refresh", {"refresh": pair["refresh"]}).status
    )
    spent["new access after reuse of the old refresh"] = (
        Http(world.port, token=rotated.json()["access"]).get("/api/v1/auth/me").status
    )
    from accounts.models import User

    victim = User.objects.create_user("rel_leaver", "rel_leaver@hospital.example", PASSWORD)
    pair = login(world.port, "rel_leaver", PASSWORD)
    before = Http(world.port, token=pair["access"]).get("/api/v1/auth/me").status
    User.objects.filter(pk=victim.pk).update(is_active=False)
    spent["deactivated user's access"] = (
        Http(world.port, token=pair["access"]).get("/api/v1/auth/me").status
    )
    spent["deactivated user's refresh"] = (
        Http(world.port).post_json("/api/v1/auth/refresh", {"refresh": pair["refresh"]}).status
    )
    refused = all(status == 401 for status in spent.values()) and before == 200
    race = refresh_race(world, rounds=5)
    return [
        Figure(
            "Token forgery",
            "alg none (4 spellings), wrong key, SECRET_KEY, empty key, tampered payload, "
            "refresh retyped, truncated/removed signature, expired, refresh as access, HS512, "
            "HS384, RS256/ES256 confusion, kid/jku injection, missing claims, unknown session, "
            "another user's id; each on 2 endpoints",
            f"{len(forged)} variants × 2 = {len(forged) * 2} calls; accepted {len(accepted)}",
            not accepted and real_works,
            {"accepted": accepted},
        ),
        Figure(
            "Spent tokens",
            "logout; refresh rotation and reuse of the spent refresh; deactivated user",
            f"{len(spent)} cases; accepted {sum(s != 401 for s in spent.values())}",
            refused,
            spent,
        ),
        Figure(
            "Parallel refresh",
            "20 threads present one refresh token at once (gunicorn 2 workers × 8 threads), "
            "5 rounds",
            f"successes per round {race}",
            race == [1] * 5,
        ),
    ]


def refresh_race(world: World, rounds: int) -> list[int]:
    wins = []
    for _ in range(rounds):
        refresh = login(world.port, "rel_viewer", PASSWORD)["refresh"]
        barrier = threading.Barrier(20)
        statuses: list[int] = []
        lock = threading.Lock()

        def attempt(token: str = refresh, barrier: threading.Barrier = barrier,
                    lock: threading.Lock = lock, statuses: list[int] = statuses) -> None:  # fmt: skip
            barrier.wait(timeout=30)
            status = Http(world.port).post_json("/api/v1/auth/refresh", {"refresh": token}).status
            with lock:
                statuses.append(status)

        threads = [threading.Thread(target=attempt) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=90)
        wins.append(statuses.count(200) if len(statuses) == 20 else -1)
    return wins


# ---------------------------------------------------------------------------- lockout


def check_lockout(world: World) -> Figure:
    from accounts.models import User

    User.objects.create_user("rel_clumsy", "rel_clumsy@hospital.example", PASSWORD)
    User.objects.create_user("rel_colleague", "rel_colleague@hospital.example", PASSWORD)

    def attempt(username: str, password: str, source: str, **headers: str) -> int:
        http = Http(world.port, source=source)
        body = json.dumps({"username": username, "password": password}).encode()
        return http.request("POST", "/api/v1/auth/login", body=body,
                            headers={"Content-Type": "application/json", **headers}).status  # fmt: skip

    steps = {}
    # The window slides from the first of the failures: the cool-off ends that long after it.
    first_failure = time.monotonic()
    steps["failures"] = [
        attempt("rel_clumsy", "wrong", "127.0.0.2") for _ in range(LOCKOUT_FAILURES)
    ]
    steps["right password, same address"] = attempt("rel_clumsy", PASSWORD, "127.0.0.2")
    steps["colleague, same address"] = attempt("rel_colleague", PASSWORD, "127.0.0.2")
    steps["same user, other address"] = attempt("rel_clumsy", PASSWORD, "127.0.0.3")
    steps["upper-case name"] = attempt("REL_CLUMSY", PASSWORD, "127.0.0.2")
    steps["forged X-Forwarded-For"] = attempt("rel_clumsy", PASSWORD, "127.0.0.2",
                                              **{"X-Forwarded-For": "10.1.1.1"})  # fmt: skip
    time.sleep(max(0.0, first_failure + LOCKOUT_SECONDS + 1.0 - time.monotonic()))
    steps["after the cool-off"] = attempt("rel_clumsy", PASSWORD, "127.0.0.2")
    expected = {
        "failures": [401] * LOCKOUT_FAILURES,
        "right password, same address": 429,
        "colleague, same address": 200,
        "same user, other address": 200,
        "upper-case name": 429,
        "forged X-Forwarded-For": 429,
        "after the cool-off": 200,
    }
    return Figure(
        "Login lockout",
        f"{LOCKOUT_FAILURES} failures from 127.0.0.2 (LOGIN_MAX_FAILURES={LOCKOUT_FAILURES}, "
        f"cool-off {LOCKOUT_SECONDS:g} s), then colleagues, other addresses (real source "
        "addresses on loopback), case variants, a forged X-Forwarded-For, the cool-off",
        "429 after the limit; colleague 200; other address 200; variants 429; unlocked after "
        "the cool-off"
        if steps == expected
        else f"unexpected: {steps}",
        steps == expected,
        steps,
    )


# ---------------------------------------------------------------------------- audit and logs


def check_audit(world: World, server: Server, procs: Procs, env: dict[str, str],
                workdir: Path) -> list[Figure]:  # fmt: skip
    from django.db import DatabaseError, connection, transaction

    from audit.models import AppendOnlyError, AuditEvent

    name, mrn = PATIENTS[0]
    viewer, analyst, admin = world.http("viewer"), world.http("analyst"), world.http("admin")
    q = urllib.parse.quote
    bad = (
        f"检查号,姓名,检查状态,检查来源,检查项目,开单时间\nRELA1,{name},已审核,门诊,CT,not-a-date\n"
    )
    good = f"检查号,姓名,检查状态,检查来源,检查项目,开单时间\nRELA2,{PATIENTS[1][0]},已审核,门诊,CT,2025-11-06 10:30:00\n"
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    calls = [
        (viewer, lambda h: h.get(f"/api/v1/studies/search?q={q(name)}")),
        (viewer, lambda h: h.get(f"/api/v1/studies/search?q={q(mrn)}")),
        (viewer, lambda h: h.get(f"/api/v1/studies/{world.exam_id}")),
        (viewer, lambda h: h.get("/api/v1/studies/filters/options")),
        (viewer, lambda h: h.get(f"/api/v1/studies/export?format=csv&q={q(name)}")),
        (viewer, lambda h: h.get(f"/api/v1/studies/export?q={q(mrn)}")),
        (viewer, lambda h: h.get(f"/api/v1/reports/search?q={q(name)}")),
        (viewer, lambda h: h.get(f"/api/v1/reports/{world.report_id}")),
        (
            analyst,
            lambda h: h.post_json(
                "/api/v1/analysis/tasks", {"exam_id": "REL0001", "analysis_type": "comparison"}
            ),
        ),
        (analyst, lambda h: h.get("/api/v1/analysis/tasks?exam_id=REL0001")),
        (viewer, lambda h: h.get("/api/v1/auth/me")),
        (viewer, lambda h: h.get("/api/v1/studies/NO-SUCH-EXAM")),
        (viewer, lambda h: h.get("/api/v1/import/batches")),
        (Http(world.port), lambda h: h.get(f"/api/v1/studies/search?q={q(name)}")),
        (admin, lambda h: h.post_file("/api/v1/import/studies", "bad.csv", bad.encode())),
        (admin, lambda h: h.post_file("/api/v1/import/studies", "good.csv", good.encode())),
        (admin, lambda h: h.get("/api/v1/import/batches")),
    ]
    answers = [(client, call(client)) for client, call in calls]
    rows = list(AuditEvent.objects.filter(id__gt=before).order_by("id"))
    usernames = {v["access"]: f"rel_{k}" for k, v in world.tokens.items()}
    incomplete = []
    for (client, answer), row in zip(answers, rows, strict=False):
        who = usernames.get(client.token or "", "")
        status_ok = row.status_code == answer.status
        if not (row.username == who and row.occurred_at and row.ip_address and row.action
                and row.path.startswith("/api/v1/") and row.outcome and status_ok):  # fmt: skip
            incomplete.append(f"{row.action} {row.status_code} {row.username!r}")
    # Change or remove audit rows through the application: every way must fail.
    tamper = {}
    event = rows[0]
    event.outcome = "tampered"
    for label, attempt in [
        ("save()", event.save),
        ("delete()", event.delete),
        ("queryset update()", lambda: AuditEvent.objects.update(outcome="x")),
        ("queryset delete()", lambda: AuditEvent.objects.all().delete()),
    ]:
        try:
            attempt()
            tamper[label] = "allowed"
        except AppendOnlyError:
            tamper[label] = "refused"
    statements = ["UPDATE audit_auditevent SET outcome = 'x'"]
    if connection.vendor == "postgresql":
        statements.append("DELETE FROM audit_auditevent")
    for sql in statements:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql)
            tamper[sql.split()[0] + " (SQL)"] = "allowed"
        except DatabaseError:
            tamper[sql.split()[0] + " (SQL)"] = "refused"
    # The worker's side: run the queued analysis, with its log captured too.
    worker_log = workdir / "worker.log"
    worker = procs.start([PYTHON, "manage.py", "run_analysis_worker", "--batch",
                          "--no-startup-delay", "--interval", "0.2"], env=env, log_path=worker_log)  # fmt: skip
    with contextlib.suppress(subprocess.TimeoutExpired):
        worker.wait(120)
    procs.stop(worker)
    time.sleep(0.5)
    logs = server.log_text() + worker_log.read_text(encoding="utf-8", errors="replace")
    needles = {}
    for value in [v for pair in PATIENTS for v in pair]:
        for form in {value, q(value), q(value, safe=""), q(value).replace("%20", "+"),
                     json.dumps(value)[1:-1]}:  # fmt: skip
            needles[form] = value
    leaks = sorted({needles[n] for n in needles if n in logs})
    k = len(calls)
    return [
        Figure(
            "Audit trail",
            f"scripted session of {k} protected calls (search by name and MRN, detail, "
            "exports, reports, analysis, 401/403/404/422, imports) over HTTP; then save/"
            "delete/update through the ORM and UPDATE/DELETE in SQL",
            f"{k} calls → {len(rows)} rows, incomplete {len(incomplete)} (who, when, where, "
            f"what, outcome, status); tampering allowed {sum(v == 'allowed' for v in tamper.values())} "
            f"of {len(tamper)}",
            len(rows) == k and not incomplete and all(v == "refused" for v in tamper.values()),
            {"incomplete": incomplete, "tamper": tamper},
        ),
        Figure(
            "Log hygiene",
            "grep of the server's output (gunicorn access log as in the quick start, Django "
            "logging at INFO) and an analysis worker's, after the audit session; names and "
            "MRNs searched raw, URL-encoded and JSON-escaped",
            f"{len(logs.splitlines())} log lines; patient names or MRNs found {len(leaks)}",
            not leaks and len(logs) > 0,
            {"leaks": leaks},
        ),
    ]


# ---------------------------------------------------------------------------- files


class Canary:
    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.hits = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/book.xlsx"

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.hits += 1
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.sock.close()


def check_files(world: World, server: Server, workdir: Path, full: bool) -> Figure:
    from ingest.models import ImportBatch
    from reports.models import Report
    from studies.models import Study

    canary = Canary()
    try:
        specimens = corpus.build(workdir / "corpus", full=full, canary_url=canary.url)
        workers_before = sorted(server.workers())
        admin = world.http("admin", timeout=120)
        problems, slowest, server_errors = [], 0.0, 0
        for specimen in specimens:
            counts = Study.objects.count() + Report.objects.count()
            try:
                answer = admin.post_file(f"/api/v1/import/{specimen.endpoint}",
                                         specimen.upload_name, specimen.path.read_bytes())  # fmt: skip
                status, seconds = answer.status, answer.seconds
            except OSError as exc:  # the connection died with the worker
                status, seconds = -1, 0.0
                problems.append(f"{specimen.name}: {exc}")
            slowest = max(slowest, seconds)
            server_errors += status >= 500 or status < 0
            grown = Study.objects.count() + Report.objects.count() - counts
            batch = ImportBatch.objects.order_by("-started_at").first()
            if status not in specimen.allowed:
                problems.append(f"{specimen.name}: status {status}")
            if status == 200 and specimen.exam_ids:
                stored = Study.objects.filter(exam_id__in=specimen.exam_ids).count()
                if stored not in (0, len(specimen.exam_ids)):
                    problems.append(f"{specimen.name}: partial ({stored})")
            elif status != 200 and (grown or (batch and batch.status in ("running", "succeeded"))):
                problems.append(f"{specimen.name}: refused but wrote {grown}, batch {batch.status}")
            if seconds > FILE_SECONDS_CAP:
                problems.append(f"{specimen.name}: {seconds:.1f} s")
            for text in specimen.forbidden_text:
                if Study.objects.filter(exam_description__contains=text).exists():
                    problems.append(f"{specimen.name}: stored {text!r}")
        workers_after = sorted(server.workers())
        crashed = server.alive() is False or workers_after != workers_before
        health = Http(server.port).get("/api/v1/health").status
        peak = max((peak_rss_mb(pid) for pid in workers_after), default=0.0)
    finally:
        canary.close()
    ok = (not problems and not crashed and health == 200 and canary.hits == 0
          and peak <= WORKER_RSS_CAP_MB and not Path("/tmp/mip_zip_slip_canary").exists())  # fmt: skip
    return Figure(
        "File attack corpus",
        "bench/reliability/corpus.py" + (" --full" if full else "") + ": zip bombs (ratio, "
        "declared size, lying sizes, 10,001 parts), billion laughs (sharedStrings, workbook, "
        "sheet), external entities, huge sharedStrings, sharedStrings of distinct 4 KB strings "
        "at 131:1 (2 GB inflated with --full), dimension A1:XFD1048576, far cells, "
        "row 1,048,577, 40,000-character and control-character cells, formula/DDE cells, "
        "encrypted OLE (.xlsx, .xls), .xls with a cell at 65,536×65,536, .xlsm, macros, external "
        "links, non-zip, truncated, zip-slip, CSV/JSON oddities; uploaded to the live server",
        f"{len(specimens)} files; server errors {server_errors}; worker crashes {int(crashed)}; "
        f"partial imports {sum('partial' in p or 'wrote' in p for p in problems)}; links fetched "
        f"{canary.hits}; slowest {slowest:.1f} s (cap {FILE_SECONDS_CAP:g}); peak worker RSS "
        f"{peak:.0f} MB (cap {WORKER_RSS_CAP_MB})",
        ok,
        {"problems": problems},
    )


# ---------------------------------------------------------------------------- bad input

# (method, path, JSON body or None, the loc the 422 must name) — issue 20, item 6.
NUL_REQUESTS = [
    ("GET", "/api/v1/studies/search?q=%00", None, ["query", "q"]),
    ("GET", "/api/v1/studies/search?q=%E5%BC%A0%00", None, ["query", "q"]),
    ("GET", "/api/v1/studies/search?exam_status=%00", None, ["query", "exam_status"]),
    ("GET", "/api/v1/studies/search?exam_source=%00", None, ["query", "exam_source"]),
    ("GET", "/api/v1/studies/search?exam_item=%00", None, ["query", "exam_item"]),
    ("GET", "/api/v1/studies/search?equipment_type=%00", None, ["query", "equipment_type"]),
    ("GET", "/api/v1/studies/search?patient_gender=%00", None, ["query", "patient_gender"]),
    ("GET", "/api/v1/studies/search?sort=%00", None, ["query", "sort"]),
    ("GET", "/api/v1/studies/REL0000%00", None, ["path"]),
    ("GET", "/api/v1/studies/filters/options?q=%00", None, ["query", "q"]),
    ("GET", "/api/v1/studies/export?q=%00", None, ["query", "q"]),
    ("GET", "/api/v1/studies/export?format=csv&exam_item=%00", None, ["query", "exam_item"]),
    ("GET", "/api/v1/reports/search?q=%00", None, ["query", "q"]),
    ("GET", "/api/v1/reports/search?patient_name=%00", None, ["query", "patient_name"]),
    ("GET", "/api/v1/reports/export?format=csv&patient_name=%00", None, ["query", "patient_name"]),
    ("GET", "/api/v1/reports/search?radiologist=%00", None, ["query", "radiologist"]),
    ("GET", "/api/v1/reports/search?status=%00", None, ["query", "status"]),
    ("GET", "/api/v1/reports/RREL0000%00", None, ["path"]),
    ("GET", "/api/v1/reports/filters/options?x=%00", None, ["query", "x"]),
    ("GET", "/api/v1/analysis/tasks?exam_id=%00", None, ["query", "exam_id"]),
    ("GET", "/api/v1/import/batches?status=%00", None, ["query", "status"]),
    ("POST", "/api/v1/analysis/tasks", {"exam_id": "REL0000\u0000", "analysis_type": "general"},
     ["body", "exam_id"]),
    ("POST", "/api/v1/auth/login", {"username": "rel_admin\u0000", "password": "x"},
     ["body", "username"]),
    ("POST", "/api/v1/auth/login", {"username": "rel_admin", "password": "\u0000"},
     ["body", "password"]),
    ("POST", "/api/v1/auth/refresh", {"refresh": "\u0000"}, ["body", "refresh"]),
]  # fmt: skip
EDGE_DATES = [
    "/api/v1/studies/search?date_to=9999-12-31",
    "/api/v1/studies/search?date_from=0001-01-01&date_to=9999-12-31",
    "/api/v1/studies/search?date_from=9999-12-31",
    "/api/v1/studies/search?date_to=0001-01-01",
    "/api/v1/studies/export?date_to=9999-12-31",
    "/api/v1/studies/export?format=csv&date_from=0001-01-01&date_to=9999-12-31",
    "/api/v1/reports/search?date_to=9999-12-31",
    "/api/v1/reports/search?date_from=0001-01-01&date_to=9999-12-31",
    "/api/v1/reports/export?date_to=9999-12-31",
    "/api/v1/reports/export?format=csv&date_from=0001-01-01&date_to=9999-12-31",
]


def check_bad_input(world: World, env: dict[str, str], workdir: Path) -> list[Figure]:
    """Issue 20, items 6, 7, 9, 10, 11: NUL bytes, edge dates, refused imports, DuckDB."""
    from audit.models import AuditEvent
    from ingest.models import ImportBatch

    figures = []
    admin, viewer = world.http("admin"), world.http("viewer")
    refused_before = AuditEvent.objects.filter(action="input.refused").count()
    statuses, wrong, after_bad = [], [], []
    for method, path, body, loc in NUL_REQUESTS:
        client = Http(world.port) if "/auth/" in path else admin
        if body is None:
            answer = client.request(method, path)
        else:
            raw = json.dumps(body).encode()  # the NUL goes as the JSON escape \\u0000
            answer = client.request(method, path, body=raw,
                                    headers={"Content-Type": "application/json"})  # fmt: skip
        statuses.append(answer.status)
        try:
            named = answer.json()["detail"][0]["loc"]
        except (ValueError, KeyError, IndexError, TypeError):
            named = None
        if answer.status != 422 or named != loc:
            wrong.append(f"{path}: {answer.status} {answer.body[:120]!r}")
        # An unrelated call right after: the connection the NUL met must still work.
        follow = viewer.get("/api/v1/studies/search?q=REL0000")
        if follow.status != 200:
            after_bad.append(f"after {path}: {follow.status}")
    audited = AuditEvent.objects.filter(action="input.refused").count() - refused_before
    errors = sum(s >= 500 for s in statuses)
    figures.append(Figure(
        "NUL bytes in input",
        "%00 in a query or path, \\u0000 in JSON, on every search, detail, filter-option, "
        "export, analysis and import route and at login and refresh (PostgreSQL: text cannot "
        "hold U+0000), each followed by an unrelated search",
        f"{len(NUL_REQUESTS)} requests; 422 naming the field {len(NUL_REQUESTS) - len(wrong)}; "
        f"server errors {errors}; failed calls after them {len(after_bad)}; refusals audited "
        f"{audited}",
        not wrong and not errors and not after_bad and audited == len(NUL_REQUESTS),
        {"wrong": wrong, "after": after_bad},
    ))  # fmt: skip

    answers = [viewer.get(path).status for path in EDGE_DATES]
    figures.append(Figure(
        "Dates at the calendar's edges",
        "date_from / date_to of 0001-01-01 and 9999-12-31 on studies and reports search and "
        "the export (.xlsx, CSV)",
        f"{len(EDGE_DATES)} requests; answered 200: {answers.count(200)}; server errors "
        f"{sum(a >= 500 for a in answers)}",
        all(a == 200 for a in answers),
        {"statuses": dict(zip(EDGE_DATES, answers, strict=True))},
    ))  # fmt: skip

    batches = ImportBatch.objects.count()
    limit_mb = float(env.get("MAX_UPLOAD_MB", "50"))
    # One byte over: the body is read, and the file is refused by its size. (Far over, the
    # server answers from the declared length without reading, which a client that is still
    # sending meets as a reset connection; the in-process tests check that path.)
    big = admin.post_file("/api/v1/import/studies", "big.csv", b"x" * (int(limit_mb * 2**20) + 1))
    missing = admin.request("POST", "/api/v1/import/studies", body=b"--b--\r\n",
                            headers={"Content-Type": "multipart/form-data; boundary=b"})  # fmt: skip
    recorded = list(
        ImportBatch.objects.order_by("-started_at")[: ImportBatch.objects.count() - batches]
    )
    shape = missing.json() if missing.status == 422 else None
    ok = (big.status == 413 and missing.status == 422 and len(recorded) == 2
          and all(b.status == "rejected" for b in recorded)
          and shape == {"detail": [{"type": "missing", "loc": ["file", "file"],
                                    "msg": "Field required"}]})  # fmt: skip
    figures.append(Figure(
        "Refused imports recorded",
        f"an upload one byte over MAX_UPLOAD_MB ({limit_mb:g} MB) and a form without a file",
        f"413 and {missing.status}; batches recorded {len(recorded)} "
        f"({', '.join(b.status for b in recorded)}); missing file in the validation shape: "
        f"{'yes' if shape and isinstance(shape.get('detail'), list) else 'no'}",
        ok,
    ))  # fmt: skip

    figures.append(check_duckdb_views(env, workdir))
    return figures


def check_duckdb_views(env: dict[str, str], workdir: Path) -> Figure:
    """Issue 20, item 9: a view whose count changes per read, and one that never finishes."""
    import duckdb

    from studies.models import Study

    columns = (
        "SELECT 'DV' || lpad(i::VARCHAR, 9, '0') AS exam_id, '张伟' AS patient_name, "
        "'已审核' AS exam_status, '门诊' AS exam_source, '胸部CT平扫' AS exam_item, "
        "TIMESTAMP '2024-01-01 08:00:00' AS order_datetime FROM "
    )
    views = {
        "shifting": "range(2000) t(i) WHERE i < (SELECT 1 + floor(random() * 1999)::BIGINT)",
        "endless": "range(200000) a(i), range(200000) b(j)",
    }
    outcomes = {}
    for name, source in views.items():
        path = workdir / f"{name}.duckdb"
        con = duckdb.connect(str(path))
        con.execute(f"CREATE VIEW medical_examinations_fact AS {columns}{source}")
        con.close()
        before = Study.objects.filter(exam_id__startswith="DV").count()
        started = time.monotonic()
        done = manage(env, "migrate_from_duckdb", "--path", str(path), "--time-limit", "5")
        outcomes[name] = {
            "exit": done.returncode,
            "seconds": round(time.monotonic() - started, 1),
            "rows": Study.objects.filter(exam_id__startswith="DV").count() - before,
            "message": (done.stderr.strip().splitlines() or [""])[-1][:200],
        }
    shifting, endless = outcomes["shifting"], outcomes["endless"]
    ok = (shifting["exit"] != 0 and shifting["rows"] == 0 and endless["exit"] != 0
          and endless["rows"] == 0 and endless["seconds"] < 60)  # fmt: skip
    return Figure(
        "Hostile DuckDB views",
        "migrate_from_duckdb of a view whose row count changes per read (a threshold drawn "
        "per read) and of a view that counts for minutes (--time-limit 5)",
        f"shifting: exit {shifting['exit']}, rows committed {shifting['rows']}; endless: exit "
        f"{endless['exit']} after {endless['seconds']} s, rows committed {endless['rows']}",
        ok,
        outcomes,
    )


# ---------------------------------------------------------------------------- exports


def check_exports(world: World, full: bool) -> list[Figure]:
    import openpyxl
    from django.db import models

    from studies import exports
    from studies.models import DETAIL_FIELDS, Study

    columns = [f for f in Study._meta.get_fields()
               if isinstance(f, models.CharField | models.TextField) and f.name in DETAIL_FIELDS]  # fmt: skip
    placed, seen = [], set()
    for p, payload in enumerate(policy.CSV_INJECTION_PAYLOADS):
        for field in columns:
            value = payload[: field.max_length] if field.max_length else payload
            exam_id = value if field.name == "exam_id" else f"INJ{p:02d}{field.name[:20]}"
            if exam_id in seen:
                continue
            seen.add(exam_id)
            values = {
                "exam_id": exam_id, "patient_name": "注入", "exam_status": "已审核",
                "exam_source": "门诊", "exam_item": "CT", "order_datetime": "2025-01-01T00:00:00+00:00",
            }  # fmt: skip
            if field.name != "exam_id":
                values[field.name] = value
            Study.objects.create(**values)
            placed.append(value)
    for n in range(3):
        Study.objects.create(
            exam_id=f"CTRL{n}", patient_name="张" + policy.CONTROL_TEXT[:150],
            exam_description=policy.CONTROL_TEXT * 3 + "检" * 40_000, exam_status="x",
            exam_source="x", exam_item="x", order_datetime="2025-01-01T00:00:00+00:00",
        )  # fmt: skip
    viewer = world.http("viewer", timeout=300)
    xlsx = viewer.get("/api/v1/studies/export")
    with zipfile.ZipFile(io.BytesIO(xlsx.body)) as archive:
        xml_formulas = sum(archive.read(n).count(b"<f>") for n in archive.namelist()
                           if n.startswith("xl/worksheets/"))  # fmt: skip
    book = openpyxl.load_workbook(io.BytesIO(xlsx.body))
    cells = [c for row in book.active.iter_rows(min_row=2) for c in row if c.value is not None]
    formula_cells = sum(c.data_type == "f" for c in cells) + xml_formulas
    texts = {str(c.value).replace("_x000D_", "\r") for c in cells if c.data_type == "s"}
    lost = [v for v in placed if v not in texts]
    csv_answer = viewer.get("/api/v1/studies/export?format=csv")
    rows = list(csv.reader(io.StringIO(csv_answer.body.decode("utf-8-sig"))))
    fields = [v for row in rows[1:] for v in row]
    triggered = [v for v in fields if v.startswith(policy.FORMULA_TRIGGERS)]
    expected_rows = Study.objects.count()
    complete = (xlsx.status == 200 and csv_answer.status == 200
                and book.active.max_row - 1 == expected_rows and len(rows) - 1 == expected_rows)  # fmt: skip
    figures = [
        Figure(
            "Export injection",
            f"{len(policy.CSV_INJECTION_PAYLOADS)} OWASP CSV-injection payloads × "
            f"{len(columns)} text columns ({len(placed)} cells), .xlsx and CSV through the API",
            f"formula cells in .xlsx {formula_cells}; CSV fields starting with = + - @ tab CR "
            f"LF {len(triggered)}; payloads altered {len(lost)}",
            formula_cells == 0 and not triggered and not lost,
            {"triggered": triggered[:10], "lost": lost[:10]},
        ),
        Figure(
            "Control characters in exports",
            "C0 controls, DEL, U+2028/2029, BOM in names and descriptions, descriptions over "
            "32,767 characters; .xlsx and CSV exports of every study",
            f"exports complete: {'yes' if complete else 'NO'} ({expected_rows} rows each)",
            complete,
        ),
    ]
    figures.append(check_sheet_overflow(exports, full))
    return figures


def check_sheet_overflow(exports, full: bool) -> Figure:
    """More rows than one sheet holds: the real limit with --full, a lowered one otherwise."""
    limit = exports.XLSX_MAX_ROWS if full else 1000
    total = limit + limit // 2
    original = exports.XLSX_MAX_ROWS
    exports.XLSX_MAX_ROWS = limit
    try:
        from datetime import UTC, datetime

        when = datetime(2025, 1, 1, 8, 0, tzinfo=UTC)
        rows = ((f"E{n:08d}", None, None, "患者", "M", 40, "已审核", "门诊", "CT", "CT", "x",
                 when, None, None, None) for n in range(total))  # fmt: skip
        with timed() as clock:
            handle, count = exports.write_xlsx(None, rows=rows)
            with zipfile.ZipFile(handle) as archive:
                sheets = sorted(
                    n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")
                )
                per_sheet = [archive.read(n).count(b"<row ") - 1 for n in sheets]
            handle.close()
    finally:
        exports.XLSX_MAX_ROWS = original
    ok = count == total and per_sheet == [limit - 1, total - (limit - 1)]
    return Figure(
        "Export past one sheet",
        f"studies.exports.write_xlsx of {total:,} rows with a sheet limit of {limit:,}"
        + (
            " (Excel's real limit)" if full else " (stands for 1,048,576; --full uses the real one)"
        ),
        f"{count:,} rows on {len(sheets)} sheets {per_sheet}, headers repeated; {clock['seconds']} s",
        ok,
    )


# ---------------------------------------------------------------------------- posture, schemathesis


def check_deploy(env: dict[str, str]) -> Figure:
    done = manage(env, "check", "--deploy", "--fail-level", "WARNING", timeout=180)
    issues = re.findall(r"\(security\.\w+\)", done.stdout + done.stderr)
    return Figure(
        "Deployment check",
        "manage.py check --deploy --fail-level WARNING with the README's production settings",
        f"exit {done.returncode}; warnings {len(issues)}",
        done.returncode == 0,
        {"output": (done.stdout + done.stderr)[-2000:]},
    )


def check_schemathesis(world: World, workdir: Path, max_examples: int) -> Figure:
    token = login(world.port, "rel_admin", PASSWORD)["access"]
    schema_path = workdir / "openapi.json"
    schema_path.write_bytes(Http(world.port, token=token).get("/api/v1/openapi.json").body)
    cmd = [
        str(ROOT / ".venv" / "bin" / "schemathesis"), "--config-file",
        str(Path(__file__).with_name("schemathesis.toml")), "run", str(schema_path),
        "--url", f"http://127.0.0.1:{world.port}", "--checks", "all",
        # Logout would end the run's own login; the matrix and the token checks cover it.
        "--exclude-path", "/api/v1/auth/logout",
        "--max-examples", str(max_examples), "--workers", "2", "--seed", "20251029",
        "--request-timeout", "60", "--report", "junit", "--report-dir", str(workdir / "schemathesis"),
    ]  # fmt: skip
    with timed() as clock:
        done = subprocess.run(cmd, cwd=ROOT, env={**os.environ, "MIP_ST_TOKEN": token},
                              capture_output=True, text=True, timeout=900, check=False)  # fmt: skip
    output = done.stdout + done.stderr
    (workdir / "schemathesis.txt").write_text(output, encoding="utf-8")
    generated = re.search(r"(\d+) generated", output)
    failures = re.findall(r"❌ (ST\d+ [^:]+): (\d+)", output)
    server_errors = sum(int(n) for name, n in failures if "Server error" in name)
    return Figure(
        "Schemathesis",
        f"schemathesis 4.32.5 run --checks all, authenticated (admin), live schema, "
        f"{max_examples} examples per operation, all phases, 2 workers "
        "(bench/reliability/schemathesis.toml)",
        f"{generated.group(1) if generated else '?'} test cases; server errors {server_errors}; "
        f"failures {sum(int(n) for _, n in failures)}",
        done.returncode == 0,
        {"failures": failures, "tail": output[-1500:]},
        clock["seconds"],
    )


# ---------------------------------------------------------------------------- main


def check_doors(world: World) -> list[Figure]:
    """Issue 20's cases (bench/reliability/doors.py)."""
    return [
        doors.check_admin_login(world.port, PASSWORD, LOCKOUT_FAILURES),
        doors.check_admin_audit(world.port, PASSWORD, PATIENTS[0]),
        doors.check_logins_end(world.port, PASSWORD),
        doors.check_cancel_ownership(world.port, PASSWORD, world.exam_id),
        doors.check_csp(world.port, PASSWORD),
        doors.check_api_docs(world.port, world.tokens["viewer"]["access"]),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["postgresql", "sqlite", "auto"], default="auto")
    parser.add_argument("--full", action="store_true", help="full-size corpus, real sheet limit")
    parser.add_argument("--max-examples", type=int, default=25, help="schemathesis, per operation")
    parser.add_argument("--only", help="comma-separated: access,tokens,lockout,audit,files,"
                                       "exports,badinput,deploy,schemathesis,doors")  # fmt: skip
    args = parser.parse_args(argv)
    kind = args.db if args.db != "auto" else ("postgresql" if postgres_available() else "sqlite")
    only = set(args.only.split(",")) if args.only else None

    def wanted(name: str) -> bool:
        return only is None or name in only

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = Path(tempfile.mkdtemp(prefix="mip_rel_live_"))
    figures = []
    with suite(kind, "quick", workdir) as (db, procs):
        env = db.env(**production_env(workdir), LOGIN_MAX_FAILURES=str(LOCKOUT_FAILURES),
                     LOGIN_LOCKOUT_MINUTES=str(LOCKOUT_SECONDS / 60))  # fmt: skip
        log(f"live checks on {db.kind} {db.name}; work files in {workdir}")
        migrated = manage(env, "migrate", "--noinput")
        if migrated.returncode != 0:
            raise RuntimeError(migrated.stderr[-2000:])
        setup_django(env)
        from accounts.models import User

        accounts_after_migrate = User.objects.count()
        world = World()
        server = Server(procs, env, workdir / "server.log")
        server.wait_ready()
        world.sign_in(server.port)
        figures.append(Figure(
            "No default accounts", "count of users in a freshly migrated database",
            f"{accounts_after_migrate} accounts", accounts_after_migrate == 0,
        ))  # fmt: skip
        steps = [
            ("access", lambda: check_access(world)),
            ("tokens", lambda: check_tokens(world, env)),
            ("lockout", lambda: [check_lockout(world)]),
            ("audit", lambda: check_audit(world, server, procs, env, workdir)),
            ("files", lambda: [check_files(world, server, workdir, args.full)]),
            ("exports", lambda: check_exports(world, args.full)),
            ("badinput", lambda: check_bad_input(world, env, workdir)),
            ("deploy", lambda: [check_deploy(env)]),
            ("schemathesis", lambda: [check_schemathesis(world, workdir, args.max_examples)]),
            ("doors", lambda: check_doors(world)),
        ]
        for name, step in steps:
            if not wanted(name):
                continue
            log(f"{name} ...")
            with timed() as clock:
                results = step()
            for figure in results:
                figure.seconds = figure.seconds or clock["seconds"]
                log(f"  {'ok ' if figure.ok else 'FAIL'} {figure.check}: {figure.figure}")
            figures.extend(results)
    return finish(figures, workdir)


if __name__ == "__main__":
    sys.exit(main())
