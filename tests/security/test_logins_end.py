"""Issue 20 item 3: a password set, a role change or a deactivation ends that user's logins at
once, through whichever door it was made (the admin's forms, manage.py changepassword): the
access token stops answering, the refresh token stops rotating, the browser session is signed
out. A password hash upgraded while logging in is not a change and ends nothing."""

from http import HTTPStatus

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher, PBKDF2PasswordHasher, make_password
from django.core.management import call_command
from django.test import Client

from accounts.models import AuthSession, Role, User
from audit.models import AuditEvent
from tests.conftest import login
from tests.factories import PASSWORD, StudyFactory

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Another-Long-Passphrase-42"


class FastPBKDF2(PBKDF2PasswordHasher):
    """A stronger hasher than the stored one, cheap enough for a test."""

    iterations = 2


@pytest.fixture
def chief(make_user) -> Client:
    client = Client()
    client.force_login(make_user(Role.ADMIN, username="chief", is_staff=True, is_superuser=True))
    return client


class Logins:
    """One API login and one browser session of ``user``, and what still works of them."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.tokens = login(Client(), user.username)
        self.browser = Client()
        response = self.browser.post("/login/", {"username": user.username, "password": PASSWORD})
        assert response.status_code == HTTPStatus.FOUND

    def api(self) -> Client:
        return Client(HTTP_AUTHORIZATION=f"Bearer {self.tokens['access']}")

    def me(self) -> int:
        return self.api().get("/api/v1/auth/me").status_code

    def refresh(self) -> int:
        return (
            Client()
            .post("/api/v1/auth/refresh", {"refresh": self.tokens["refresh"]}, "application/json")
            .status_code
        )

    def page(self) -> int:
        return self.browser.get("/studies/").status_code

    def all_ended(self) -> bool:
        return (self.me(), self.page(), self.refresh()) == (401, 302, 401)


def admin_change(chief: Client, user: User, **changes: object):
    from tests.security.test_admin_door import change_form

    response = chief.post(f"/admin/accounts/user/{user.pk}/change/", change_form(user, **changes))
    assert response.status_code == HTTPStatus.FOUND, response.content
    return response


def test_password_set_in_the_admin_ends_the_users_logins(chief, make_user):
    logins = Logins(make_user(Role.ANALYST))
    StudyFactory(exam_id="LE001")
    assert (logins.me(), logins.page()) == (200, 200)
    response = chief.post(
        f"/admin/accounts/user/{logins.user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == HTTPStatus.FOUND
    # The old access token can neither read nor create a task.
    created = logins.api().post(
        "/api/v1/analysis/tasks", {"exam_id": "LE001", "analysis_type": "general"},
        content_type="application/json",
    )  # fmt: skip
    assert created.status_code == HTTPStatus.UNAUTHORIZED
    assert logins.all_ended()
    assert not AuthSession.objects.filter(user=logins.user, revoked_at__isnull=True).exists()
    # The new password works (through every door), and the admin is still signed in.
    assert login(Client(), logins.user.username, NEW_PASSWORD)["access"]
    assert chief.get("/admin/").status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    ("role", "changes"),
    [(Role.VIEWER, {"role": "analyst"}), (Role.ANALYST, {"role": "viewer"}),
     (Role.VIEWER, {"is_active": False}), (Role.VIEWER, {"is_staff": "on"})],
)  # fmt: skip
def test_role_change_or_deactivation_in_the_admin_ends_the_users_logins(
    chief, make_user, role, changes
):
    logins = Logins(make_user(role))
    admin_change(chief, logins.user, **changes)
    assert logins.all_ended()
    event = AuditEvent.objects.get(action="user.rights_changed")
    assert set(event.detail["changes"]) == set(changes)
    assert event.detail["api_logins_ended"] == 1


def test_other_users_logins_are_untouched(chief, make_user):
    target, colleague = Logins(make_user()), Logins(make_user())
    admin_change(chief, target.user, role="analyst")
    assert target.all_ended()
    assert (colleague.me(), colleague.page(), colleague.refresh()) == (200, 200, 200)


def test_a_save_that_changes_no_right_ends_nothing(chief, make_user):
    logins = Logins(make_user())
    admin_change(chief, logins.user, department="Radiology")
    assert (logins.me(), logins.page(), logins.refresh()) == (200, 200, 200)


def test_manage_py_changepassword_ends_the_users_logins(make_user, monkeypatch):
    logins = Logins(make_user(Role.ANALYST, username="operator_target"))
    monkeypatch.setattr("getpass.getpass", lambda prompt="Password: ": NEW_PASSWORD)
    call_command("changepassword", "operator_target")
    assert logins.all_ended()
    event = AuditEvent.objects.get(action="user.password_changed")
    assert (event.username, event.detail["via"]) == (
        "(manage.py changepassword)",
        "manage.py changepassword",
    )
    assert login(Client(), "operator_target", NEW_PASSWORD)["access"]


def test_a_hash_upgraded_at_login_ends_no_login(make_user, settings):
    user = make_user(Role.ANALYST)
    logins = Logins(user)
    # The stored hash is the weaker one; the next login upgrades it to the preferred hasher.
    settings.PASSWORD_HASHERS = [
        f"{FastPBKDF2.__module__}.FastPBKDF2",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    User.objects.filter(pk=user.pk).update(
        password=make_password(PASSWORD, hasher=MD5PasswordHasher())
    )
    login(Client(), user.username)
    user.refresh_from_db()
    assert user.password.startswith("pbkdf2_sha256$2$")
    assert (logins.me(), logins.page(), logins.refresh()) == (200, 200, 200)
    assert not AuditEvent.objects.filter(action="user.password_changed").exists()
