"""Session login, lockout, logout and the automatic logoff after inactivity."""

import time
from http import HTTPStatus

import pytest
from django.test import Client

from accounts.models import Role
from audit.models import AuditEvent
from tests.factories import PASSWORD
from web.middleware import LAST_ACTIVITY

pytestmark = pytest.mark.django_db

PAGES = ["/studies/", "/studies/X1/", "/reports/", "/reports/R1/", "/analysis/",
         "/analysis/T1/", "/dashboard/", "/import/", "/studies/export/", "/reports/export/"]  # fmt: skip


@pytest.mark.parametrize("path", PAGES)
def test_pages_redirect_to_login_when_signed_out(client, path):
    response = client.get(path)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/login/?next={path}"


def test_signed_out_htmx_request_sends_the_whole_page_to_login(client):
    response = client.get(
        "/analysis/",
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/analysis/?status=pending",
    )
    assert response["HX-Redirect"] == "/login/?next=/analysis/%3Fstatus%3Dpending"


def test_home_redirects_to_the_studies(viewer_web):
    assert viewer_web.get("/")["Location"] == "/studies/"


def test_login_with_valid_credentials_opens_the_next_page(make_user):
    user = make_user(Role.VIEWER)
    client = Client()
    response = client.post(
        "/login/", {"username": user.username, "password": PASSWORD, "next": "/reports/"}
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/reports/"
    assert client.get("/reports/").status_code == HTTPStatus.OK
    user.refresh_from_db()
    assert user.last_login is not None


def test_login_ignores_a_next_url_on_another_site(make_user):
    user = make_user(Role.VIEWER)
    response = Client().post(
        "/login/",
        {"username": user.username, "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/studies/"


@pytest.mark.parametrize("username", ["known", "nobody"])
def test_login_with_bad_credentials_gives_one_message(make_user, username):
    make_user(Role.VIEWER, username="known")
    response = Client().post("/login/", {"username": username, "password": "wrong-password"})
    assert response.status_code == HTTPStatus.OK
    assert b"Invalid username or password." in response.content
    assert "_auth_user_id" not in response.wsgi_request.session


def test_login_page_of_a_signed_in_user_goes_on_to_the_studies(viewer_web):
    assert viewer_web.get("/login/")["Location"] == "/studies/"


def test_login_is_locked_after_repeated_failures(make_user, settings):
    settings.LOGIN_MAX_FAILURES = 3
    user = make_user(Role.VIEWER)
    client = Client()
    for _ in range(3):
        client.post("/login/", {"username": user.username, "password": "wrong-password"})
    response = client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert int(response["Retry-After"]) > 0
    assert b"Too many failed attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_lockout_does_not_lock_out_colleagues_behind_the_same_address(make_user, settings):
    settings.LOGIN_MAX_FAILURES = 2
    locked, colleague = make_user(Role.VIEWER), make_user(Role.VIEWER)
    for _ in range(2):
        Client().post("/login/", {"username": locked.username, "password": "nope-nope-1"})
    response = Client().post("/login/", {"username": colleague.username, "password": PASSWORD})
    assert response.status_code == HTTPStatus.FOUND


def test_api_and_web_login_failures_count_together(make_user, settings):
    settings.LOGIN_MAX_FAILURES = 2
    user = make_user(Role.VIEWER)
    Client().post(
        "/api/v1/auth/login",
        {"username": user.username, "password": "nope-nope-1"},
        content_type="application/json",
    )
    Client().post("/login/", {"username": user.username, "password": "nope-nope-1"})
    response = Client().post("/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_login_form_needs_the_csrf_token(make_user):
    user = make_user(Role.VIEWER)
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == HTTPStatus.FORBIDDEN


def test_login_with_the_csrf_token_from_the_form(make_user):
    user = make_user(Role.VIEWER)
    client = Client(enforce_csrf_checks=True)
    form = client.get("/login/")
    token = form.context["csrf_token"]
    response = client.post(
        "/login/",
        {"username": user.username, "password": PASSWORD, "csrfmiddlewaretoken": str(token)},
    )
    assert response.status_code == HTTPStatus.FOUND


def test_logout_ends_the_session(viewer_web):
    response = viewer_web.post("/logout/")
    assert response["Location"] == "/login/"
    assert viewer_web.get("/studies/")["Location"] == "/login/?next=/studies/"


def test_logout_is_a_post(viewer_web):
    assert viewer_web.get("/logout/").status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_login_failure_login_and_logout_are_audited(make_user):
    user = make_user(Role.VIEWER)
    client = Client()
    client.post("/login/", {"username": user.username, "password": "wrong-password"})
    client.post("/login/", {"username": user.username, "password": PASSWORD})
    client.post("/logout/")
    events = list(AuditEvent.objects.order_by("id").values_list("action", "outcome", "username"))
    assert events == [
        ("auth.login_failed", "failure", user.username),
        ("auth.login", "success", user.username),
        ("auth.logout", "success", user.username),
    ]


def _age_session(client: Client, seconds: float) -> None:
    session = client.session
    session[LAST_ACTIVITY] = time.time() - seconds
    session.save()


def test_idle_session_is_signed_out_after_the_timeout(viewer_web, settings):
    settings.WEB_IDLE_TIMEOUT_MINUTES = 30
    _age_session(viewer_web, 31 * 60)
    response = viewer_web.get("/studies/?q=x")
    assert response["Location"] == "/login/?next=/studies/%3Fq%3Dx"
    assert viewer_web.get("/reports/")["Location"] == "/login/?next=/reports/"
    event = AuditEvent.objects.get(action="auth.logout")
    assert event.detail == {"via": "web", "reason": "idle"}


def test_idle_logoff_tells_the_user_why(viewer_web, settings):
    settings.WEB_IDLE_TIMEOUT_MINUTES = 5
    _age_session(viewer_web, 6 * 60)
    response = viewer_web.get("/studies/", follow=True)
    assert b"You were signed out after 5 minutes without activity." in response.content


def test_activity_within_the_timeout_keeps_the_session(viewer_web, settings):
    settings.WEB_IDLE_TIMEOUT_MINUTES = 30
    _age_session(viewer_web, 29 * 60)
    assert viewer_web.get("/studies/").status_code == HTTPStatus.OK
    assert time.time() - viewer_web.session[LAST_ACTIVITY] < 5


def test_background_polling_does_not_keep_an_idle_session_alive(viewer_web, settings):
    settings.WEB_IDLE_TIMEOUT_MINUTES = 30
    _age_session(viewer_web, 20 * 60)
    polled = viewer_web.get("/analysis/", HTTP_HX_REQUEST="true", HTTP_X_BACKGROUND_REQUEST="1")
    assert polled.status_code == HTTPStatus.OK
    assert time.time() - viewer_web.session[LAST_ACTIVITY] > 19 * 60


def test_idle_htmx_poll_sends_the_whole_page_to_login(viewer_web, settings):
    settings.WEB_IDLE_TIMEOUT_MINUTES = 30
    _age_session(viewer_web, 31 * 60)
    response = viewer_web.get(
        "/analysis/",
        HTTP_HX_REQUEST="true",
        HTTP_X_BACKGROUND_REQUEST="1",
        HTTP_HX_CURRENT_URL="http://testserver/analysis/",
    )
    assert response["HX-Redirect"] == "/login/?next=/analysis/"


def test_pages_carry_the_idle_timeout_for_the_page_timer(viewer_web, settings):
    settings.WEB_IDLE_TIMEOUT_MINUTES = 15
    assert b'data-idle-seconds="900"' in viewer_web.get("/studies/").content


def test_api_docs_open_with_a_web_session(viewer_web):
    assert viewer_web.get("/api/v1/docs").status_code == HTTPStatus.OK
