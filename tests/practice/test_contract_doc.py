"""docs/api/PRACTICE_CONTRACT.md stays true: every authoring and user operation has a section,
the JSON examples have the keys the API returns; the contract's OpenAPI docs are served."""

import json
import re
from http import HTTPStatus
from pathlib import Path

import pytest
from django.test import Client

from accounts.models import Role
from practice.models import Activity, ActivityCategory, Category, RubricQuestion, Scenario, Tag
from practice.models import SubCategory as Criterion
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[2] / "docs" / "api" / "PRACTICE_CONTRACT.md"
# The routers this document covers (threads, runs and assessment are documented elsewhere).
TAGS = {"users", "scenarios", "rubrics", "activities"}


def _examples() -> list[object]:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    return [json.loads(block) for block in blocks]


def _keys(value: object) -> object:
    if isinstance(value, dict):
        return {k: _keys(v) for k, v in value.items() if k != "case"}
    if isinstance(value, list):
        return [_keys(value[0])] if value and isinstance(value[0], dict | list) else []
    return None


def _short(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{id}", path)


def test_every_operation_has_a_section(contract_client) -> None:
    schema = contract_client(Role.LEARNER).get("/api/openapi.json").json()
    text = DOC.read_text(encoding="utf-8")
    missing = [
        f"{method.upper()} {_short(path)}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if TAGS & set(operation.get("tags", []))
        and f"`{method.upper()} {_short(path)}`" not in text
    ]
    assert missing == []
    covered = {tag for ops in schema["paths"].values() for op in ops.values() for tag in op["tags"]}
    assert covered >= TAGS


def test_examples_have_the_keys_the_api_returns(contract_client) -> None:
    scenario = Scenario.objects.create(scenario_text="s", case=None)
    Tag.objects.create(scenario=scenario, tag="t")
    RubricQuestion.objects.create(scenario=scenario, question="q")
    category = Category.objects.create(name="c", total_required_to_pass=1)
    Criterion.objects.create(category=category, name="n", marking_instructions="m")
    activity = Activity.objects.create(pre_brief="p", character=scenario)
    ActivityCategory.objects.create(activity=activity, category=category)
    client = contract_client(Role.INSTRUCTOR, email="teacher@school.example")
    login = Client().post(
        "/api/login",
        {"email": "teacher@school.example", "password": PASSWORD},
        content_type="application/json",
    )
    live = {
        "login": login.json(),
        "scenarios": client.get("/api/scenarios").json(),
        "scenarios with case": client.get("/api/scenarios?include=case").json(),
        "rubric questions": client.get(f"/api/scenarios/{scenario.id}/rubric_questions").json(),
        "categories": client.get("/api/categories").json(),
        "criteria": client.get(f"/api/categories/{category.id}/rubrics").json(),
        "activities": client.get("/api/activities").json(),
    }
    documented = [_keys(example) for example in _examples()]
    for name, body in live.items():
        assert _keys(body) in documented, name


def test_openapi_and_docs_are_for_signed_in_users(contract_client) -> None:
    anonymous = Client()
    response = anonymous.get("/api/openapi.json")
    assert (response.status_code, response.json()) == (
        HTTPStatus.UNAUTHORIZED,
        {"message": "Authentication required"},
    )
    # A person opening the docs page signed out is sent to the sign-in page (issue 20).
    response = anonymous.get("/api/docs")
    assert (response.status_code, response["Location"]) == (
        HTTPStatus.FOUND,
        "/login/?next=/api/docs",
    )
    client = contract_client(Role.LEARNER)
    assert client.get("/api/docs").status_code == HTTPStatus.OK
    schema = client.get("/api/openapi.json").json()
    assert schema["info"]["title"] == "Communication practice API (Flask contract)"
    login = schema["paths"]["/api/login"]["post"]
    assert set(login["responses"]) == {"200", "400", "401", "429"}
