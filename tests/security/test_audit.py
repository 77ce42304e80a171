"""Audit: a scripted session of K protected calls leaves exactly K complete audit rows; the
application cannot change or delete them; and the logs of the run hold no patient name or
record number.
"""

import logging

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client

from accounts.models import Role
from analysis import services as analysis_services
from audit.models import AppendOnlyError, AuditEvent
from tests.factories import ReportFactory, StudyFactory
from tests.security.conftest import CSV_HEADERS

pytestmark = pytest.mark.django_db

PATIENTS = [("欧阳娜娜", "MRN-7731-0042"), ("Zhang Weiqiang", "MRN-7731-0043")]


@pytest.fixture
def patients(world) -> list[str]:
    for n, (name, mrn) in enumerate(PATIENTS):
        study = StudyFactory(exam_id=f"AUD{n:04d}", patient_name=name, medical_record_no=mrn)
        ReportFactory(report_id=f"RAUD{n:04d}", study=study, content=f"{name} 右肺结节 5mm")
    return [value for pair in PATIENTS for value in pair]


def upload(name: str, body: str) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return {"file": SimpleUploadedFile(name, body.encode(), content_type="text/csv")}


def session(world) -> list[tuple[str, int]]:
    """The scripted session: (who, status) of each protected call, in order."""
    viewer, analyst = world.client(Role.VIEWER), world.client(Role.ANALYST)
    admin, anonymous = world.client(Role.ADMIN), Client()
    name, mrn = PATIENTS[0]
    bad_row = f"{CSV_HEADERS}\nAUDX1,{name},已审核,门诊,胸部CT,not-a-date\n"
    good_row = f"{CSV_HEADERS}\nAUDX2,{PATIENTS[1][0]},已审核,门诊,胸部CT,2025-11-06 10:30:00\n"
    calls = [
        (viewer, "get", "/api/v1/studies/search", {"q": name}),
        (viewer, "get", "/api/v1/studies/search", {"q": mrn}),
        (viewer, "get", "/api/v1/studies/AUD0000", {}),
        (viewer, "get", "/api/v1/studies/filters/options", {}),
        (viewer, "get", "/api/v1/studies/export", {"format": "csv", "q": name}),
        (viewer, "get", "/api/v1/studies/export", {"q": mrn}),
        (viewer, "get", "/api/v1/reports/search", {"q": name}),
        (viewer, "get", "/api/v1/reports/search", {"patient_name": name}),
        (viewer, "get", "/api/v1/reports/export", {"format": "csv", "patient_name": name}),
        (viewer, "get", "/api/v1/reports/RAUD0000", {}),
        (viewer, "get", "/api/v1/reports/filters/options", {}),
        (
            analyst,
            "post",
            "/api/v1/analysis/tasks",
            {"exam_id": "AUD0000", "analysis_type": "comparison"},
        ),
        (analyst, "get", "/api/v1/analysis/tasks", {"exam_id": "AUD0000"}),
        (viewer, "get", "/api/v1/analysis/statistics", {}),
        (viewer, "get", "/api/v1/analysis/options", {}),
        (viewer, "get", "/api/v1/auth/me", {}),
        (viewer, "get", "/api/v1/studies/NO-SUCH-EXAM", {}),
        (viewer, "get", "/api/v1/import/batches", {}),
        (anonymous, "get", "/api/v1/studies/search", {"q": name}),
        (admin, "post", "/api/v1/import/studies", upload("bad.csv", bad_row)),
        (admin, "post", "/api/v1/import/studies", upload("good.csv", good_row)),
        (admin, "get", "/api/v1/import/batches", {}),
    ]
    done = []
    for client, method, path, data in calls:
        if method == "post" and "analysis" in path:
            response = client.post(path, data, content_type="application/json")
            task_id = response.json()["task_id"]
            done.append((client, response.status_code))
            for verb in ("get", "delete"):
                follow = getattr(client, verb)(f"/api/v1/analysis/tasks/{task_id}")
                done.append((client, follow.status_code))
            continue
        response = getattr(client, method)(path, data)
        done.append((client, response.status_code))
    return done


def who(world, client) -> str:
    for role in (Role.VIEWER, Role.ANALYST, Role.ADMIN):
        if client.defaults.get("HTTP_AUTHORIZATION", "").endswith(world.tokens[role]["access"]):
            return world.users[role].username
    return ""


def test_k_protected_calls_leave_exactly_k_complete_audit_rows(world, patients):
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    calls = session(world)
    rows = list(AuditEvent.objects.filter(id__gt=before).order_by("id"))
    assert len(calls) == 24
    assert len(rows) == len(calls)
    assert {status for _, status in calls} >= {200, 201, 401, 403, 404, 422}
    for (client, status), row in zip(calls, rows, strict=True):
        assert row.username == who(world, client)  # who ('' = not signed in)
        assert row.occurred_at is not None  # when
        assert row.ip_address == "127.0.0.1"  # where
        assert row.action and row.method and row.path.startswith("/api/v1/")  # what
        assert row.request_id
        assert row.status_code == status
        expected = "success" if status < 400 else "denied" if status in (401, 403) else "failure"
        assert row.outcome == expected  # outcome


def test_the_application_cannot_change_or_delete_audit_rows(world, patients):
    session(world)
    event = AuditEvent.objects.order_by("id").first()
    count = AuditEvent.objects.count()
    event.outcome = "success"
    for attempt in (event.save, event.delete, lambda: AuditEvent.objects.update(outcome="x"),
                    lambda: AuditEvent.objects.all().delete()):  # fmt: skip
        with pytest.raises(AppendOnlyError):
            attempt()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET outcome = 'success'")
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditevent")
    assert AuditEvent.objects.count() == count


def test_no_patient_name_or_record_number_reaches_the_logs(world, patients, caplog):
    caplog.set_level(logging.DEBUG)
    session(world)
    task = analysis_services.analysis_create(
        exam_id="AUD0001", analysis_type="detailed", user=world.users[Role.ANALYST]
    )
    analysis_services.analysis_run(task_id=task.task_id)
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert caplog.records  # the run did log (the capture works)
    leaks = [value for value in patients if value in logged]
    assert leaks == []
