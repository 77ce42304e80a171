"""Shared fixtures of the practice tests (keep each small and named for its area):
``contract_client`` for the contract's routes, ``conversation_world`` and ``practice_workers``
for threads, runs and assessments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client

from accounts.models import Role
from practice.models import (
    Activity,
    ActivityCategory,
    Category,
    RubricQuestion,
    Scenario,
    SubCategory,
)
from tests.practice.openai_server import _compat_server_session, compat_server  # noqa: F401
from tests.practice.workers import practice_workers  # noqa: F401 (a fixture for runs' tests)

# Every caller of the contract's role matrix: None is anonymous (no token).
CONTRACT_ROLES = (None, Role.VIEWER, Role.ANALYST, Role.LEARNER, Role.INSTRUCTOR, Role.ADMIN)


@pytest.fixture
def contract_client(api) -> Callable[[str | None], Client]:
    """A client of the Flask contract for a role (bearer token of the product), or anonymous."""

    def make(role: str | None = Role.INSTRUCTOR, **kwargs) -> Client:
        if role is None:
            client = Client()
            client.user = None
            return client
        return api(role, **kwargs)

    return make


CHEST_PAIN_CASE = {
    "patient": {"name": "Margaret Hill", "age": 67, "sex": "F"},
    "opening": "Hello doctor. I've had this pain in my chest since yesterday.",
    "unknown_answer": "I'm not sure, I'm afraid.",
    "empathy_answer": "Thank you, that's kind.",
    "hidden": {"diagnosis": "pulmonary embolism"},
    "facts": [
        {
            "topic": "onset",
            "answer": "It came on suddenly yesterday evening.",
            "questions": ["when did it begin"],
            "volunteer": False,
        },
        {
            "topic": "character",
            "answer": "It's sharp, and worse when I breathe in.",
            "questions": ["what does the pain feel like"],
            "volunteer": False,
        },
        {
            "topic": "other",
            "answer": "I flew back from Australia last week.",
            "questions": ["any long journeys", "have you travelled"],
            "volunteer": False,
        },
    ],
}


@dataclass
class ConversationWorld:
    learner: Client
    other_learner: Client
    instructor: Client
    admin: Client
    scenario: Scenario
    other_scenario: Scenario
    disabled_scenario: Scenario
    activity: Activity
    other_activity: Activity
    empty_activity: Activity
    categories: list[Category]
    criteria: list[SubCategory]


def _scenario(text: str, *, enable: bool = True, case: dict | None = None) -> Scenario:
    return Scenario.objects.create(
        scenario_text=text,
        additional_instructions="Speak briefly.",
        communication_preferences="Plain words.",
        enable=enable,
        case=case if case is not None else CHEST_PAIN_CASE,
    )


@pytest.fixture
def conversation_world(api) -> ConversationWorld:
    """Three practice users and an admin, scenarios (one disabled) and activities whose rubric
    has two categories."""
    scenario = _scenario("You are Margaret Hill, 67, with chest pain.")
    other_scenario = _scenario("You are Tom, 30, with a sore knee.")
    disabled = _scenario("A retired scenario.", enable=False)
    communication = Category.objects.create(name="Consultation skills", total_required_to_pass=3)
    history = Category.objects.create(name="History taking", total_required_to_pass=2)
    criteria = [
        SubCategory.objects.create(
            name="Introduction",
            marking_instructions="Candidate states own full name and job title at the outset.",
            category=communication,
            evidence=["Hello, I'm Dr Lee, one of the doctors"],
        ),
        SubCategory.objects.create(
            name="Empathy",
            marking_instructions="Candidate names and validates the emotion the patient shows.",
            category=communication,
            evidence=["That sounds really worrying"],
        ),
        SubCategory.objects.create(
            name="Onset",
            marking_instructions="Candidate establishes the time course of the pain.",
            category=history,
            evidence=["When did the pain start?"],
        ),
    ]
    activity = Activity.objects.create(pre_brief="Take a chest pain history.", character=scenario)
    for category in (communication, history):
        ActivityCategory.objects.create(activity=activity, category=category)
    other_activity = Activity.objects.create(pre_brief="Knee.", character=other_scenario)
    empty_activity = Activity.objects.create(pre_brief="No rubric.", character=scenario)
    RubricQuestion.objects.create(question="Did the student ask about onset?", scenario=scenario)
    RubricQuestion.objects.create(question="Did the student show empathy?", scenario=scenario)
    return ConversationWorld(
        learner=api(Role.LEARNER, username="learner1"),
        other_learner=api(Role.LEARNER, username="learner2"),
        instructor=api(Role.INSTRUCTOR, username="instructor1"),
        admin=api(Role.ADMIN, username="admin1"),
        scenario=scenario,
        other_scenario=other_scenario,
        disabled_scenario=disabled,
        activity=activity,
        other_activity=other_activity,
        empty_activity=empty_activity,
        categories=[communication, history],
        criteria=criteria,
    )
