"""The practice models in Django's admin, through the admin's pages (SPEC-practice §2, §3)."""

import json
from http import HTTPStatus

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from accounts.models import Role
from practice.models import (
    Activity,
    ActivityCategory,
    Assessment,
    Category,
    Conversation,
    Message,
    Scenario,
    SubCategory,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PRACTICE_LISTS = [
    "scenario",
    "tag",
    "rubricquestion",
    "category",
    "subcategory",
    "activity",
    "conversation",
    "run",
    "assessment",
    "scoreoverride",
    "message",
]
CASE = {
    "patient": {"name": "Ravi Shah", "age": 45, "sex": "M"},
    "opening": "Hello doctor, my back hurts.",
    "unknown_answer": "I'm not sure.",
    "empathy_answer": "Thank you.",
    "hidden": {"diagnosis": "mechanical back pain"},
    "facts": [{"topic": "onset", "answer": "Since Monday.", "questions": [], "volunteer": False}],
}


def admin_client(role: str, *, staff: bool = True, superuser: bool = False) -> Client:
    user = UserFactory(role=role, is_staff=staff, is_superuser=superuser)
    client = Client()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def instructor() -> Client:
    return admin_client(Role.INSTRUCTOR)


@pytest.fixture
def scenario() -> Scenario:
    return Scenario.objects.create(scenario_text="You are Ravi, 45.", role="Adult Man")


@pytest.fixture
def categories() -> list[Category]:
    return [
        Category.objects.create(name=name, total_required_to_pass=2)
        for name in ("Initiating", "Gathering", "Closing")
    ]


def scenario_form(**changes: object) -> dict:
    form = {
        "scenario_text": "You are Ravi, 45, with back pain.",
        "additional_instructions": "",
        "communication_preferences": "",
        "role": "Adult Man",
        "enable": "true",
        "language": "en",
        "case": json.dumps(CASE),
        "openid": "",
        "tags-TOTAL_FORMS": "1",
        "tags-INITIAL_FORMS": "0",
        "tags-0-tag": "back pain",
        "rubric_questions-TOTAL_FORMS": "1",
        "rubric_questions-INITIAL_FORMS": "0",
        "rubric_questions-0-question": "Did the student ask about red flags?",
    }
    form.update(changes)
    return form


# ---------------------------------------------------------------- who sees what


def test_an_instructor_sees_only_the_practice_models(instructor):
    response = instructor.get("/admin/")
    assert response.status_code == HTTPStatus.OK
    apps = response.context["app_list"]
    assert [app["app_label"] for app in apps] == ["practice"]
    assert sorted(m["object_name"].lower() for m in apps[0]["models"]) == sorted(PRACTICE_LISTS)


@pytest.mark.parametrize("model", PRACTICE_LISTS)
def test_an_instructor_opens_every_practice_list(instructor, model):
    assert instructor.get(f"/admin/practice/{model}/").status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    "path",
    [
        "/admin/accounts/user/",
        "/admin/accounts/user/add/",
        "/admin/auth/group/",
        "/admin/studies/study/",
        "/admin/reports/report/",
        "/admin/audit/auditevent/",
        "/admin/analysis/analysistask/",
        "/admin/ingest/importbatch/",
    ],
)
def test_an_instructor_is_refused_everything_else_even_with_a_granted_permission(path):
    client = admin_client(Role.INSTRUCTOR)
    client.user.user_permissions.add(
        *Permission.objects.exclude(content_type__app_label="practice")
    )
    assert client.get(path).status_code == HTTPStatus.FORBIDDEN
    assert [a["app_label"] for a in client.get("/admin/").context["app_list"]] == ["practice"]


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ANALYST, Role.LEARNER])
def test_other_roles_are_refused_the_practice_admin_even_with_a_granted_permission(role):
    client = admin_client(role)
    client.user.user_permissions.add(*Permission.objects.filter(content_type__app_label="practice"))
    for model in PRACTICE_LISTS:
        assert client.get(f"/admin/practice/{model}/").status_code == HTTPStatus.FORBIDDEN
    assert client.get("/admin/practice/scenario/add/").status_code == HTTPStatus.FORBIDDEN
    assert "practice" not in [a["app_label"] for a in client.get("/admin/").context["app_list"]]
    response = client.post("/admin/practice/scenario/add/", scenario_form())
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not Scenario.objects.exists()


def test_an_instructor_who_is_not_staff_is_sent_to_the_admin_login():
    client = admin_client(Role.INSTRUCTOR, staff=False)
    response = client.get("/admin/practice/scenario/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("superuser", [False, True])
def test_an_admin_manages_the_practice_models(superuser):
    client = admin_client(Role.ADMIN, superuser=superuser)
    assert client.get("/admin/practice/scenario/add/").status_code == HTTPStatus.OK
    assert "practice" in [a["app_label"] for a in client.get("/admin/").context["app_list"]]


# ---------------------------------------------------------------- scenarios


def test_an_instructor_creates_a_scenario_with_its_case_sheet_tags_and_questions(instructor):
    response = instructor.post("/admin/practice/scenario/add/", scenario_form())
    assert response.status_code == HTTPStatus.FOUND, response.context["errors"]
    scenario = Scenario.objects.get()
    assert (scenario.role, scenario.language, scenario.enable, scenario.case) == (
        "Adult Man",
        "en",
        True,
        CASE,
    )
    assert (scenario.additional_instructions, scenario.openid) == ("", "")
    assert scenario.created_at is not None and scenario.updated_at is not None
    assert [t.tag for t in scenario.tags.all()] == ["back pain"]
    assert [q.question for q in scenario.rubric_questions.all()] == [
        "Did the student ask about red flags?"
    ]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ({**CASE, "facts": []}, "case.facts: needs at least one fact"),
        (
            {
                **CASE,
                "facts": [{"topic": "mood", "answer": "Fine."}, {"topic": "x", "answer": "a"}],
            },
            "case.facts[1].topic: must be one of",
        ),
        ({**CASE, "opening": "It is mechanical back pain."}, "case.opening: must not contain"),
        ([1, 2], "case: must be an object"),
    ],
)
def test_an_invalid_case_sheet_is_refused_naming_the_field(instructor, case, message):
    response = instructor.post(
        "/admin/practice/scenario/add/", scenario_form(case=json.dumps(case))
    )
    assert response.status_code == HTTPStatus.OK
    assert any(message in error for error in response.context["adminform"].form.errors["case"])
    assert not Scenario.objects.exists()


def test_an_adopted_scenario_keeps_its_avatar_and_empty_flask_columns(instructor):
    scenario = Scenario.objects.create(
        scenario_text="Old Flask one", role="Pirate", additional_instructions=None, openid=None
    )
    page = instructor.get(f"/admin/practice/scenario/{scenario.pk}/change/")
    assert page.status_code == HTTPStatus.OK
    form = scenario_form(role="Pirate", case="null")
    form.update({"tags-TOTAL_FORMS": "0", "rubric_questions-TOTAL_FORMS": "0"})
    response = instructor.post(f"/admin/practice/scenario/{scenario.pk}/change/", form)
    assert response.status_code == HTTPStatus.FOUND
    scenario.refresh_from_db()
    assert (scenario.role, scenario.case, scenario.scenario_text) == (
        "Pirate",
        None,
        "You are Ravi, 45, with back pain.",
    )


# ---------------------------------------------------------------- rubrics and activities


def test_an_activitys_categories_are_saved_through_the_link_table(instructor, scenario, categories):
    response = instructor.post(
        "/admin/practice/activity/add/",
        {
            "pre_brief": "See Ravi.",
            "character": scenario.pk,
            "category_set": [categories[2].pk, categories[0].pk],
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    activity = Activity.objects.get()
    assert sorted(
        ActivityCategory.objects.filter(activity=activity).values_list("category_id", flat=True)
    ) == [categories[0].pk, categories[2].pk]

    page = instructor.get(f"/admin/practice/activity/{activity.pk}/change/")
    assert page.status_code == HTTPStatus.OK
    assert page.context["adminform"].form["category_set"].value() == [
        categories[0].pk,
        categories[2].pk,
    ]

    response = instructor.post(
        f"/admin/practice/activity/{activity.pk}/change/",
        {
            "pre_brief": "See Ravi again.",
            "character": scenario.pk,
            "category_set": [categories[1].pk],
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    assert list(activity.categories.values_list("id", flat=True)) == [categories[1].pk]

    response = instructor.post(
        f"/admin/practice/activity/{activity.pk}/change/",
        {"pre_brief": "See Ravi again.", "character": scenario.pk},
    )
    assert response.status_code == HTTPStatus.FOUND
    assert not ActivityCategory.objects.exists()
    listing = instructor.get("/admin/practice/activity/")
    assert listing.status_code == HTTPStatus.OK


def test_an_unknown_category_is_refused_and_nothing_is_written(instructor, scenario):
    response = instructor.post(
        "/admin/practice/activity/add/",
        {"pre_brief": "See Ravi.", "character": scenario.pk, "category_set": [999]},
    )
    assert response.status_code == HTTPStatus.OK
    assert "category_set" in response.context["adminform"].form.errors
    assert not Activity.objects.exists()


def test_a_category_is_saved_with_its_criteria_and_evidence(instructor):
    response = instructor.post(
        "/admin/practice/category/add/",
        {
            "name": "Initiating the session",
            "total_required_to_pass": "3",
            "subcategories-TOTAL_FORMS": "1",
            "subcategories-INITIAL_FORMS": "0",
            "subcategories-0-name": "Greets and introduces self",
            "subcategories-0-marking_instructions": "2 if name and role are given.",
            "subcategories-0-evidence": json.dumps(["Hello, I'm Dr Lee"]),
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    criterion = SubCategory.objects.get()
    assert (criterion.category.name, criterion.evidence) == (
        "Initiating the session",
        ["Hello, I'm Dr Lee"],
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("total_required_to_pass", "-1"), ("name", "")],
)
def test_a_bad_category_is_refused(instructor, field, value):
    form = {"name": "Closing", "total_required_to_pass": "1", "subcategories-TOTAL_FORMS": "0"}
    form.update({"subcategories-INITIAL_FORMS": "0", field: value})
    response = instructor.post("/admin/practice/category/add/", form)
    assert response.status_code == HTTPStatus.OK
    assert field in response.context["adminform"].form.errors
    assert not Category.objects.exists()


def test_evidence_must_be_a_list_of_texts(instructor, categories):
    response = instructor.post(
        "/admin/practice/subcategory/add/",
        {
            "name": "Summarises",
            "category": categories[0].pk,
            "marking_instructions": "x",
            "evidence": json.dumps({"not": "a list"}),
        },
    )
    assert response.status_code == HTTPStatus.OK
    assert "evidence" in response.context["adminform"].form.errors
    assert not SubCategory.objects.exists()


# ---------------------------------------------------------------- records are read-only


@pytest.fixture
def records(scenario) -> tuple[Conversation, Assessment]:
    learner = UserFactory(role=Role.LEARNER)
    conversation = Conversation.objects.create(
        thread_id="thread_abc", user=learner, scenario=scenario
    )
    Message.objects.create(conversation=conversation, index=0, role="user", content="Hello")
    assessment = Assessment.objects.create(conversation=conversation, engine="scripted")
    return conversation, assessment


@pytest.mark.parametrize("model", ["conversation", "assessment", "message", "run", "scoreoverride"])
def test_records_cannot_be_added(instructor, model):
    assert instructor.get(f"/admin/practice/{model}/add/").status_code == HTTPStatus.FORBIDDEN


def test_conversations_and_assessments_are_read_only(instructor, records):
    conversation, assessment = records
    for model, obj in (("conversation", conversation), ("assessment", assessment)):
        page = instructor.get(f"/admin/practice/{model}/{obj.pk}/change/")
        assert page.status_code == HTTPStatus.OK
        assert page.context["has_change_permission"] is False
        delete = instructor.post(f"/admin/practice/{model}/{obj.pk}/delete/", {"post": "yes"})
        assert delete.status_code == HTTPStatus.FORBIDDEN
    response = instructor.post(
        f"/admin/practice/conversation/{conversation.pk}/change/", {"thread_id": "changed"}
    )
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert Conversation.objects.get().thread_id == "thread_abc"
    assert Assessment.objects.count() == 1
    assert Message.objects.get().content == "Hello"


def test_a_scenario_an_activity_uses_is_not_deleted(instructor, scenario):
    activity = Activity.objects.create(pre_brief="See Ravi.", character=scenario)
    page = instructor.post(f"/admin/practice/scenario/{scenario.pk}/delete/", {"post": "yes"})
    assert page.status_code == HTTPStatus.OK
    assert f"Activity: {activity}" in page.content.decode()
    bulk = instructor.post(
        "/admin/practice/scenario/",
        {"action": "delete_selected", "_selected_action": [scenario.pk], "post": "yes"},
    )
    assert bulk.status_code == HTTPStatus.OK
    assert Scenario.objects.filter(pk=scenario.pk).exists()
    assert Activity.objects.filter(pk=activity.pk).exists()


def test_an_unused_scenario_is_deleted_with_its_tags(instructor, scenario):
    scenario.tags.create(tag="back pain")
    response = instructor.post(f"/admin/practice/scenario/{scenario.pk}/delete/", {"post": "yes"})
    assert response.status_code == HTTPStatus.FOUND
    assert not Scenario.objects.exists()
