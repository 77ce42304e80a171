"""Issue 20 items 1 and 2: the admin is a door like the others.

Its login goes through the product's credential check (the lockout's LoginFailure rows, shared
with the API and the web UI, and the audit); patient data seen in it (study, report and task
lists, searches, a record's page) and changes of a user's password or rights made in it are
audit events.
"""

from http import HTTPStatus

import pytest
from django.test import Client

from accounts.models import AuthSession, LoginFailure, Role, User
from audit.models import AuditEvent
from tests.factories import PASSWORD, ReportFactory, StudyFactory

pytestmark = pytest.mark.django_db
ADMIN_LOGIN = "/admin/login/?next=/admin/"
NEW_PASSWORD = "Another-Long-Passphrase-42"


@pytest.fixture
def chief(make_user) -> User:
    return make_user(Role.ADMIN, username="chief", is_staff=True, is_superuser=True)


def admin_login(client: Client, username: str, password: str):
    return client.post(ADMIN_LOGIN, {"username": username, "password": password})


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_admin_login_locks_out_after_the_limit_and_audits_every_try(chief, settings):
    settings.LOGIN_MAX_FAILURES = 3
    client = Client(REMOTE_ADDR="10.20.0.1")
    answers = [admin_login(client, "chief", "wrong").status_code for _ in range(3)]
    assert answers == [200, 200, 200]
    assert LoginFailure.objects.filter(username="chief").count() == 3
    failed = AuditEvent.objects.filter(action="auth.login_failed", username="chief")
    assert [e.detail for e in failed] == [{"via": "admin"}] * 3
    # The right password is now refused too: 429, the lockout's message, no session.
    locked = admin_login(client, "chief", PASSWORD)
    assert locked.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert int(locked["Retry-After"]) > 0
    assert "Too many failed login attempts" in locked.content.decode()
    assert not signed_in(client)
    assert not AuditEvent.objects.filter(action="auth.login").exists()


def test_admin_and_api_failures_count_together(chief, settings):
    settings.LOGIN_MAX_FAILURES = 2
    admin_login(Client(REMOTE_ADDR="10.20.0.2"), "chief", "wrong")
    Client(REMOTE_ADDR="10.20.0.2").post(
        "/api/v1/auth/login", {"username": "chief", "password": "wrong"}, "application/json"
    )
    locked = admin_login(Client(REMOTE_ADDR="10.20.0.2"), "chief", PASSWORD)
    assert locked.status_code == HTTPStatus.TOO_MANY_REQUESTS
    api = Client(REMOTE_ADDR="10.20.0.2").post(
        "/api/v1/auth/login", {"username": "chief", "password": PASSWORD}, "application/json"
    )
    assert api.status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_admin_login_success_is_audited_and_clears_the_failures(chief):
    client = Client(REMOTE_ADDR="10.20.0.3")
    admin_login(client, "chief", "wrong")
    response = admin_login(client, "chief", PASSWORD)
    assert (response.status_code, response["Location"]) == (HTTPStatus.FOUND, "/admin/")
    assert signed_in(client)
    assert not LoginFailure.objects.filter(username="chief").exists()
    event = AuditEvent.objects.get(action="auth.login")
    assert (event.username, event.outcome, event.detail) == ("chief", "success", {"via": "admin"})
    assert client.get("/admin/").status_code == HTTPStatus.OK
    client.post("/admin/logout/")
    assert not signed_in(client)
    logout = AuditEvent.objects.get(action="auth.logout")
    assert (logout.username, logout.detail) == ("chief", {"via": "admin", "reason": "user"})


def test_admin_login_of_a_non_staff_account_is_refused_and_audited(make_user):
    make_user(Role.VIEWER, username="plain")
    client = Client()
    response = admin_login(client, "plain", PASSWORD)
    assert response.status_code == HTTPStatus.OK
    assert "staff account" in response.content.decode()
    assert not signed_in(client)
    event = AuditEvent.objects.get(action="auth.login_refused")
    assert (event.username, event.outcome) == ("plain", "denied")


# ---------------------------------------------------------------- patient data in the admin


@pytest.fixture
def chief_browser(chief) -> Client:
    client = Client()
    client.force_login(chief)
    return client


def test_admin_study_list_search_and_page_are_audited(chief_browser):
    StudyFactory(exam_id="ADM001", patient_name="欧阳娜娜")
    StudyFactory(exam_id="ADM002", patient_name="Someone Else")
    assert chief_browser.get("/admin/studies/study/").status_code == HTTPStatus.OK
    assert chief_browser.get("/admin/studies/study/", {"q": "欧阳娜娜"}).status_code == 200
    assert chief_browser.get("/admin/studies/study/ADM001/change/").status_code == 200
    events = list(AuditEvent.objects.filter(action__startswith="admin.").order_by("id"))
    assert [e.action for e in events] == [
        "admin.study.list",
        "admin.study.search",
        "admin.study.view",
    ]
    listed, searched, viewed = events
    assert sorted(listed.object_ids) == ["ADM001", "ADM002"]
    assert (searched.object_ids, searched.result_count) == (["ADM001"], 1)
    assert searched.query == {"q": "欧阳娜娜"}
    assert viewed.object_ids == ["ADM001"]
    for event in events:
        assert (event.username, event.outcome, event.status_code) == ("chief", "success", 200)
        assert event.object_type == "study"


def test_admin_report_and_task_lists_are_audited(chief_browser):
    report = ReportFactory(report_id="RADM01")
    chief_browser.get("/admin/reports/report/")
    chief_browser.get("/admin/reports/report/RADM01/change/")
    chief_browser.get("/admin/analysis/analysistask/")
    chief_browser.get("/admin/audit/auditevent/")
    actions = list(
        AuditEvent.objects.filter(action__startswith="admin.")
        .order_by("id")
        .values_list("action", "object_ids")
    )
    assert actions[:3] == [
        ("admin.report.list", [report.report_id]),
        ("admin.report.view", [report.report_id]),
        ("admin.analysis_task.list", []),
    ]
    assert actions[3][0] == "admin.audit_event.list"


# ---------------------------------------------------------------- rights changed in the admin


def change_form(user: User, **changes: object) -> dict:
    data = {
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": user.role,
        "department": user.department,
        "phone": user.phone,
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    if user.is_active:
        data["is_active"] = "on"
    data.update({k: v for k, v in changes.items() if v is not False})
    for key, value in changes.items():
        if value is False:
            data.pop(key, None)
    return data


def test_role_change_in_the_admin_is_audited(chief_browser, make_user):
    target = make_user(Role.VIEWER, username="target")
    response = chief_browser.post(
        f"/admin/accounts/user/{target.pk}/change/", change_form(target, role="analyst")
    )
    assert response.status_code == HTTPStatus.FOUND, response.content
    event = AuditEvent.objects.get(action="user.rights_changed")
    assert event.username == "chief"
    assert event.object_ids == [str(target.pk)]
    assert event.detail["changes"] == {"role": ["viewer", "analyst"]}
    assert event.detail["target"] == "target"


def test_password_change_in_the_admin_is_audited(chief_browser, make_user):
    target = make_user(Role.VIEWER, username="target")
    response = chief_browser.post(
        f"/admin/accounts/user/{target.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == HTTPStatus.FOUND, response.content
    target.refresh_from_db()
    assert target.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action="user.password_changed")
    assert (event.username, event.object_ids) == ("chief", [str(target.pk)])
    assert event.detail["via"] == "admin"


def test_an_unchanged_save_in_the_admin_records_no_rights_change(chief_browser, make_user):
    target = make_user(Role.VIEWER, username="target")
    chief_browser.post(f"/admin/accounts/user/{target.pk}/change/", change_form(target))
    assert not AuditEvent.objects.filter(action="user.rights_changed").exists()
    assert not AuthSession.objects.filter(revoked_at__isnull=False).exists()
