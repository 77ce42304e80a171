"""Issue 20 item 4: an analyst cannot cancel a colleague's analysis, through the API or the
web UI; its creator and admins can."""

from http import HTTPStatus

import pytest
from django.test import Client

from accounts.models import Role
from analysis.models import AnalysisTask
from analysis.services import CANCEL_FORBIDDEN
from audit.models import AuditEvent
from tests.conftest import login
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db
TASKS = "/api/v1/analysis/tasks"


@pytest.fixture
def colleagues(make_user):
    return make_user(Role.ANALYST), make_user(Role.ANALYST), make_user(Role.ADMIN)


def bearer(user) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {login(Client(), user.username)['access']}")


def pending_task(owner) -> AnalysisTask:
    study = StudyFactory()
    return AnalysisTask.objects.create(study=study, analysis_type="general", created_by=owner)


def test_api_cancel_of_a_colleagues_task_is_403_and_changes_nothing(colleagues):
    owner, other, _ = colleagues
    task = pending_task(owner)
    response = bearer(other).delete(f"{TASKS}/{task.task_id}")
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"detail": CANCEL_FORBIDDEN}
    task.refresh_from_db()
    assert (task.status, task.completed_at) == ("pending", None)
    event = AuditEvent.objects.get(action="analysis.cancel")
    assert (event.username, event.outcome, event.status_code) == (other.username, "denied", 403)


def test_api_cancel_of_a_task_without_a_creator_is_for_admins_only(colleagues):
    _, other, _ = colleagues
    task = pending_task(None)
    assert bearer(other).delete(f"{TASKS}/{task.task_id}").status_code == HTTPStatus.FORBIDDEN


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_api_cancel_by_the_creator_or_an_admin_works(colleagues, who):
    owner, _, admin = colleagues
    task = pending_task(owner)
    response = bearer(owner if who == "owner" else admin).delete(f"{TASKS}/{task.task_id}")
    assert response.status_code == HTTPStatus.OK
    assert response.json()["status"] == "cancelled"
    task.refresh_from_db()
    assert task.status == "cancelled"


def test_web_cancel_of_a_colleagues_task_is_403_and_shows_no_button(colleagues):
    owner, other, _ = colleagues
    task = pending_task(owner)
    browser = Client()
    browser.force_login(other)
    assert b'data-action="cancel"' not in browser.get("/analysis/").content
    assert b'data-action="cancel"' not in browser.get(f"/analysis/{task.task_id}/").content
    response = browser.post(f"/analysis/{task.task_id}/cancel/")
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert CANCEL_FORBIDDEN in response.content.decode()
    task.refresh_from_db()
    assert task.status == "pending"
    owners = Client()
    owners.force_login(owner)
    assert b'data-action="cancel"' in owners.get(f"/analysis/{task.task_id}/").content
    owners.post(f"/analysis/{task.task_id}/cancel/")
    task.refresh_from_db()
    assert task.status == "cancelled"
