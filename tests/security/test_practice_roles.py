"""The practice roles against the imaging platform, and the imaging roles against the practice
admin (SPEC-practice §2): learners and instructors are refused (403) every imaging page (the
API is in test_access_matrix.py, whose roles include them); viewers and analysts are refused
the practice models in Django's admin."""

import re
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern

from accounts.models import Role
from analysis.models import AnalysisTask
from bench.reliability.policy import WEB_PAGES
from ingest.models import ImportBatch
from practice.models import Scenario
from tests.factories import UserFactory
from web.urls import urlpatterns

pytestmark = pytest.mark.django_db

PRACTICE_ONLY = (Role.LEARNER, Role.INSTRUCTOR)
IMAGING_PAGES = sorted(
    name
    for name, (_method, _path, minimum) in WEB_PAGES.items()
    if minimum in (Role.VIEWER, Role.ANALYST, Role.ADMIN)
)
PRACTICE_PAGES = sorted(
    name
    for name, (_method, _path, minimum) in WEB_PAGES.items()
    if minimum in (Role.LEARNER, Role.INSTRUCTOR)
)
PRACTICE_ADMIN = ["scenario", "tag", "rubricquestion", "category", "subcategory", "activity",
                  "conversation", "run", "assessment", "scoreoverride", "message"]  # fmt: skip


def browser(role: str, **kwargs: object) -> Client:
    client = Client()
    client.force_login(UserFactory(role=role, **kwargs))
    return client


def test_every_web_page_is_classified():
    names = {p.name for p in urlpatterns if isinstance(p, URLPattern)}
    assert names == set(WEB_PAGES)


@pytest.mark.parametrize("role", PRACTICE_ONLY)
@pytest.mark.parametrize("name", IMAGING_PAGES)
def test_a_practice_role_is_refused_every_imaging_page(world, role, name):
    method, path, _minimum = WEB_PAGES[name]
    url = (
        path.replace("{exam_id}", world.exam_id)
        .replace("{report_id}", world.report_id)
        .replace("{task_id}", world.task_id)
    )
    client = browser(role, is_staff=True)
    data = {"exam_id": world.exam_id, "analysis_type": "general", "kind": "studies"}
    if name == "import":
        data["file"] = SimpleUploadedFile("s.csv", "检查号,姓名\nX1,张三\n".encode())
    response = client.get(url) if method == "GET" else client.post(url, data)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert b"Your role does not allow this action." in response.content
    # Nothing happened, and the page offers no imaging page either.
    assert AnalysisTask.objects.count() == 1
    assert AnalysisTask.objects.get().status == "pending"
    assert not ImportBatch.objects.exclude(pk=world.batch_id).exists()
    assert b'href="/studies/"' not in response.content
    assert b'href="/analysis/"' not in response.content


@pytest.mark.parametrize("role", PRACTICE_ONLY)
def test_a_practice_role_may_still_sign_out_of_the_web_ui(role):
    client = browser(role)
    response = client.post("/logout/")
    assert response.status_code == HTTPStatus.FOUND
    assert client.get("/studies/").status_code == HTTPStatus.FOUND  # to the login page


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ANALYST])
def test_imaging_roles_are_refused_the_practice_admin(role):
    client = browser(role, is_staff=True)
    for model in PRACTICE_ADMIN:
        assert client.get(f"/admin/practice/{model}/").status_code == HTTPStatus.FORBIDDEN
    response = client.post("/admin/practice/scenario/add/", {"scenario_text": "x", "role": "Adult"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not Scenario.objects.exists()


@pytest.mark.parametrize(
    ("role", "superuser", "status"),
    [
        (Role.INSTRUCTOR, False, HTTPStatus.OK),
        (Role.ADMIN, False, HTTPStatus.OK),
        (Role.VIEWER, True, HTTPStatus.OK),  # a superuser is an admin
        (Role.LEARNER, False, HTTPStatus.FORBIDDEN),
    ],
)
def test_the_practice_admin_by_role(role, superuser, status):
    client = browser(role, is_staff=True, is_superuser=superuser)
    assert client.get("/admin/practice/scenario/").status_code == status


def test_an_anonymous_visitor_is_sent_to_the_admin_login():
    response = Client().get("/admin/practice/scenario/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ANALYST])
@pytest.mark.parametrize("name", PRACTICE_PAGES)
def test_an_imaging_role_is_refused_every_practice_page(role, name):
    method, path, _minimum = WEB_PAGES[name]
    url = re.sub(r"\{[a-z_]+\}", "1", path)
    client = browser(role, is_staff=True)
    response = client.get(url) if method == "GET" else client.post(url, {})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert b"Your role does not allow this action." in response.content
    assert b'data-nav="practice"' not in response.content
