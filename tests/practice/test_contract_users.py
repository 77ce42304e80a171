"""POST /api/create_users and GET /api/all_users (SPEC-practice §4, "Auth and users")."""

from http import HTTPStatus

import pytest
from django.test import Client

from accounts.models import Role, User
from audit.models import AuditEvent
from tests.factories import UserFactory
from tests.practice.conftest import CONTRACT_ROLES
from tests.practice.contract_support import call, snapshot

pytestmark = pytest.mark.django_db

CREATED = {"message": "User created successfully"}
MISSING = {"message": "Missing fields"}
GOOD_PASSWORD = "Sphygmo-manometer-42"


def new_user(**fields) -> dict:
    return {
        "username": "mei",
        "email": "mei@school.example",
        "password": GOOD_PASSWORD,
        "role": "student",
        **fields,
    }


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("student", Role.LEARNER),
        ("learner", Role.LEARNER),
        ("admin", Role.INSTRUCTOR),
        ("instructor", Role.INSTRUCTOR),
        ("Student", Role.LEARNER),
        ("", Role.LEARNER),
        (None, Role.LEARNER),
    ],
)
@pytest.mark.parametrize("creator", [Role.INSTRUCTOR, Role.ADMIN])
def test_an_author_creates_a_practice_user(contract_client, creator, given, stored) -> None:
    client = contract_client(creator)
    response = call(client, "post", "/api/create_users", new_user(role=given))
    assert (response.status_code, response.json()) == (HTTPStatus.CREATED, CREATED)
    user = User.objects.get(username="mei")
    # An instructor is staff (the admin's practice pages); never a superuser.
    assert (user.email, user.role, user.is_superuser, user.is_staff) == (
        "mei@school.example",
        stored,
        False,
        stored == Role.INSTRUCTOR,
    )
    assert user.check_password(GOOD_PASSWORD)
    event = AuditEvent.objects.get(action="practice.user_created")
    assert (event.username, event.object_ids, event.detail) == (
        client.user.username,
        [str(user.pk)],
        {"role": stored, "self_registration": False},
    )


def test_a_created_user_logs_in_through_the_contract(contract_client) -> None:
    call(contract_client(), "post", "/api/create_users", new_user(role="admin"))
    response = call(
        Client(), "post", "/api/login", {"email": "mei@school.example", "password": GOOD_PASSWORD}
    )
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"token": response.json()["token"], "role": "admin", "name": "mei"}


@pytest.mark.parametrize(
    ("fields", "status", "answer"),
    [
        (
            {"role": "superuser"},
            400,
            {"message": "Invalid role: use learner, instructor, student or admin"},
        ),
        (
            {"role": "viewer"},
            400,
            {"message": "Invalid role: use learner, instructor, student or admin"},
        ),
        ({"username": ""}, 400, MISSING),
        ({"email": ""}, 400, MISSING),
        ({"password": ""}, 400, MISSING),
        ({"username": None}, 400, MISSING),
        ({"username": "taken"}, 409, {"message": "Username already exists"}),
        ({"username": "TAKEN"}, 409, {"message": "Username already exists"}),
        ({"email": "Taken@School.example"}, 409, {"message": "Email already exists"}),
        ({"email": "not-an-email"}, 400, {"message": "email: Enter a valid email address."}),
        (
            {"username": "has space"},
            400,
            {
                "message": "username: Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."
            },
        ),
        (
            {"password": "short"},
            400,
            {
                "message": "password: This password is too short. It must contain at least 10 characters."
            },
        ),
        (
            {"password": "1234567890123"},
            400,
            {
                "message": "password: This password is too common. This password is entirely numeric."
            },
        ),
        (
            {"password": "mei@school.example"},
            400,
            {"message": "password: The password is too similar to the email address."},
        ),
        ({"role": ["admin"]}, 400, {"message": "Invalid field: role"}),
        ({"username": "u" * 151}, 400, {"message": "Invalid field: username"}),
        ({"password": "p" * 1025}, 400, {"message": "Invalid field: password"}),
        ({"username": "x\u0000"}, 400, {"message": "The request contains a NUL byte"}),
    ],
)
def test_create_user_refusals_write_nothing(contract_client, fields, status, answer) -> None:
    UserFactory(username="taken", email="taken@school.example")
    client = contract_client(Role.INSTRUCTOR)
    before = snapshot()
    response = call(client, "post", "/api/create_users", new_user(**fields))
    assert (response.status_code, response.json()) == (status, answer)
    assert snapshot() == before
    assert not AuditEvent.objects.filter(action="practice.user_created").exists()


@pytest.mark.parametrize("missing", ["username", "email", "password"])
def test_create_user_without_a_field_is_400(contract_client, missing) -> None:
    body = new_user()
    del body[missing]
    client = contract_client()
    before = snapshot()
    response = call(client, "post", "/api/create_users", body)
    assert (response.status_code, response.json()) == (400, MISSING)
    assert snapshot() == before


def test_self_registration_is_closed_by_default() -> None:
    before = snapshot()
    response = call(Client(), "post", "/api/create_users", new_user())
    assert (response.status_code, response.json()) == (401, {"message": "Authentication required"})
    assert snapshot() == before


@pytest.mark.parametrize("role", ["admin", "instructor", "student", None])
def test_self_registration_always_creates_a_learner(settings, role) -> None:
    settings.PRACTICE_SELF_REGISTRATION = True
    response = call(Client(), "post", "/api/create_users", new_user(role=role))
    assert (response.status_code, response.json()) == (HTTPStatus.CREATED, CREATED)
    assert User.objects.get(username="mei").role == Role.LEARNER
    event = AuditEvent.objects.get(action="practice.user_created")
    assert (event.username, event.detail) == ("mei", {"role": "learner", "self_registration": True})


def test_self_registration_still_validates(settings) -> None:
    settings.PRACTICE_SELF_REGISTRATION = True
    UserFactory(username="mei")
    before = snapshot()
    response = call(Client(), "post", "/api/create_users", new_user())
    assert (response.status_code, response.json()) == (409, {"message": "Username already exists"})
    assert snapshot() == before


@pytest.mark.parametrize("role", [Role.LEARNER, Role.VIEWER, Role.ANALYST])
def test_a_token_below_instructor_is_403_even_with_self_registration(
    settings,
    contract_client,
    role,
) -> None:
    settings.PRACTICE_SELF_REGISTRATION = True
    client = contract_client(role)
    before = snapshot()
    response = call(client, "post", "/api/create_users", new_user())
    assert (response.status_code, response.json()) == (
        403,
        {"message": "Your role does not allow this action"},
    )
    assert snapshot() == before


def test_a_bad_token_is_401_even_with_self_registration(settings) -> None:
    settings.PRACTICE_SELF_REGISTRATION = True
    client = Client(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = call(client, "post", "/api/create_users", new_user())
    assert (response.status_code, response.json()) == (401, {"message": "Authentication required"})
    assert not User.objects.filter(username="mei").exists()


# ---------------------------------------------------------------- all_users
def test_all_users_lists_practice_members_by_id(contract_client) -> None:
    first = UserFactory(username="zoe", role=Role.LEARNER)
    UserFactory(username="vic", role=Role.VIEWER)
    UserFactory(username="ana", role=Role.ANALYST)
    UserFactory(username="root", role=Role.VIEWER, is_superuser=True)
    UserFactory(username="ivy", role=Role.INSTRUCTOR)
    client = contract_client(Role.INSTRUCTOR, username="teacher")
    response = client.get("/api/all_users")
    assert response.status_code == HTTPStatus.OK
    assert response.json() == ["zoe", "root", "ivy", "teacher"]
    assert first.id < User.objects.get(username="teacher").id


@pytest.mark.parametrize("role", CONTRACT_ROLES)
def test_all_users_role_matrix(contract_client, role) -> None:
    response = contract_client(role).get("/api/all_users/")
    if role in (Role.INSTRUCTOR, Role.ADMIN):
        assert response.status_code == HTTPStatus.OK
    elif role is None:
        assert (response.status_code, response.json()) == (
            401,
            {"message": "Authentication required"},
        )
    else:
        assert (response.status_code, response.json()) == (
            403,
            {"message": "Your role does not allow this action"},
        )


@pytest.mark.parametrize("role", CONTRACT_ROLES)
def test_create_users_role_matrix(contract_client, role) -> None:
    client = contract_client(role)
    before = snapshot()
    response = call(client, "post", "/api/create_users", new_user())
    if role in (Role.INSTRUCTOR, Role.ADMIN):
        assert (response.status_code, response.json()) == (201, CREATED)
        return
    expected = (
        (401, {"message": "Authentication required"})
        if role is None
        else (403, {"message": "Your role does not allow this action"})
    )
    assert (response.status_code, response.json()) == expected
    assert snapshot() == before


# ---------------------------------------------------------------- the service's own guards
def test_the_service_refuses_self_registration_when_closed() -> None:
    from core.errors import Forbidden
    from practice.authoring.services import practice_user_create

    with pytest.raises(Forbidden):
        practice_user_create(
            request=None,
            by=None,
            username="x",
            email="x@e.example",
            password=GOOD_PASSWORD,
            role=None,
        )
    assert not User.objects.filter(username="x").exists()


def test_the_service_refuses_a_creator_below_instructor() -> None:
    from core.errors import Forbidden
    from practice.authoring.services import practice_user_create

    learner = UserFactory(role=Role.LEARNER)
    with pytest.raises(Forbidden):
        practice_user_create(
            request=None,
            by=learner,
            username="x",
            email="x@e.example",
            password=GOOD_PASSWORD,
            role="student",
        )
    assert not User.objects.filter(username="x").exists()


def test_refusals_stay_english_after_a_chinese_page_on_the_same_thread(contract_client) -> None:
    # A page activates its language for the thread; a token API call that follows on the same
    # thread (here: the test's) answers in English, as it does on a fresh one.
    page = Client()
    page.force_login(UserFactory(username="docs-reader", is_staff=True))
    assert page.get("/api/v1/docs", HTTP_ACCEPT_LANGUAGE="zh-hans")["Content-Language"] == "zh-hans"
    client = contract_client(Role.INSTRUCTOR)
    before = snapshot()
    response = call(client, "post", "/api/create_users", new_user(email="not-an-email"))
    assert (response.status_code, response.json()) == (
        400,
        {"message": "email: Enter a valid email address."},
    )
    assert snapshot() == before
