"""The audit log: one row per protected call, and append-only."""

from http import HTTPStatus

import pytest
from django.db import DatabaseError, transaction
from django.test import Client

from audit.models import AppendOnlyError, AuditEvent
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db


def test_each_protected_call_writes_exactly_one_event(viewer):
    StudyFactory(exam_id="A1")
    before = AuditEvent.objects.count()
    calls = [
        "/api/v1/studies/search?q=%E5%BC%A0",
        "/api/v1/studies/A1",
        "/api/v1/studies/filters/options",
        "/api/v1/studies/export?format=csv",
        "/api/v1/auth/me",
        "/api/v1/studies/UNKNOWN",
    ]
    for path in calls:
        viewer.get(path)
    assert AuditEvent.objects.count() - before == len(calls)


def test_search_event_records_who_what_and_the_returned_ids(viewer):
    StudyFactory(exam_id="A1", patient_name="张伟")
    StudyFactory(exam_id="A2", patient_name="李娜")
    viewer.get("/api/v1/studies/search", {"q": "张", "page_size": 5}, REMOTE_ADDR="10.1.2.3")
    event = AuditEvent.objects.filter(action="study.search").get()
    assert event.user == viewer.user
    assert event.username == viewer.user.username
    assert event.ip_address == "10.1.2.3"
    assert event.query == {"q": "张", "page_size": "5"}
    assert event.object_ids == ["A1"]
    assert event.result_count == 1
    assert event.outcome == "success"
    assert event.status_code == 200
    assert event.path == "/api/v1/studies/search"
    assert event.request_id


def test_detail_view_records_the_exam_id(viewer):
    StudyFactory(exam_id="A1")
    viewer.get("/api/v1/studies/A1")
    event = AuditEvent.objects.get(action="study.view")
    assert event.object_ids == ["A1"]


def test_refused_calls_are_recorded_as_denied(db):
    Client().get("/api/v1/studies/search")
    event = AuditEvent.objects.get()
    assert event.outcome == "denied"
    assert event.status_code == 401
    assert event.user is None


def test_login_success_failure_and_logout_are_recorded(make_user):
    user = make_user()
    client = Client()
    client.post(
        "/api/v1/auth/login",
        {"username": user.username, "password": "bad"},
        content_type="application/json",
    )
    tokens = client.post(
        "/api/v1/auth/login",
        {"username": user.username, "password": "correct-horse-battery-9"},
        content_type="application/json",
    ).json()
    Client(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}").post("/api/v1/auth/logout")
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "outcome", "username"))
    assert actions == [
        ("auth.login_failed", "failure", user.username),
        ("auth.login", "success", user.username),
        ("api.logout", "success", user.username),
    ]


def test_audit_events_cannot_be_updated_or_deleted_through_the_orm(viewer):
    viewer.get("/api/v1/auth/me")
    event = AuditEvent.objects.get(action="api.me")
    event.action = "tampered"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().update(action="tampered")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.filter(action="api.me").count() == 1


def test_the_database_refuses_updates_of_audit_events(viewer):
    from django.db import connection

    viewer.get("/api/v1/auth/me")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET action = 'tampered'")


def test_admin_shows_audit_events_read_only(make_user):
    admin = make_user("admin", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    Client().get("/api/v1/studies/search")
    event = AuditEvent.objects.get()
    assert client.get("/admin/audit/auditevent/").status_code == HTTPStatus.OK
    change = client.get(f"/admin/audit/auditevent/{event.pk}/change/")
    assert change.status_code == HTTPStatus.OK
    assert b'name="_save"' not in change.content
    assert (
        client.post(f"/admin/audit/auditevent/{event.pk}/change/", {"action": "x"}).status_code
        == HTTPStatus.FORBIDDEN
    )
    assert (
        client.get(f"/admin/audit/auditevent/{event.pk}/delete/").status_code
        == HTTPStatus.FORBIDDEN
    )
    assert client.get("/admin/audit/auditevent/add/").status_code == HTTPStatus.FORBIDDEN
