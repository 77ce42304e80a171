"""Role-aware navigation, and the server's refusal of actions above the user's role."""

from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role
from analysis.models import AnalysisTask
from audit.models import AuditEvent
from ingest.models import ImportBatch
from tests.analysis.factories import AnalysisTaskFactory
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def study():
    return StudyFactory(exam_id="CT001")


def _upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("s.csv", "检查号,姓名\nX1,张三\n".encode(), content_type="text/csv")


ACTIONS = [
    # (role that is refused, method, path, data)
    (Role.VIEWER, "post", "/analysis/new/", {"exam_id": "CT001", "analysis_type": "general"}),
    (Role.VIEWER, "get", "/analysis/new/", {}),
    (Role.VIEWER, "post", "/analysis/T1/cancel/", {}),
    (Role.VIEWER, "get", "/import/", {}),
    (Role.VIEWER, "post", "/import/", {"kind": "studies", "on_duplicate": "update"}),
    (Role.ANALYST, "get", "/import/", {}),
    (Role.ANALYST, "post", "/import/", {"kind": "studies", "on_duplicate": "update"}),
]


@pytest.mark.parametrize(("role", "method", "path", "data"), ACTIONS)
def test_action_above_the_role_is_refused_by_url(signed_in, study, role, method, path, data):
    AnalysisTaskFactory(study=study, task_id="T1")
    client = signed_in(role)
    if path == "/import/" and method == "post":
        data = {**data, "file": _upload()}
    response = getattr(client, method)(path, data)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert b"Your role does not allow this action." in response.content
    # Nothing happened.
    assert AnalysisTask.objects.get().status == "pending"
    assert AnalysisTask.objects.count() == 1
    assert not ImportBatch.objects.exists()


def test_refused_action_is_audited_as_denied(viewer_web, study):
    viewer_web.post("/analysis/new/", {"exam_id": "CT001", "analysis_type": "general"})
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome, event.status_code) == (
        "web.analysis.create",
        "denied",
        403,
    )
    assert event.username == viewer_web.user.username


def test_viewer_sees_no_import_or_analysis_buttons(viewer_web, study):
    AnalysisTaskFactory(study=study, status="processing")
    pages = [viewer_web.get(p).content for p in ("/studies/", "/studies/CT001/", "/analysis/")]
    for body in pages:
        assert b'href="/import/"' not in body
        assert b"data-analysis-type=" not in body
        assert b'data-action="cancel"' not in body


def test_analyst_sees_analysis_buttons_but_no_import(analyst_web, study):
    AnalysisTaskFactory(study=study, status="processing", created_by=analyst_web.user)
    detail = analyst_web.get("/studies/CT001/").content
    assert detail.count(b"data-analysis-type=") == 3
    assert b'href="/import/"' not in detail
    assert b'data-action="cancel"' in analyst_web.get("/analysis/").content


def test_admin_sees_the_import_page_in_the_navigation(admin_web):
    body = admin_web.get("/studies/").content
    assert b'href="/import/"' in body
    assert admin_web.get("/import/").status_code == HTTPStatus.OK


def test_superuser_is_an_admin_whatever_the_role_field(signed_in):
    client = signed_in(Role.VIEWER, is_superuser=True)
    assert client.get("/import/").status_code == HTTPStatus.OK
