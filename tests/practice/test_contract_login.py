"""POST /api/login: the product's credential check by email, in the contract's shapes."""

from http import HTTPStatus

import pytest
from django.test import Client

from accounts import tokens
from accounts.models import LoginFailure, Role, User
from audit.models import AuditEvent
from practice.flask_users import import_flask_users
from tests.factories import PASSWORD, UserFactory
from tests.practice.contract_support import call
from tests.practice.test_flask_users import LEE_HASH, flask_row, flask_users  # noqa: F401

pytestmark = pytest.mark.django_db

INVALID = {"message": "Invalid username or password"}
MISSING = {"message": "Missing fields"}


def login(email: str, password: str = PASSWORD, client: Client | None = None):
    return call(client or Client(), "post", "/api/login", {"email": email, "password": password})


@pytest.mark.parametrize(
    ("role", "shown"),
    [
        (Role.LEARNER, "student"),
        (Role.INSTRUCTOR, "admin"),
        (Role.ADMIN, "admin"),
        (Role.VIEWER, "viewer"),
        (Role.ANALYST, "analyst"),
    ],
)
def test_login_answers_token_role_and_name(role, shown) -> None:
    user = UserFactory(username="dana", email="dana@hospital.example", role=role)
    response = login("dana@hospital.example")
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body == {"token": body["token"], "role": shown, "name": "dana"}
    claims = tokens.decode(body["token"], kind=tokens.ACCESS)
    assert claims is not None
    assert claims["sub"] == str(user.pk)


def test_login_of_a_superuser_shows_admin() -> None:
    UserFactory(username="root", email="root@hospital.example", role=Role.VIEWER, is_superuser=True)
    assert login("root@hospital.example").json()["role"] == "admin"


def test_login_matches_the_email_case_insensitively() -> None:
    UserFactory(username="dana", email="Dana@Hospital.example", role=Role.LEARNER)
    response = login("  dana@HOSPITAL.EXAMPLE ")
    assert response.status_code == HTTPStatus.OK
    assert response.json()["name"] == "dana"


def test_login_token_works_on_the_contract_and_on_api_v1() -> None:
    UserFactory(username="lee", email="lee@hospital.example", role=Role.LEARNER)
    UserFactory(username="vic", email="vic@hospital.example", role=Role.VIEWER)
    learner = Client(HTTP_AUTHORIZATION=f"Bearer {login('lee@hospital.example').json()['token']}")
    assert learner.get("/api/scenarios").status_code == HTTPStatus.OK
    # Within its role: a learner is refused on the imaging API.
    assert learner.get("/api/v1/studies/search").status_code == HTTPStatus.FORBIDDEN
    viewer = Client(HTTP_AUTHORIZATION=f"Bearer {login('vic@hospital.example').json()['token']}")
    assert viewer.get("/api/v1/auth/me").json()["username"] == "vic"
    assert viewer.get("/api/scenarios").status_code == HTTPStatus.FORBIDDEN


def test_login_with_a_wrong_password_is_401_and_audited() -> None:
    UserFactory(username="dana", email="dana@hospital.example", role=Role.LEARNER)
    response = login("dana@hospital.example", "wrong-password")
    assert (response.status_code, response.json()) == (HTTPStatus.UNAUTHORIZED, INVALID)
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.detail == {"via": "practice"}
    assert event.username == "dana"


def test_login_with_an_unknown_email_answers_the_same_401() -> None:
    response = login("nobody@hospital.example")
    assert (response.status_code, response.json()) == (HTTPStatus.UNAUTHORIZED, INVALID)


def test_login_by_username_instead_of_email_is_refused_for_another_users_email() -> None:
    # The email field is looked up as an email first: another user's username never wins.
    UserFactory(username="a@hospital.example", email="first@hospital.example")
    UserFactory(username="second", email="a@hospital.example", role=Role.LEARNER)
    assert login("a@hospital.example").json()["name"] == "second"


def test_login_of_an_inactive_user_is_401() -> None:
    UserFactory(username="gone", email="gone@hospital.example", is_active=False)
    response = login("gone@hospital.example")
    assert (response.status_code, response.json()) == (HTTPStatus.UNAUTHORIZED, INVALID)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": "dana@hospital.example"},
        {"password": PASSWORD},
        {"email": "", "password": PASSWORD},
        {"email": "dana@hospital.example", "password": ""},
        {"email": None, "password": PASSWORD},
    ],
)
def test_login_with_a_missing_field_is_400(body) -> None:
    UserFactory(username="dana", email="dana@hospital.example")
    response = call(Client(), "post", "/api/login", body)
    assert (response.status_code, response.json()) == (HTTPStatus.BAD_REQUEST, MISSING)
    assert not LoginFailure.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "a" * 255, "password": PASSWORD}, "email"),
        ({"email": "dana@hospital.example", "password": "p" * 1025}, "password"),
        ({"email": 12, "password": PASSWORD}, "email"),
    ],
)
def test_login_with_an_invalid_field_is_400(body, field) -> None:
    response = call(Client(), "post", "/api/login", body)
    assert (response.status_code, response.json()) == (400, {"message": f"Invalid field: {field}"})
    assert not LoginFailure.objects.exists()


def test_login_locks_out_after_repeated_failures(settings) -> None:
    settings.LOGIN_MAX_FAILURES = 3
    UserFactory(username="dana", email="dana@hospital.example")
    for _ in range(3):
        assert login("dana@hospital.example", "bad").status_code == HTTPStatus.UNAUTHORIZED
    response = login("dana@hospital.example")
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {
        "message": "Too many failed login attempts; try again in 15 minute(s)"
    }
    assert int(response["Retry-After"]) > 0


def test_login_lockout_is_shared_with_api_v1(settings) -> None:
    settings.LOGIN_MAX_FAILURES = 2
    UserFactory(username="dana", email="dana@hospital.example")
    v1 = {"username": "dana", "password": "bad"}
    for _ in range(2):
        call(Client(), "post", "/api/v1/auth/login", v1)
    assert login("dana@hospital.example").status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_login_success_is_audited_once() -> None:
    UserFactory(username="dana", email="dana@hospital.example", role=Role.LEARNER)
    login("dana@hospital.example")
    events = list(AuditEvent.objects.values_list("action", "username", "detail"))
    assert events == [("auth.login", "dana", {"via": "practice"})]


def test_login_path_with_a_trailing_slash_works() -> None:
    UserFactory(username="dana", email="dana@hospital.example")
    response = call(
        Client(), "post", "/api/login/", {"email": "dana@hospital.example", "password": PASSWORD}
    )
    assert response.status_code == HTTPStatus.OK


def test_login_with_a_nul_byte_is_400() -> None:
    UserFactory(username="dana", email="dana@hospital.example")
    response = login("dana@hospital.example\u0000")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"message": "The request contains a NUL byte"}


def test_login_with_a_body_that_is_not_json_is_400() -> None:
    response = call(Client(), "post", "/api/login", b"email=a")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()) == ["message"]


# ---------------------------------------------------------------- Flask accounts
# The Flask ``user`` table and its rows come from the flask-adopt tests' fixture.


def test_a_flask_user_logs_in_by_email_before_the_import(flask_users, settings) -> None:  # noqa: F811
    settings.FLASK_COMPAT = True
    response = login("LEE@hospital.example", "Teach-Me-2024")
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"token": response.json()["token"], "role": "admin", "name": "drlee"}
    assert User.objects.get(username="drlee").password == LEE_HASH
    assert flask_row(1) == ("drlee", "Lee@Hospital.example", LEE_HASH, "admin")
    # Again, now through the product user the first login created.
    assert login("lee@hospital.example", "Teach-Me-2024").status_code == HTTPStatus.OK


def test_an_imported_flask_user_logs_in_by_email_with_the_flask_hash(flask_users, settings) -> None:  # noqa: F811
    settings.FLASK_COMPAT = True
    import_flask_users()
    white = User.objects.get(email="sam.white@uni.example")
    assert white.username != "sam"  # made unique by the import
    response = login("sam.white@uni.example", "student-pass-1")
    assert response.json() == {
        "token": response.json()["token"],
        "role": "student",
        "name": white.username,
    }
    assert User.objects.get(pk=white.pk).password == white.password  # kept under FLASK_COMPAT


def test_an_imported_flask_user_whose_username_is_an_email_logs_in(flask_users, settings) -> None:  # noqa: F811
    settings.FLASK_COMPAT = True
    import_flask_users()
    User.objects.filter(email="sam.green@uni.example").update(username="sam@old.example")
    response = login("sam.green@uni.example", "password")
    assert (response.status_code, response.json()["name"]) == (HTTPStatus.OK, "sam@old.example")


def test_a_flask_user_with_a_wrong_password_is_401_and_nobody_is_created(flask_users) -> None:  # noqa: F811
    response = login("lee@hospital.example", "Teach-Me-2025")
    assert (response.status_code, response.json()) == (HTTPStatus.UNAUTHORIZED, INVALID)
    assert not User.objects.filter(email__iexact="lee@hospital.example").exists()
