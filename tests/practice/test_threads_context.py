"""GET /api/context/preview: exactly what the patient model is given, and nothing hidden."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from audit.models import AuditEvent
from practice.engines.base import PatientContext
from practice.engines.prompts import patient_instructions

pytestmark = pytest.mark.django_db

PREVIEW = "/api/context/preview"


def test_preview_of_an_activity_is_the_patient_instructions_of_its_character(conversation_world):
    world = conversation_world
    response = world.instructor.get(
        f"{PREVIEW}?activity_id={world.activity.pk}&scenario_id={world.other_scenario.pk}"
    )
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert list(body) == ["activity_id", "scenario_id", "context", "length"]
    assert (body["activity_id"], body["scenario_id"]) == (world.activity.pk, world.scenario.pk)
    scenario = world.scenario
    scenario.refresh_from_db()  # the case sheet as stored (PostgreSQL's jsonb orders its keys)
    case = {k: v for k, v in scenario.case.items() if k != "hidden"}
    expected = patient_instructions(
        PatientContext(
            scenario_id=scenario.pk,
            scenario_text=scenario.scenario_text,
            additional_instructions=scenario.additional_instructions,
            communication_preferences=scenario.communication_preferences,
            avatar="Adult",
            language="en",
            case=case,
        )
    )
    assert body["context"] == expected
    assert body["length"] == len(expected)
    for shown in (
        scenario.scenario_text,
        "Speak briefly.",
        "Plain words.",
        "It came on suddenly yesterday evening.",
    ):
        assert shown in body["context"]


def test_preview_never_holds_the_rubric_or_the_hidden_diagnosis(conversation_world):
    world = conversation_world
    response = world.admin.get(f"{PREVIEW}?activity_id={world.activity.pk}")
    context = response.json()["context"].lower()
    hidden = [
        "pulmonary embolism",
        "hidden",
        *(c.name.lower() for c in world.categories),
        *(c.marking_instructions.lower() for c in world.criteria),
        *(e.lower() for c in world.criteria for e in c.evidence),
        "did the student ask about onset",
    ]
    assert [text for text in hidden if text in context] == []


def test_preview_of_a_scenario_alone_and_of_a_disabled_one(conversation_world):
    world = conversation_world
    response = world.instructor.get(f"{PREVIEW}?scenario_id={world.disabled_scenario.pk}")
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert (body["activity_id"], body["scenario_id"]) == (None, world.disabled_scenario.pk)
    assert "A retired scenario." in body["context"]


@pytest.mark.parametrize(
    ("query", "code", "message"),
    [
        ("", HTTPStatus.BAD_REQUEST, "Missing fields"),
        ("?activity_id=&scenario_id=", HTTPStatus.BAD_REQUEST, "Missing fields"),
        ("?activity_id=999999", HTTPStatus.NOT_FOUND, "Activity not found"),
        ("?scenario_id=999999", HTTPStatus.NOT_FOUND, "Scenario not found"),
        ("?scenario_id=abc", HTTPStatus.BAD_REQUEST, "Invalid field: scenario_id"),
    ],
)
def test_preview_refusals(conversation_world, query, code, message):
    response = conversation_world.instructor.get(f"{PREVIEW}{query}")
    assert (response.status_code, response.json()) == (code, {"message": message})


def test_preview_is_for_instructors_only_and_audited(conversation_world):
    world = conversation_world
    response = world.learner.get(f"{PREVIEW}?scenario_id={world.scenario.pk}")
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert set(response.json()) == {"message"}
    world.instructor.get(f"{PREVIEW}?scenario_id={world.scenario.pk}")
    events = AuditEvent.objects.filter(action__endswith="practice.context_preview").order_by("id")
    assert [(e.action, e.username, e.status_code) for e in events] == [
        ("api.practice.context_preview", "learner1", 403),
        ("practice.context_preview", "instructor1", 200),
    ]
    assert events.last().object_ids == [str(world.scenario.pk)]
