"""Activities through HTTP (SPEC-practice §4)."""

from http import HTTPStatus

import pytest

from accounts.models import Role
from audit.models import AuditEvent
from practice.models import Activity, ActivityCategory, Assessment, Category, Conversation, Scenario
from tests.practice.conftest import CONTRACT_ROLES
from tests.practice.contract_support import call, snapshot

pytestmark = pytest.mark.django_db

MISSING = {"message": "Missing fields"}


def activity(character: Scenario, categories=(), pre_brief: str = "You are the GP.") -> Activity:
    made = Activity.objects.create(pre_brief=pre_brief, character=character)
    for c in categories:
        ActivityCategory.objects.create(activity=made, category=c)
    return made


@pytest.fixture
def world() -> dict:
    return {
        "on": Scenario.objects.create(scenario_text="enabled"),
        "off": Scenario.objects.create(scenario_text="disabled", enable=False),
        "c1": Category.objects.create(name="One", total_required_to_pass=1),
        "c2": Category.objects.create(name="Two", total_required_to_pass=1),
        "c3": Category.objects.create(name="Three", total_required_to_pass=1),
    }


def test_activity_list_whole_body_in_id_order(contract_client, world) -> None:
    first = activity(world["on"], [world["c3"], world["c1"]], "Brief A")
    second = activity(world["off"], [], "Brief B")
    response = contract_client(Role.INSTRUCTOR).get("/api/activities")
    assert response.status_code == HTTPStatus.OK
    assert response.json() == [
        {
            "id": first.id,
            "pre_brief": "Brief A",
            "character_id": world["on"].id,
            "categories": [world["c1"].id, world["c3"].id],
        },
        {
            "id": second.id,
            "pre_brief": "Brief B",
            "character_id": world["off"].id,
            "categories": [],
        },
    ]


def test_a_learner_does_not_see_activities_of_disabled_scenarios(contract_client, world) -> None:
    shown = activity(world["on"], [world["c2"]])
    activity(world["off"], [world["c1"]])
    response = contract_client(Role.LEARNER).get("/api/activities/")
    assert response.json() == [
        {
            "id": shown.id,
            "pre_brief": "You are the GP.",
            "character_id": world["on"].id,
            "categories": [world["c2"].id],
        }
    ]


def test_activity_list_takes_constant_queries(
    contract_client, world, django_assert_max_num_queries
) -> None:
    for _ in range(5):
        activity(world["on"], [world["c1"], world["c2"]])
    client = contract_client(Role.LEARNER)
    with django_assert_max_num_queries(6):
        assert len(client.get("/api/activities").json()) == 5


@pytest.mark.parametrize("empty_id", [{}, {"id": None}, {"id": ""}])
def test_activity_save_without_id_creates(contract_client, world, empty_id) -> None:
    body = {
        "pre_brief": "Take a history.",
        "character_id": world["on"].id,
        "categories": [world["c2"].id, world["c1"].id, world["c2"].id],
        **empty_id,
    }
    client = contract_client()
    response = call(client, "post", "/api/activities", body)
    created = Activity.objects.get()
    assert (response.status_code, response.json()) == (
        200,
        {"message": "Activity saved", "id": created.id},
    )
    assert client.get("/api/activities").json() == [
        {
            "id": created.id,
            "pre_brief": "Take a history.",
            "character_id": world["on"].id,
            "categories": [world["c1"].id, world["c2"].id],
        }
    ]
    event = AuditEvent.objects.get(action="practice.activity_created")
    assert event.detail == {
        "character_id": world["on"].id,
        "categories": [world["c1"].id, world["c2"].id],
    }


def test_activity_save_with_id_updates_and_replaces_categories(contract_client, world) -> None:
    made = activity(world["on"], [world["c1"], world["c2"]])
    body = {
        "id": made.id,
        "pre_brief": "New",
        "character_id": world["off"].id,
        "categories": [world["c2"].id, world["c3"].id],
    }
    response = call(contract_client(Role.ADMIN), "post", "/api/activities", body)
    assert (response.status_code, response.json()) == (
        200,
        {"message": "Activity saved", "id": made.id},
    )
    made.refresh_from_db()
    assert (made.pre_brief, made.character_id) == ("New", world["off"].id)
    links = ActivityCategory.objects.filter(activity=made).order_by("category_id")
    assert [link.category_id for link in links] == [world["c2"].id, world["c3"].id]
    call(contract_client(), "post", "/api/activities", {**body, "categories": []})
    assert not ActivityCategory.objects.exists()


@pytest.mark.parametrize(
    ("fields", "status", "answer"),
    [
        ({"pre_brief": ""}, 400, MISSING),
        ({"pre_brief": None}, 400, MISSING),
        ({"character_id": ""}, 400, MISSING),
        ({"categories": None}, 400, {"message": "Invalid field: categories"}),
        ({"categories": ["x"]}, 400, {"message": "Invalid field: categories.0"}),
        ({"character_id": 999}, 404, {"message": "Character not found"}),
        ({"categories": [999]}, 404, {"message": "Category not found"}),
        ({"id": 999}, 404, {"message": "Activity not found"}),
        ({"pre_brief": "\u0000"}, 400, {"message": "The request contains a NUL byte"}),
    ],
)
def test_activity_save_refusals_write_nothing(
    contract_client, world, fields, status, answer
) -> None:
    made = activity(world["on"], [world["c1"]])
    body = {
        "id": made.id,
        "pre_brief": "p",
        "character_id": world["on"].id,
        "categories": [world["c2"].id],
        **fields,
    }
    client = contract_client()
    before = snapshot()
    response = call(client, "post", "/api/activities", body)
    assert (response.status_code, response.json()) == (status, answer)
    assert snapshot() == before


@pytest.mark.parametrize("missing", ["pre_brief", "character_id", "categories"])
def test_activity_save_without_a_field_is_400(contract_client, world, missing) -> None:
    body = {"pre_brief": "p", "character_id": world["on"].id, "categories": []}
    del body[missing]
    client = contract_client()
    before = snapshot()
    response = call(client, "post", "/api/activities", body)
    assert (response.status_code, response.json()) == (400, MISSING)
    assert snapshot() == before


def test_activity_delete_keeps_conversations_and_assessments(
    contract_client, world, make_user
) -> None:
    made = activity(world["on"], [world["c1"]])
    conversation = Conversation.objects.create(
        thread_id="t1", user=make_user(Role.LEARNER), scenario=world["on"], activity=made
    )
    assessment = Assessment.objects.create(
        activity=made, activity_ref=made.id, engine="scripted", conversation=conversation
    )
    response = contract_client().delete(f"/api/activities/{made.id}")
    assert (response.status_code, response.json()) == (
        200,
        {"message": "Activity deleted successfully"},
    )
    assert not Activity.objects.exists()
    assert not ActivityCategory.objects.exists()
    assert Category.objects.count() == 3
    conversation.refresh_from_db()
    assessment.refresh_from_db()
    assert (conversation.activity_id, assessment.activity_id, assessment.activity_ref) == (
        None,
        None,
        made.id,
    )
    assert AuditEvent.objects.filter(action="practice.activity_deleted").count() == 1


def test_activity_delete_of_an_unknown_id_is_404(contract_client) -> None:
    response = contract_client().delete("/api/activities/999")
    assert (response.status_code, response.json()) == (404, {"message": "Activity not found"})


def test_there_is_no_delete_of_all_activities(contract_client, world) -> None:
    activity(world["on"])
    assert contract_client(Role.ADMIN).delete("/api/activities").status_code == 405
    assert Activity.objects.count() == 1


ROUTES = [
    ("get", "/api/activities", None, Role.LEARNER),
    ("post", "/api/activities", "body", Role.INSTRUCTOR),
    ("delete", "/api/activities/{aid}", None, Role.INSTRUCTOR),
]


@pytest.mark.parametrize(("method", "path", "body", "minimum"), ROUTES)
@pytest.mark.parametrize("role", CONTRACT_ROLES)
def test_role_matrix(contract_client, world, role, method, path, body, minimum) -> None:
    made = activity(world["on"], [world["c1"]])
    if body:
        body = {"pre_brief": "p", "character_id": world["on"].id, "categories": [world["c1"].id]}
    client = contract_client(role)
    before = snapshot()
    response = call(client, method, path.format(aid=made.id), body)
    allowed = {Role.INSTRUCTOR, Role.ADMIN} | ({Role.LEARNER} if minimum == Role.LEARNER else set())
    if role in allowed:
        assert response.status_code == HTTPStatus.OK, response.content
        return
    expected = (
        (401, {"message": "Authentication required"})
        if role is None
        else (403, {"message": "Your role does not allow this action"})
    )
    assert (response.status_code, response.json()) == expected
    assert snapshot() == before
