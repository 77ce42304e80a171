"""Every operation of the live OpenAPI schema × every role (anonymous, the imaging roles, the
practice roles).

Figure: operations × roles; unexpected 2xx = 0 and every cell answers its expected status.
Every answer also carries the headers patient data needs (HSTS over HTTPS, nosniff, no-store,
the Content-Security-Policy).
"""

from http import HTTPStatus

import pytest

from accounts.models import Role, User
from analysis.models import AnalysisTask
from bench.reliability.policy import MINIMUM_ROLE, ROLES, Verdict, expected_status, operations

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(world) -> dict:
    response = world.client(Role.VIEWER).get("/api/v1/openapi.json")
    assert response.status_code == HTTPStatus.OK
    return response.json()


def test_every_operation_in_the_schema_is_classified(schema):
    assert set(operations(schema)) == set(MINIMUM_ROLE)


def test_every_role_gets_exactly_what_it_may_on_every_operation(schema, call, settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    verdicts, missing_headers = [], []
    for method, path in operations(schema):
        for role in ROLES:
            response = call(method, path, role, secure=True)
            verdicts.append(
                Verdict(
                    method,
                    path,
                    role,
                    expected_status(MINIMUM_ROLE[(method, path)], role),
                    response.status_code,
                )  # fmt: skip
            )
            headers = {
                "Strict-Transport-Security": response.get("Strict-Transport-Security", ""),
                "X-Content-Type-Options": response.get("X-Content-Type-Options", ""),
                "Cache-Control": response.get("Cache-Control", ""),
                "Content-Security-Policy": response.get("Content-Security-Policy", ""),
            }
            if (
                not headers["Strict-Transport-Security"].startswith("max-age=31536000")
                or headers["X-Content-Type-Options"] != "nosniff"
                or "no-store" not in headers["Cache-Control"]
                or "script-src 'self'" not in headers["Content-Security-Policy"]
            ):
                missing_headers.append((method, path, role, headers))
    assert len(verdicts) == len(MINIMUM_ROLE) * len(ROLES)
    assert [v for v in verdicts if v.unexpected_success] == []
    assert [v for v in verdicts if not v.ok] == []
    assert missing_headers == []


def test_api_documentation_is_refused_to_anonymous_callers(db):
    from django.test import Client

    # The schema (read by programs) is a 401; the docs page sends a person to the sign-in page.
    assert Client().get("/api/v1/openapi.json").status_code == HTTPStatus.UNAUTHORIZED
    docs = Client().get("/api/v1/docs")
    assert (docs.status_code, docs["Location"]) == (HTTPStatus.FOUND, "/login/?next=/api/v1/docs")


def test_privilege_fields_in_a_login_body_are_ignored(world, call):
    response = call("POST", "/api/v1/auth/login", Role.VIEWER)
    assert response.status_code == HTTPStatus.OK
    assert response.json()["user"]["role"] == "viewer"
    viewer = User.objects.get(pk=world.users[Role.VIEWER].pk)
    assert (viewer.role, viewer.is_staff, viewer.is_superuser) == ("viewer", False, False)


def test_privilege_fields_in_a_task_body_are_ignored(world, call):
    response = call("POST", "/api/v1/analysis/tasks", Role.ANALYST)
    assert response.status_code == HTTPStatus.CREATED
    task = AnalysisTask.objects.get(task_id=response.json()["task_id"])
    assert response.json()["task_id"] != "1"
    assert task.created_by == world.users[Role.ANALYST]
    analyst = User.objects.get(pk=world.users[Role.ANALYST].pk)
    assert (analyst.role, analyst.is_staff, analyst.is_superuser) == ("analyst", False, False)


def test_privilege_fields_in_an_import_form_are_ignored(world, call):
    assert call("POST", "/api/v1/import/studies", Role.ADMIN).status_code == HTTPStatus.OK
    admin = User.objects.get(pk=world.users[Role.ADMIN].pk)
    assert (admin.is_staff, admin.is_superuser) == (False, False)


def test_privilege_fields_in_a_query_string_do_not_elevate(world):
    client = world.client(Role.VIEWER)
    response = client.get("/api/v1/import/batches", {"role": "admin", "is_staff": "true"})
    assert response.status_code == HTTPStatus.FORBIDDEN
