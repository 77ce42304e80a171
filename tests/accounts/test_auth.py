"""Login, tokens, logout, lockout and roles."""

from datetime import timedelta
from http import HTTPStatus

import jwt
import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import AuthSession, Role
from tests.conftest import login
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"


def bearer(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def test_login_with_json_returns_tokens_and_user(make_user):
    user = make_user(Role.ANALYST, department="Radiology", phone="123")
    response = Client().post(
        LOGIN, {"username": user.username, "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert list(body) == ["access", "refresh", "token_type", "expires_in", "user"]
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 24 * 3600
    assert body["user"]["username"] == user.username
    assert body["user"]["role"] == "analyst"
    assert body["user"]["department"] == "Radiology"


def test_login_with_form_data(make_user):
    user = make_user()
    response = Client().post(LOGIN, {"username": user.username, "password": PASSWORD})
    assert response.status_code == HTTPStatus.OK
    assert response.json()["access"]


@pytest.mark.parametrize(
    ("username", "password"),
    [("nobody", "whatever-123"), ("__existing__", "wrong-password")],
)
def test_bad_credentials_give_the_same_401_whether_or_not_the_user_exists(
    make_user, username, password
):
    user = make_user()
    username = user.username if username == "__existing__" else username
    response = Client().post(
        LOGIN, {"username": username, "password": password}, content_type="application/json"
    )
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"detail": "Invalid username or password"}


@pytest.mark.parametrize(
    "body", [{}, {"username": "x"}, {"password": "y"}, {"username": "", "password": "y"}]
)
def test_login_with_missing_fields_is_422(db, body):
    response = Client().post(LOGIN, body, content_type="application/json")
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert isinstance(response.json()["detail"], list)


def test_login_with_malformed_json_is_422(db):
    response = Client().post(LOGIN, "{not json", content_type="application/json")
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"detail": "Request body is not valid JSON"}


def test_me_returns_the_profile(make_user):
    user = make_user(Role.VIEWER, first_name="Li", last_name="Na", department="CT")
    tokens = login(Client(), user.username)
    body = bearer(tokens["access"]).get(ME).json()
    assert set(body) == {
        "id",
        "username",
        "email",
        "first_name",
        "last_name",
        "department",
        "phone",
        "role",
        "last_login",
    }
    assert body["id"] == user.pk
    assert body["role"] == "viewer"
    assert body["last_login"] is not None
    assert "T" in body["last_login"] and len(body["last_login"]) == 19


def test_superuser_is_an_admin(make_user):
    user = make_user(Role.VIEWER, is_superuser=True, is_staff=True)
    tokens = login(Client(), user.username)
    assert bearer(tokens["access"]).get(ME).json()["role"] == "admin"


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer ", "Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Token abc"],
)
def test_protected_endpoint_without_a_valid_token_is_401(db, header):
    client = Client(HTTP_AUTHORIZATION=header) if header else Client()
    response = client.get("/api/v1/studies/search")
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"detail": "Not authenticated"}


def _claims(client: Client) -> dict:
    return jwt.decode(client.tokens["access"], options={"verify_signature": False})


def _forge(claims: dict, key: str, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def test_expired_token_is_401(viewer, settings):
    claims = _claims(viewer) | {"exp": int((timezone.now() - timedelta(seconds=5)).timestamp())}
    assert (
        bearer(_forge(claims, settings.JWT_SECRET_KEY)).get(ME).status_code
        == HTTPStatus.UNAUTHORIZED
    )


def test_token_signed_with_another_key_is_401(viewer):
    token = _forge(_claims(viewer), "another-key-entirely-another-key-entirely")
    assert bearer(token).get(ME).status_code == HTTPStatus.UNAUTHORIZED


def test_token_signed_with_secret_key_instead_of_jwt_key_is_401(viewer, settings):
    token = _forge(_claims(viewer), settings.SECRET_KEY)
    assert bearer(token).get(ME).status_code == HTTPStatus.UNAUTHORIZED


def test_unsigned_alg_none_token_is_401(viewer):
    token = jwt.encode(_claims(viewer), None, algorithm="none")
    assert bearer(token).get(ME).status_code == HTTPStatus.UNAUTHORIZED


def test_token_with_another_algorithm_is_401(viewer, settings):
    token = _forge(_claims(viewer), settings.JWT_SECRET_KEY, algorithm="HS512")
    assert bearer(token).get(ME).status_code == HTTPStatus.UNAUTHORIZED


def test_tampered_payload_is_401(viewer, settings, make_user):
    other = make_user(Role.ADMIN)
    header, payload, signature = viewer.tokens["access"].split(".")
    forged = jwt.encode(_claims(viewer) | {"sub": str(other.pk)}, "x" * 32).split(".")[1]
    assert bearer(f"{header}.{forged}.{signature}").get(ME).status_code == HTTPStatus.UNAUTHORIZED


def test_refresh_token_cannot_be_used_as_access_token(viewer):
    assert bearer(viewer.tokens["refresh"]).get(ME).status_code == HTTPStatus.UNAUTHORIZED


def test_refresh_rotates_and_the_old_refresh_token_is_spent(viewer):
    old = viewer.tokens["refresh"]
    response = Client().post(
        "/api/v1/auth/refresh", {"refresh": old}, content_type="application/json"
    )
    assert response.status_code == HTTPStatus.OK
    new = response.json()
    assert new["refresh"] != old
    assert bearer(new["access"]).get(ME).status_code == HTTPStatus.OK
    again = Client().post("/api/v1/auth/refresh", {"refresh": old}, content_type="application/json")
    assert again.status_code == HTTPStatus.UNAUTHORIZED
    assert again.json() == {"detail": "Invalid or expired refresh token"}
    # Presented again at once, it is a concurrent refresh (two tabs): the login lives on.
    assert bearer(new["access"]).get(ME).status_code == HTTPStatus.OK
    # After the grace window, reuse means the token was copied: the whole login ends.
    AuthSession.objects.update(rotated_at=timezone.now() - timedelta(seconds=11))
    late = Client().post("/api/v1/auth/refresh", {"refresh": old}, content_type="application/json")
    assert late.status_code == HTTPStatus.UNAUTHORIZED
    assert bearer(new["access"]).get(ME).status_code == HTTPStatus.UNAUTHORIZED


def test_refresh_with_an_access_token_is_401(viewer):
    response = Client().post(
        "/api/v1/auth/refresh",
        {"refresh": viewer.tokens["access"]},
        content_type="application/json",
    )
    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_logout_ends_both_access_and_refresh_tokens(viewer):
    response = viewer.post(
        "/api/v1/auth/logout",
        {"refresh": viewer.tokens["refresh"]},
        content_type="application/json",
    )
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"detail": "Logged out"}
    assert viewer.get(ME).status_code == HTTPStatus.UNAUTHORIZED
    refresh = Client().post(
        "/api/v1/auth/refresh",
        {"refresh": viewer.tokens["refresh"]},
        content_type="application/json",
    )
    assert refresh.status_code == HTTPStatus.UNAUTHORIZED


def test_logout_without_body_still_ends_the_login(viewer):
    assert viewer.post("/api/v1/auth/logout").status_code == HTTPStatus.OK
    assert viewer.get(ME).status_code == HTTPStatus.UNAUTHORIZED
    refresh = Client().post(
        "/api/v1/auth/refresh",
        {"refresh": viewer.tokens["refresh"]},
        content_type="application/json",
    )
    assert refresh.status_code == HTTPStatus.UNAUTHORIZED


def test_logout_leaves_other_logins_of_the_same_user_alone(make_user):
    user = make_user()
    first, second = login(Client(), user.username), login(Client(), user.username)
    bearer(first["access"]).post("/api/v1/auth/logout")
    assert bearer(second["access"]).get(ME).status_code == HTTPStatus.OK


def test_deactivated_user_is_refused_on_the_next_request(viewer):
    viewer.user.is_active = False
    viewer.user.save()
    assert viewer.get(ME).status_code == HTTPStatus.UNAUTHORIZED


def test_lockout_after_repeated_failures_then_429_even_with_the_right_password(make_user, settings):
    settings.LOGIN_MAX_FAILURES = 3
    user = make_user()
    client = Client()
    for _ in range(3):
        bad = client.post(
            LOGIN, {"username": user.username, "password": "wrong"}, content_type="application/json"
        )
        assert bad.status_code == HTTPStatus.UNAUTHORIZED
    locked = client.post(
        LOGIN, {"username": user.username, "password": PASSWORD}, content_type="application/json"
    )
    assert locked.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert locked.json()["detail"].startswith("Too many failed login attempts")
    assert int(locked["Retry-After"]) > 0


def test_lockout_does_not_lock_out_colleagues_behind_the_same_address(make_user, settings):
    settings.LOGIN_MAX_FAILURES = 2
    clumsy, colleague = make_user(), make_user()
    for _ in range(2):
        Client().post(
            LOGIN,
            {"username": clumsy.username, "password": "wrong"},
            content_type="application/json",
        )
    ok = Client().post(
        LOGIN,
        {"username": colleague.username, "password": PASSWORD},
        content_type="application/json",
    )
    assert ok.status_code == HTTPStatus.OK


def test_lockout_is_per_address(make_user, settings):
    settings.LOGIN_MAX_FAILURES = 2
    user = make_user()
    for _ in range(2):
        Client(REMOTE_ADDR="10.0.0.1").post(
            LOGIN, {"username": user.username, "password": "x"}, content_type="application/json"
        )
    elsewhere = Client(REMOTE_ADDR="10.0.0.2").post(
        LOGIN, {"username": user.username, "password": PASSWORD}, content_type="application/json"
    )
    assert elsewhere.status_code == HTTPStatus.OK


def test_lockout_ends_after_the_cool_off(make_user, settings):
    from accounts.models import LoginFailure

    settings.LOGIN_MAX_FAILURES = 2
    user = make_user()
    for _ in range(2):
        Client().post(
            LOGIN, {"username": user.username, "password": "x"}, content_type="application/json"
        )
    LoginFailure.objects.update(
        failed_at=timezone.now() - timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES + 1)
    )
    ok = Client().post(
        LOGIN, {"username": user.username, "password": PASSWORD}, content_type="application/json"
    )
    assert ok.status_code == HTTPStatus.OK


def test_successful_login_clears_earlier_failures(make_user, settings):
    settings.LOGIN_MAX_FAILURES = 2
    user = make_user()
    client = Client()
    client.post(
        LOGIN, {"username": user.username, "password": "x"}, content_type="application/json"
    )
    login(client, user.username)
    client.post(
        LOGIN, {"username": user.username, "password": "x"}, content_type="application/json"
    )
    assert (
        client.post(
            LOGIN,
            {"username": user.username, "password": PASSWORD},
            content_type="application/json",
        ).status_code
        == 200
    )


def test_jwt_lifetime_comes_from_settings(make_user, settings):
    settings.JWT_EXPIRATION_HOURS = 2
    user = make_user()
    tokens = login(Client(), user.username)
    claims = jwt.decode(tokens["access"], options={"verify_signature": False})
    assert tokens["expires_in"] == 7200
    assert claims["exp"] - claims["iat"] == 7200
