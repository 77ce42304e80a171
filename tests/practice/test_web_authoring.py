"""Instructors' authoring pages: a scenario and its case sheet from the form, categories and
criteria, activities (through Django's test client)."""

from http import HTTPStatus

import pytest
from django.test import Client

from accounts.models import Role
from audit.models import AuditEvent
from practice.models import Activity, Category, Scenario, SubCategory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _signed_in(role: str) -> Client:
    client = Client()
    client.user = UserFactory(role=role)
    client.force_login(client.user)
    return client


FORM = {
    "scenario_text": "Margaret Hill, 67, retired teacher with chest pain",
    "role": "Elderly Woman",
    "language": "en",
    "enable": "on",
    "tags": "cardiology, emergency",
    "patient_name": "Margaret Hill",
    "patient_age": "67",
    "patient_sex": "F",
    "opening": "Hello doctor. I've had this pain in my chest since yesterday.",
    "unknown_answer": "I'm not sure, I'm afraid.",
    "empathy_answer": "Thank you, that's kind.",
    "diagnosis": "pulmonary embolism",
    "fact_topic": ["onset", "other", "site"],
    "fact_answer": [
        "It came on suddenly yesterday evening.",
        "I flew back from Australia last week.",
        "",
    ],
    "fact_questions": ["when did it begin", "any long journeys\nhave you travelled", ""],
    "fact_volunteer": ["no", "no", "no"],
}


def test_an_instructor_creates_a_scenario_with_its_case_sheet():
    instructor = _signed_in(Role.INSTRUCTOR)
    response = instructor.post("/practice/manage/scenarios/new/", FORM)
    scenario = Scenario.objects.get()
    assert response["Location"] == f"/practice/manage/scenarios/{scenario.pk}/"
    assert scenario.case == {
        "opening": "Hello doctor. I've had this pain in my chest since yesterday.",
        "unknown_answer": "I'm not sure, I'm afraid.",
        "empathy_answer": "Thank you, that's kind.",
        "facts": [
            {
                "topic": "onset",
                "answer": "It came on suddenly yesterday evening.",
                "volunteer": False,
                "questions": ["when did it begin"],
            },
            {
                "topic": "other",
                "answer": "I flew back from Australia last week.",
                "volunteer": False,
                "questions": ["any long journeys", "have you travelled"],
            },
        ],
        "patient": {"name": "Margaret Hill", "age": 67, "sex": "F"},
        "hidden": {"diagnosis": "pulmonary embolism"},
    }
    assert sorted(t.tag for t in scenario.tags.all()) == ["cardiology", "emergency"]
    assert (scenario.role, scenario.language, scenario.enable) == ("Elderly Woman", "en", True)
    page = instructor.get(response["Location"]).content.decode()
    assert "I flew back from Australia last week." in page and 'id="try"' in page


def test_a_case_sheet_that_breaks_a_rule_is_refused_naming_the_field():
    instructor = _signed_in(Role.INSTRUCTOR)
    response = instructor.post("/practice/manage/scenarios/new/", {**FORM, "opening": ""})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "case.opening" in response.content.decode()
    assert not Scenario.objects.exists()
    leaked = {**FORM, "fact_answer": ["It is a pulmonary embolism.", "x", ""]}
    response = instructor.post("/practice/manage/scenarios/new/", leaked)
    assert "case.facts[0].answer" in response.content.decode()
    assert not Scenario.objects.exists()


def test_editing_keeps_the_scenario_and_replaces_its_fields():
    instructor = _signed_in(Role.INSTRUCTOR)
    instructor.post("/practice/manage/scenarios/new/", FORM)
    scenario = Scenario.objects.get()
    changed = {**FORM, "scenario_text": "Margaret, changed", "enable": ""}
    changed.pop("enable")
    instructor.post(f"/practice/manage/scenarios/{scenario.pk}/", changed)
    scenario.refresh_from_db()
    assert (scenario.scenario_text, scenario.enable) == ("Margaret, changed", False)
    assert AuditEvent.objects.filter(action="practice.scenario_updated").exists()


@pytest.mark.parametrize("role", [Role.LEARNER, Role.VIEWER, Role.ANALYST])
def test_only_instructors_author(role):
    client = _signed_in(role)
    for path in ["/practice/manage/", "/practice/manage/scenarios/new/", "/practice/manage/rubrics/",
                 "/practice/manage/activities/"]:  # fmt: skip
        assert client.get(path).status_code == HTTPStatus.FORBIDDEN
    assert client.post("/practice/manage/scenarios/new/", FORM).status_code == HTTPStatus.FORBIDDEN
    assert not Scenario.objects.exists()


def test_categories_criteria_and_activities_from_their_pages():
    instructor = _signed_in(Role.INSTRUCTOR)
    instructor.post(
        "/practice/manage/rubrics/",
        {"kind": "category", "name": "Initiating the session", "total_required_to_pass": "2"},
    )
    category = Category.objects.get()
    instructor.post(
        "/practice/manage/rubrics/",
        {
            "kind": "criterion",
            "category_id": category.pk,
            "name": "Introduces self",
            "marking_instructions": "Gives name and role.",
            "evidence": "Hello, I'm Dr Lee\nMy name is",
        },
    )
    criterion = SubCategory.objects.get()
    assert criterion.evidence == ["Hello, I'm Dr Lee", "My name is"]
    page = instructor.get("/practice/manage/rubrics/").content.decode()
    assert "Introduces self" in page and "Hello, I&#x27;m Dr Lee\nMy name is" in page
    scenario = Scenario.objects.create(scenario_text="x")
    instructor.post(
        "/practice/manage/activities/",
        {"pre_brief": "Take a history", "character_id": scenario.pk, "categories": [category.pk]},
    )
    activity = Activity.objects.get()
    assert list(activity.categories.values_list("id", flat=True)) == [category.pk]
    assert "Take a history" in instructor.get("/practice/manage/").content.decode()


def test_an_unknown_scenario_is_not_found():
    assert _signed_in(Role.INSTRUCTOR).get("/practice/manage/scenarios/999/").status_code == 404
