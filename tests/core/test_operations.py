"""Health, API documentation, permissions and deployment settings."""

from http import HTTPStatus

import pytest
from django.db import DatabaseError
from django.test import Client

pytestmark = pytest.mark.django_db


def test_health_needs_no_login(db, settings):
    response = Client().get("/api/v1/health")
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": "ok", "database": "ok", "version": settings.VERSION}


def test_health_is_503_when_the_database_is_unreachable(db, monkeypatch, settings):
    from django.db.backends.utils import CursorWrapper

    def broken(self, sql, params=None):
        raise DatabaseError("connection refused")

    monkeypatch.setattr(CursorWrapper, "execute", broken)
    response = Client().get("/api/v1/health")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json() == {
        "status": "error",
        "database": "unavailable",
        "version": settings.VERSION,
    }


def test_api_docs_need_a_login(db):
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"detail": "Not authenticated"}
    # A person opening the docs page signed out is sent to the sign-in page.
    response = Client().get("/api/v1/docs")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/login/?next=/api/v1/docs"


def test_api_docs_with_a_bearer_token(viewer):
    schema = viewer.get("/api/v1/openapi.json")
    assert schema.status_code == HTTPStatus.OK
    assert "/api/v1/studies/search" in schema.json()["paths"]


def test_api_docs_with_an_admin_session_are_served_offline(make_user):
    client = Client()
    client.force_login(make_user("admin", is_staff=True))
    page = client.get("/api/v1/docs")
    assert page.status_code == HTTPStatus.OK
    html = page.content.decode()
    assert "swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()


def test_unknown_api_path_is_a_json_404(viewer):
    response = viewer.get("/api/v1/nowhere")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"detail": "Not Found"}


def test_responses_are_not_cached(viewer):
    response = viewer.get("/api/v1/studies/search")
    assert response["Cache-Control"] == "no-store"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_cors_allows_configured_origins(viewer, settings):
    settings.CORS_ALLOWED_ORIGINS = ["http://localhost:5173"]
    allowed = viewer.get("/api/v1/health", HTTP_ORIGIN="http://localhost:5173")
    other = viewer.get("/api/v1/health", HTTP_ORIGIN="http://evil.example")
    assert allowed["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert "Access-Control-Allow-Origin" not in other


def test_admin_manages_users_and_roles(make_user):
    admin = make_user("admin", is_staff=True, is_superuser=True)
    target = make_user("viewer")
    client = Client()
    client.force_login(admin)
    page = client.get(f"/admin/accounts/user/{target.pk}/change/")
    assert page.status_code == HTTPStatus.OK
    assert b'name="role"' in page.content


def test_admin_browses_studies_read_only(make_user):
    from tests.factories import StudyFactory

    study = StudyFactory()
    client = Client()
    client.force_login(make_user("admin", is_staff=True, is_superuser=True))
    assert client.get("/admin/studies/study/").status_code == HTTPStatus.OK
    assert client.get(f"/admin/studies/study/{study.pk}/change/").status_code == HTTPStatus.OK
    assert (
        client.get(f"/admin/studies/study/{study.pk}/delete/").status_code == HTTPStatus.FORBIDDEN
    )


@pytest.mark.parametrize(
    "model", ["studies/study", "reports/report", "audit/auditevent", "analysis/analysistask"]
)
def test_admin_can_neither_add_change_nor_delete_audited_records(make_user, model):
    from analysis.models import AnalysisTask
    from audit.models import AuditEvent
    from reports.models import Report
    from tests.factories import ReportFactory

    report = ReportFactory()
    event = AuditEvent.objects.create(action="test.event", outcome="success")
    task = AnalysisTask.objects.create(study=report.study, analysis_type="general")
    pk = {
        "studies/study": report.study_id,
        "reports/report": report.pk,
        "analysis/analysistask": task.pk,
    }.get(model, event.pk)
    client = Client()
    client.force_login(make_user("admin", is_staff=True, is_superuser=True))
    assert client.get(f"/admin/{model}/add/").status_code == HTTPStatus.FORBIDDEN
    assert client.post(f"/admin/{model}/{pk}/delete/").status_code == HTTPStatus.FORBIDDEN
    changed = client.post(f"/admin/{model}/{pk}/change/", {"content": "edited"})
    assert changed.status_code == HTTPStatus.FORBIDDEN
    assert Report.objects.get(pk=report.pk).content == report.content


def test_api_answers_503_while_the_database_is_unreachable(viewer, monkeypatch):
    from django.db import OperationalError
    from django.db.backends.utils import CursorWrapper

    def broken(self, sql, params=None):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(CursorWrapper, "execute", broken)
    response = viewer.get("/api/v1/studies/search")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json() == {"detail": "The database is unavailable; try again shortly"}
    assert response["Retry-After"] == "10"


def test_an_answer_whose_audit_event_cannot_be_written_is_withheld(viewer, monkeypatch):
    from django.db import OperationalError

    from audit import middleware

    def unwritable(**kwargs):
        raise OperationalError("could not write")

    monkeypatch.setattr(middleware, "audit_record", unwritable)
    response = viewer.get("/api/v1/studies/search")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "data" not in response.json()


def test_token_api_calls_skip_the_page_middleware_but_pages_keep_it(viewer, make_user):
    # A token API call: no cookie session is read or started, no page language negotiated.
    viewer.cookies["sessionid"] = "not-a-session"
    response = viewer.get("/api/v1/studies/search", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == HTTPStatus.OK
    assert "sessionid" not in response.cookies
    assert "Cookie" not in response.get("Vary", "")
    assert "Content-Language" not in response
    # The security headers still come with it.
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "no-store"
    # Pages under /api/ that log in with the session (the docs) keep the whole stack.
    client = Client()
    client.force_login(make_user("admin", is_staff=True))
    docs = client.get("/api/v1/docs", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert docs.status_code == HTTPStatus.OK
    assert docs["Content-Language"] == "zh-hans"
