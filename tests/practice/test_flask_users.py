"""Flask passwords and logins by email (SPEC-practice §3), on the product's test database.

The Flask ``user`` table is not the product's: these tests create it in the test transaction,
with the DDL of the checked-in Flask dump. The whole adoption of a Flask database is in
test_flask_adoption.py.
"""

from http import HTTPStatus
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import connection
from django.test import Client, RequestFactory

from accounts import services
from accounts.models import AuthSession, Role, User
from audit.models import AuditEvent
from core.errors import NotAuthenticated
from practice.flask_users import (
    flask_hash,
    import_flask_users,
    practice_role,
    unique_username,
    verify_flask_password,
)
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

VECTOR = "$pbkdf2-sha256$29000$MDEyMzQ1Njc4OWFiY2RlZg$G/O7bynZBig0xpI9OJ2.zH5iXh/vIAuDcj9JVCTUa3k"
LEE_HASH = flask_hash(
    "Teach-Me-2024", salt=b"\x13\x82a\xfe\x00\x9bq\x0e\xc4\x1b\xd2\x88\x10~\x01\xff"
)

USER_DDL = {
    "sqlite": """CREATE TABLE user (id INTEGER NOT NULL, username VARCHAR(80) NOT NULL,
        email VARCHAR(120) NOT NULL, password VARCHAR(255) NOT NULL, role VARCHAR(20),
        PRIMARY KEY (id), UNIQUE (email))""",
    "postgresql": """CREATE TABLE "user" (id SERIAL NOT NULL, username VARCHAR(80) NOT NULL,
        email VARCHAR(120) NOT NULL, password VARCHAR(255) NOT NULL, role VARCHAR(20),
        PRIMARY KEY (id), UNIQUE (email))""",
}


@pytest.fixture
def flask_users(db):
    """The Flask ``user`` table with some rows, as the Flask service left it."""
    rows = [
        (1, "drlee", "Lee@Hospital.example", LEE_HASH, "admin"),
        (2, "sam", "sam.green@uni.example", VECTOR, "student"),
        (3, "sam", "sam.white@uni.example", flask_hash("student-pass-1", salt=b"s" * 16), None),
    ]
    with connection.cursor() as cursor:
        cursor.execute(USER_DDL[connection.vendor])
        for row in rows:
            cursor.execute(
                'INSERT INTO "user" (id, username, email, password, role) '
                "VALUES (%s, %s, %s, %s, %s)",
                row,
            )
    return rows


def flask_row(user_id: int) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(
            'SELECT username, email, password, role FROM "user" WHERE id = %s', [user_id]
        )
        return cursor.fetchone()


def api_login(username: str, password: str) -> tuple[int, dict]:
    response = Client().post(
        "/api/v1/auth/login",
        {"username": username, "password": password},
        content_type="application/json",
    )
    return response.status_code, response.json()


# ---------------------------------------------------------------- the verifier


def test_the_passlib_test_vector_verifies():
    assert flask_hash("password", salt=b"0123456789abcdef", rounds=29000) == VECTOR
    assert verify_flask_password("password", VECTOR) is True


@pytest.mark.parametrize(
    "password",
    ["Password", "password ", "", "passwordpassword"],
)
def test_a_wrong_password_does_not_verify(password):
    assert verify_flask_password(password, VECTOR) is False


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "pbkdf2_sha256$29000$salt$hash",  # Django's own format is not Flask's
        "$pbkdf2-sha256$29000$MDEyMzQ1Njc4OWFiY2RlZg",  # no digest
        "$pbkdf2-sha256$abc$MDEyMzQ1Njc4OWFiY2RlZg$G/O7bynZBig0xpI9OJ2.zH5iXh/vIAuDcj9JVCTUa3k",
        "$pbkdf2-sha256$0$MDEyMzQ1Njc4OWFiY2RlZg$G/O7bynZBig0xpI9OJ2.zH5iXh/vIAuDcj9JVCTUa3k",
        "$pbkdf2-sha256$29000$MDEy!!!$G/O7bynZBig0xpI9OJ2.zH5iXh/vIAuDcj9JVCTUa3k",
        "$pbkdf2-sha256$29000$MDEyMzQ1Njc4OWFiY2RlZg$G/O7bynZBig0xpI9",  # a truncated digest
        "$pbkdf2-sha1$29000$MDEyMzQ1Njc4OWFiY2RlZg$G/O7bynZBig0xpI9OJ2.zH5iXh/vIAuDcj9JVCTUa3k",
        VECTOR + "$extra",
    ],
)
def test_a_malformed_hash_never_verifies(encoded):
    assert verify_flask_password("password", encoded) is False


def test_passlib_base64_uses_a_dot_for_plus():
    # This salt and password give a digest with "+" in standard base64.
    assert "." in LEE_HASH.rsplit("$", 1)[1]
    assert verify_flask_password("Teach-Me-2024", LEE_HASH) is True


def test_roles_map_admin_to_instructor_and_the_rest_to_learner():
    assert [practice_role(r) for r in ("admin", "Admin ", "student", "", None, "teacher")] == [
        Role.INSTRUCTOR,
        Role.INSTRUCTOR,
        Role.LEARNER,
        Role.LEARNER,
        Role.LEARNER,
        Role.LEARNER,
    ]


def test_usernames_are_made_unique():
    UserFactory(username="sam")
    UserFactory(username="sam-2")
    assert unique_username("sam", email="x@y.example") == "sam-3"
    assert unique_username("SAM", email="x@y.example") == "SAM-3"
    assert unique_username("", email="kim@y.example") == "kim"
    assert unique_username("z" * 200, email="x@y.example") == "z" * 150


# ---------------------------------------------------------------- logins by email


def test_a_product_user_logs_in_by_email_in_any_case():
    user = UserFactory(username="lin", email="Lin.Wei@Hospital.example", role=Role.LEARNER)
    status, body = api_login("lin.wei@HOSPITAL.example", PASSWORD)
    assert status == HTTPStatus.OK
    assert body["user"]["username"] == "lin"
    assert body["user"]["role"] == "learner"
    status, body = api_login("lin.wei@hospital.example", "wrong-password-1")
    assert (status, body) == (HTTPStatus.UNAUTHORIZED, {"detail": "Invalid username or password"})
    assert User.objects.get(pk=user.pk).password.startswith("md5$")


def test_an_inactive_user_cannot_log_in_by_email():
    UserFactory(username="gone", email="gone@hospital.example", is_active=False)
    assert api_login("gone@hospital.example", PASSWORD)[0] == HTTPStatus.UNAUTHORIZED


def test_a_flask_user_logs_in_by_email_before_the_import(flask_users, settings):
    settings.FLASK_COMPAT = True
    status, body = api_login("lee@hospital.EXAMPLE", "Teach-Me-2024")
    assert status == HTTPStatus.OK
    assert body["user"] | {"id": 0, "last_login": None} == {
        "id": 0,
        "username": "drlee",
        "email": "Lee@Hospital.example",
        "first_name": "",
        "last_name": "",
        "department": "",
        "phone": "",
        "role": "instructor",
        "last_login": None,
    }
    user = User.objects.get(email="Lee@Hospital.example")
    assert (user.role, user.is_staff, user.is_superuser) == (Role.INSTRUCTOR, True, False)
    # The Flask hash is stored as it is, and the Flask row is untouched.
    assert user.password == LEE_HASH
    assert flask_row(1) == ("drlee", "Lee@Hospital.example", LEE_HASH, "admin")
    assert AuditEvent.objects.filter(action="practice.flask_user_adopted").count() == 1
    # The second login finds the product user the first one created.
    assert api_login("Lee@Hospital.example", "Teach-Me-2024")[0] == HTTPStatus.OK
    assert User.objects.filter(email__iexact="lee@hospital.example").count() == 1
    assert User.objects.get(pk=user.pk).password == LEE_HASH


def test_a_wrong_password_of_a_flask_user_creates_nobody(flask_users):
    status, body = api_login("lee@hospital.example", "Teach-Me-2025")
    assert (status, body) == (HTTPStatus.UNAUTHORIZED, {"detail": "Invalid username or password"})
    assert not User.objects.filter(email__iexact="lee@hospital.example").exists()


def test_an_unknown_email_is_refused_like_a_wrong_password(flask_users):
    status, body = api_login("nobody@hospital.example", "Teach-Me-2024")
    assert (status, body) == (HTTPStatus.UNAUTHORIZED, {"detail": "Invalid username or password"})


def test_without_a_flask_table_an_unknown_email_is_refused(db):
    assert api_login("lee@hospital.example", "Teach-Me-2024")[0] == HTTPStatus.UNAUTHORIZED


def test_a_flask_hash_is_kept_while_flask_compat_is_on(flask_users, settings):
    settings.FLASK_COMPAT = True
    import_flask_users()
    for _ in range(2):
        assert api_login("sam.green@uni.example", "password")[0] == HTTPStatus.OK
    assert User.objects.get(email="sam.green@uni.example").password == VECTOR


def test_a_flask_hash_is_upgraded_after_flask_compat_and_no_login_ends(flask_users, settings):
    settings.FLASK_COMPAT = True
    import_flask_users()
    status, first = api_login("sam.green@uni.example", "password")
    assert status == HTTPStatus.OK
    settings.FLASK_COMPAT = False
    status, _second = api_login("sam.green@uni.example", "password")
    assert status == HTTPStatus.OK
    user = User.objects.get(email="sam.green@uni.example")
    assert user.password.startswith("md5$")  # the test settings' hasher: Django's, not Flask's
    assert user.check_password("password")
    # The upgrade is not a password change: the login made before it still works.
    me = Client(HTTP_AUTHORIZATION=f"Bearer {first['access']}").get("/api/v1/auth/me")
    assert me.status_code == HTTPStatus.OK
    assert AuthSession.objects.filter(user=user, revoked_at__isnull=True).count() == 2
    # After the upgrade Django's hash answers, by email and by username alike.
    assert api_login("sam.green@uni.example", "password")[0] == HTTPStatus.OK
    assert api_login(user.username, "password")[0] == HTTPStatus.OK
    assert api_login("sam.green@uni.example", "Password")[0] == HTTPStatus.UNAUTHORIZED
    # The Flask row is never written.
    assert flask_row(2)[2] == VECTOR


def test_a_first_login_after_flask_compat_upgrades_at_once(flask_users, settings):
    settings.FLASK_COMPAT = False
    assert api_login("sam.white@uni.example", "student-pass-1")[0] == HTTPStatus.OK
    user = User.objects.get(email="sam.white@uni.example")
    assert user.password.startswith("md5$")
    assert user.role == Role.LEARNER


def test_an_imported_user_logs_in_by_username_with_the_flask_hash(flask_users, settings):
    settings.FLASK_COMPAT = True
    import_flask_users()
    assert api_login("drlee", "Teach-Me-2024")[0] == HTTPStatus.OK
    assert api_login("drlee", "wrong-password-9")[0] == HTTPStatus.UNAUTHORIZED


def test_the_backend_answers_the_login_service_with_the_email_as_username(flask_users):
    request = RequestFactory().post("/api/v1/auth/login")
    pair = services.login(request=request, username="SAM.GREEN@uni.example", password="password")
    assert pair.user.email == "sam.green@uni.example"
    with pytest.raises(NotAuthenticated):
        services.login(request=request, username="sam.green@uni.example", password="nope")
    assert authenticate(None, username="sam.green@uni.example", password=None) is None


def test_failed_flask_logins_count_towards_the_lockout(flask_users, settings):
    settings.LOGIN_MAX_FAILURES = 2
    for _ in range(2):
        assert api_login("sam.green@uni.example", "bad-password-1")[0] == HTTPStatus.UNAUTHORIZED
    assert api_login("sam.green@uni.example", "password")[0] == HTTPStatus.TOO_MANY_REQUESTS
    assert not User.objects.filter(email="sam.green@uni.example").exists()


# ---------------------------------------------------------------- import_flask_users


def test_the_import_creates_users_with_mapped_roles_and_unique_usernames(flask_users):
    out = StringIO()
    call_command("import_flask_users", stdout=out)
    users = {
        u.email: (u.username, u.role, u.is_staff, u.password)
        for u in User.objects.filter(email__in=[r[2] for r in flask_users])
    }
    assert users == {
        "Lee@Hospital.example": ("drlee", Role.INSTRUCTOR, True, LEE_HASH),
        "sam.green@uni.example": ("sam", Role.LEARNER, False, VECTOR),
        "sam.white@uni.example": ("sam-2", Role.LEARNER, False, flask_users[2][3]),
    }
    assert out.getvalue().splitlines() == [
        "created Lee@Hospital.example as drlee (instructor)",
        "created sam.green@uni.example as sam (learner)",
        "created sam.white@uni.example as sam-2 (learner)",
        "Flask users: 3; created 3 (1 renamed), already present 0, skipped 0",
    ]
    event = AuditEvent.objects.get(action="practice.import_flask_users")
    assert (event.result_count, event.object_ids) == (3, ["drlee", "sam", "sam-2"])


def test_the_import_is_idempotent_and_keeps_existing_users(flask_users):
    existing = UserFactory(username="sam", email="SAM.GREEN@uni.example", role=Role.INSTRUCTOR)
    call_command("import_flask_users", stdout=StringIO())
    out = StringIO()
    call_command("import_flask_users", stdout=out)
    assert out.getvalue().splitlines() == [
        "Flask users: 3; created 0 (0 renamed), already present 3, skipped 0"
    ]
    existing.refresh_from_db()
    assert (existing.username, existing.role, existing.password.startswith("md5$")) == (
        "sam",
        Role.INSTRUCTOR,
        True,
    )
    assert User.objects.get(email="sam.white@uni.example").username == "sam-2"
    assert User.objects.filter(email__iexact="sam.green@uni.example").count() == 1


def test_the_import_without_a_flask_table_says_so(db):
    out = StringIO()
    call_command("import_flask_users", stdout=out)
    assert out.getvalue().splitlines() == ['No Flask "user" table in this database: nothing to do']
    assert not AuditEvent.objects.filter(action="practice.import_flask_users").exists()


# ---------------------------------------------------------------- the contract's /api/login


def contract_login(email: str, password: str) -> tuple[int, dict]:
    response = Client().post(
        "/api/login", {"email": email, "password": password}, content_type="application/json"
    )
    return response.status_code, response.json()


def test_a_flask_user_logs_in_through_the_contract_before_and_after_the_import(
    flask_users, settings
):
    settings.FLASK_COMPAT = True
    status, body = contract_login("SAM.GREEN@uni.example", "password")
    assert (status, body | {"token": ""}) == (
        HTTPStatus.OK,
        {"token": "", "role": "student", "name": "sam"},
    )
    import_flask_users()
    status, body = contract_login("lee@hospital.example", "Teach-Me-2024")
    assert (status, body | {"token": ""}) == (
        HTTPStatus.OK,
        {"token": "", "role": "admin", "name": "drlee"},
    )
    assert contract_login("lee@hospital.example", "Teach-Me-2025") == (
        HTTPStatus.UNAUTHORIZED,
        {"message": "Invalid username or password"},
    )
    assert User.objects.get(username="drlee").password == LEE_HASH
    settings.FLASK_COMPAT = False
    assert contract_login("lee@hospital.example", "Teach-Me-2024")[0] == HTTPStatus.OK
    assert User.objects.get(username="drlee").password.startswith("md5$")


def test_a_flask_user_signs_in_to_the_web_ui_by_email(flask_users):
    client = Client()
    response = client.post("/login/", {"username": "Sam.Green@uni.example", "password": "password"})
    assert response.status_code == HTTPStatus.FOUND
    # The session holds the adopted user; a learner has no imaging page to see.
    assert client.get("/studies/").status_code == HTTPStatus.FORBIDDEN
    assert User.objects.get(email="sam.green@uni.example").role == Role.LEARNER


def test_a_flask_row_without_an_email_is_skipped_by_the_import(flask_users):
    with connection.cursor() as cursor:
        cursor.execute(
            'INSERT INTO "user" (id, username, email, password, role) VALUES (%s, %s, %s, %s, %s)',
            [9, "ghost", "not-an-email", VECTOR, "student"],
        )
    out = StringIO()
    call_command("import_flask_users", stdout=out)
    assert out.getvalue().splitlines()[-2:] == [
        "skipped 'not-an-email': not an email address",
        "Flask users: 4; created 3 (1 renamed), already present 0, skipped 1",
    ]
    assert not User.objects.filter(username="ghost").exists()


def test_a_username_with_a_django_hash_is_left_to_the_model_backend():
    UserFactory(username="lin", email="lin@hospital.example")
    assert api_login("lin", "wrong-password-1")[0] == HTTPStatus.UNAUTHORIZED
    assert api_login("lin", PASSWORD)[0] == HTTPStatus.OK


def test_an_outdated_django_hash_is_upgraded_by_an_email_login_without_ending_logins(settings):
    user = UserFactory(username="lin", email="lin@hospital.example")  # MD5 (the test hasher)
    status, first = api_login("lin@hospital.example", PASSWORD)
    assert status == HTTPStatus.OK
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    assert api_login("lin@hospital.example", PASSWORD)[0] == HTTPStatus.OK
    assert User.objects.get(pk=user.pk).password.startswith("pbkdf2_sha256$")
    me = Client(HTTP_AUTHORIZATION=f"Bearer {first['access']}").get("/api/v1/auth/me")
    assert me.status_code == HTTPStatus.OK
