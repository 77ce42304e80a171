"""The OpenAPI schema tells the whole truth about answers, and inputs mean what they say.

Schemathesis (bench/reliability/live.py) checks every answer of the live server against the
schema; these pin what it found missing.
"""

from http import HTTPStatus

import pytest

from accounts.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(world) -> dict:
    return world.client(Role.VIEWER).get("/api/v1/openapi.json").json()


def test_every_operation_declares_its_error_answers(schema):
    missing = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            declared = set(operation["responses"])
            needed = set()
            if operation.get("security"):
                needed |= {"401", "403"}
            if "{" in path:
                needed.add("404")
            if operation.get("parameters") or "requestBody" in operation:
                needed.add("422")
            if not needed <= declared:
                missing.append((method, path, sorted(needed - declared)))
    assert missing == []
    login = schema["paths"]["/api/v1/auth/login"]["post"]["responses"]
    assert {"401", "429"} <= set(login)
    upload = schema["paths"]["/api/v1/import/studies"]["post"]["responses"]
    assert {"409", "413", "415", "422"} <= set(upload)


@pytest.mark.parametrize("value", ["0", "1700000000", "2025-11-06T10:30:00", "06/11/2025"])
@pytest.mark.parametrize("path", ["/api/v1/studies/search", "/api/v1/reports/search"])
def test_a_date_filter_that_is_not_yyyy_mm_dd_is_422(world, path, value):
    response = world.client(Role.VIEWER).get(path, {"date_to": value})
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY


def test_a_yyyy_mm_dd_date_filter_is_accepted(world):
    response = world.client(Role.VIEWER).get("/api/v1/studies/search", {"date_from": "2025-11-06"})
    assert response.status_code == HTTPStatus.OK
