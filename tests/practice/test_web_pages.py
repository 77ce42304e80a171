"""The practice section of the web UI through Django's test client: who sees which page, what
a page shows, and the instructor's override form (audited)."""

from http import HTTPStatus

import pytest
from django.test import Client

from accounts.models import Role
from audit.models import AuditEvent
from practice.models import (
    Activity,
    Assessment,
    Category,
    Conversation,
    Message,
    Scenario,
    ScoreOverride,
    SubCategory,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _signed_in(role: str) -> Client:
    client = Client()
    client.user = UserFactory(role=role)
    client.force_login(client.user)
    return client


@pytest.fixture
def course():
    enabled = Scenario.objects.create(scenario_text="Margaret, 67", role="Elderly Woman")
    disabled = Scenario.objects.create(scenario_text="Hidden", enable=False)
    category = Category.objects.create(name="Initiating the session", total_required_to_pass=2)
    criterion = SubCategory.objects.create(name="Greets and introduces", category=category)
    shown = Activity.objects.create(pre_brief="Chest pain since yesterday", character=enabled)
    shown.categories.add(category)
    hidden = Activity.objects.create(pre_brief="Not for learners", character=disabled)
    return {"shown": shown, "hidden": hidden, "criterion": criterion, "category": category}


def _assessment(learner, course, score: int) -> Assessment:
    conversation = Conversation.objects.create(
        thread_id=f"thread_web_{Assessment.objects.count()}",
        user=learner,
        scenario=course["shown"].character,
        activity=course["shown"],
    )
    Message.objects.create(
        conversation=conversation,
        index=0,
        role="user",
        content="Hello, I'm Dr Lee. How can I help?",
    )
    Message.objects.create(
        conversation=conversation, index=1, role="assistant", content="I have chest pain."
    )
    crit = course["criterion"]
    result = {
        "categories": [
            {
                "category_id": course["category"].pk,
                "name": "Initiating the session",
                "score": score,
                "required_to_pass": 2,
                "passed": score >= 2,
                "criteria": [
                    {
                        "subcategory_id": crit.pk,
                        "name": crit.name,
                        "score": score,
                        "evidence": {"message_indices": [0], "quotes": ["Hello, I'm Dr Lee."]},
                        "rewrite_if_missing": None
                        if score == 2
                        else "Hello, I'm Dr Lee, one of the doctors.",
                    }
                ],
            }
        ],
        "overall": {"total_score": score, "passed": score >= 2},
    }
    return Assessment.objects.create(
        conversation=conversation,
        activity=course["shown"],
        activity_ref=course["shown"].pk,
        transcript=[
            {"role": "user", "content": "Hello, I'm Dr Lee. How can I help?"},
            {"role": "assistant", "content": "I have chest pain."},
        ],
        engine="scripted",
        result=result,
        total_score=score,
        passed=score >= 2,
        requested_by=learner,
        requested_by_name=learner.username,
    )


def test_a_learner_sees_the_open_activities_only(course):
    learner = _signed_in(Role.LEARNER)
    page = learner.get("/practice/")
    assert page.status_code == HTTPStatus.OK
    text = page.content.decode()
    assert "Chest pain since yesterday" in text
    assert "Not for learners" not in text
    assert 'data-nav="practice"' in text and "/studies/" not in text


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ANALYST])
def test_imaging_roles_are_refused_on_the_practice_pages(course, role):
    assert _signed_in(role).get("/practice/").status_code == HTTPStatus.FORBIDDEN


def test_a_learner_starts_in_the_practice_section(course):
    learner = _signed_in(Role.LEARNER)
    assert learner.get("/")["Location"] == "/practice/"


def test_starting_an_activity_opens_its_conversation(course):
    learner = _signed_in(Role.LEARNER)
    response = learner.post(f"/practice/activities/{course['shown'].pk}/start/")
    conversation = Conversation.objects.get(user=learner.user)
    assert response["Location"] == f"/practice/conversations/{conversation.thread_id}/"
    assert conversation.activity == course["shown"]
    chat = learner.get(response["Location"])
    assert chat.status_code == HTTPStatus.OK
    assert b'id="composer"' in chat.content and b"Chest pain since yesterday" in chat.content


def test_a_disabled_activity_cannot_be_started(course):
    learner = _signed_in(Role.LEARNER)
    response = learner.post(f"/practice/activities/{course['hidden'].pk}/start/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert not Conversation.objects.exists()


def test_another_learners_conversation_and_assessment_are_not_found(course):
    owner = UserFactory(role=Role.LEARNER)
    assessment = _assessment(owner, course, 1)
    other = _signed_in(Role.LEARNER)
    assert (
        other.get(f"/practice/conversations/{assessment.conversation.thread_id}/").status_code
        == 404
    )
    assert other.get(f"/practice/assessments/{assessment.pk}/").status_code == 404


def test_the_assessment_page_marks_the_learners_quoted_words(course):
    learner = _signed_in(Role.LEARNER)
    assessment = _assessment(learner.user, course, 1)
    page = learner.get(f"/practice/assessments/{assessment.pk}/").content.decode()
    assert "<mark>Hello, I&#x27;m Dr Lee.</mark>" in page
    assert "Hello, I&#x27;m Dr Lee, one of the doctors." in page  # the suggested rewording
    assert 'class="override"' not in page  # learners cannot override


def test_an_instructor_overrides_from_the_page_and_it_is_audited(course):
    learner = UserFactory(role=Role.LEARNER)
    assessment = _assessment(learner, course, 1)
    instructor = _signed_in(Role.INSTRUCTOR)
    page = instructor.get(f"/practice/assessments/{assessment.pk}/").content.decode()
    assert 'class="override"' in page
    response = instructor.post(
        f"/practice/assessments/{assessment.pk}/override/",
        {"subcategory_id": course["criterion"].pk, "score": "2", "reason": "Introduced himself"},
    )
    assert response.status_code == HTTPStatus.FOUND
    override = ScoreOverride.objects.get()
    assert (override.old_score, override.new_score, override.by) == (1, 2, instructor.user)
    assert AuditEvent.objects.filter(
        action="practice.assessment.override", user=instructor.user
    ).exists()
    page = instructor.get(f"/practice/assessments/{assessment.pk}/").content.decode()
    assert "Introduced himself" in page


def test_an_override_without_a_reason_changes_nothing(course):
    assessment = _assessment(UserFactory(role=Role.LEARNER), course, 1)
    instructor = _signed_in(Role.INSTRUCTOR)
    instructor.post(
        f"/practice/assessments/{assessment.pk}/override/",
        {"subcategory_id": course["criterion"].pk, "score": "2", "reason": "  "},
    )
    assert not ScoreOverride.objects.exists()


def test_a_learner_cannot_post_an_override(course):
    learner = _signed_in(Role.LEARNER)
    assessment = _assessment(learner.user, course, 1)
    response = learner.post(
        f"/practice/assessments/{assessment.pk}/override/",
        {"subcategory_id": course["criterion"].pk, "score": "2", "reason": "me"},
    )
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not ScoreOverride.objects.exists()


def test_attempts_are_the_learners_own_or_everyones_for_an_instructor(course):
    learner = _signed_in(Role.LEARNER)
    other = UserFactory(role=Role.LEARNER)
    _assessment(learner.user, course, 2)
    _assessment(other, course, 0)
    mine = learner.get("/practice/attempts/").content.decode()
    assert mine.count("/practice/assessments/") == 1
    everyone = _signed_in(Role.INSTRUCTOR).get("/practice/attempts/").content.decode()
    assert everyone.count("/practice/assessments/") == 2
    assert other.username in everyone


def test_the_analytics_page_shows_its_numbers_in_tables(course):
    _assessment(UserFactory(role=Role.LEARNER), course, 2)
    _assessment(UserFactory(role=Role.LEARNER), course, 0)
    instructor = _signed_in(Role.INSTRUCTOR)
    page = instructor.get(f"/practice/activities/{course['shown'].pk}/analytics/")
    assert page.status_code == HTTPStatus.OK
    text = page.content.decode()
    assert 'id="criteria-table"' in text and "Greets and introduces" in text
    assert "50 %" in text  # pass rate and miss rate
    assert (
        _signed_in(Role.LEARNER)
        .get(f"/practice/activities/{course['shown'].pk}/analytics/")
        .status_code
        == HTTPStatus.FORBIDDEN
    )
