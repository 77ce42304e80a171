"""/api/v1/practice: assessments with overrides, conversations, analytics, agreement,
case-sheet validation and exports (SPEC-practice §5), through HTTP."""

import csv
import io
from http import HTTPStatus

import pytest
from django.test import Client

from accounts.models import Role
from audit.models import AuditEvent
from practice.insights import scoring
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

pytestmark = pytest.mark.django_db

BASE = "/api/v1/practice"


def _result(scores: dict[int, int], *, required: int = 3) -> dict:
    """A stored automatic result over one category of the given criteria scores."""
    criteria = [
        {
            "subcategory_id": sid,
            "name": f"criterion {sid}",
            "score": score,
            "evidence": {
                "message_indices": [0] if score else [],
                "quotes": ["Hello"] if score else [],
            },
            "rewrite_if_missing": None if score == 2 else "Could you tell me more?",
        }
        for sid, score in sorted(scores.items())
    ]
    total = sum(scores.values())
    return {
        "categories": [
            {
                "category_id": 1,
                "name": "Initiating the session",
                "score": total,
                "required_to_pass": required,
                "passed": total >= required,
                "criteria": criteria,
            }
        ],
        "overall": {"total_score": total, "passed": total >= required},
    }


@pytest.fixture
def world(api):
    scenario = Scenario.objects.create(scenario_text="Margaret, 67, chest pain")
    category = Category.objects.create(
        id=1, name="Initiating the session", total_required_to_pass=3
    )
    crit = [SubCategory.objects.create(name=f"criterion {i}", category=category) for i in range(2)]
    activity = Activity.objects.create(pre_brief="See Margaret", character=scenario)
    activity.categories.add(category)
    learner, other, instructor = api(Role.LEARNER), api(Role.LEARNER), api(Role.INSTRUCTOR)

    def attempt(client: Client, scores: tuple[int, int]) -> Assessment:
        conversation = Conversation.objects.create(
            thread_id=f"thread_{Conversation.objects.count() + 1}",
            user=client.user,
            scenario=scenario,
            activity=activity,
        )
        Message.objects.create(
            conversation=conversation, index=0, role="user", content="Hello, I'm Dr Lee. =1+1"
        )
        Message.objects.create(
            conversation=conversation, index=1, role="assistant", content="Hello doctor."
        )
        result = _result({crit[0].pk: scores[0], crit[1].pk: scores[1]})
        return Assessment.objects.create(
            conversation=conversation,
            activity=activity,
            activity_ref=activity.pk,
            transcript=[{"role": "user", "content": "Hello, I'm Dr Lee."}],
            engine="scripted",
            model="scripted-grader",
            prompt_version="g1",
            result=result,
            total_score=result["overall"]["total_score"],
            passed=result["overall"]["passed"],
            requested_by=client.user,
            requested_by_name=client.user.username,
        )

    class World:
        pass

    w = World()
    w.scenario, w.activity, w.criteria = scenario, activity, crit
    w.learner, w.other, w.instructor = learner, other, instructor
    w.attempt = attempt
    return w


def test_a_learner_lists_only_their_own_assessments(world):
    mine = world.attempt(world.learner, (2, 0))
    world.attempt(world.other, (2, 2))
    response = world.learner.get(f"{BASE}/assessments")
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert [a["id"] for a in body] == [mine.pk]
    assert body[0] == {
        "id": mine.pk,
        "kind": "rubric_assessment",
        "activity_id": world.activity.pk,
        "thread_id": mine.conversation.thread_id,
        "learner": world.learner.user.username,
        "engine": "scripted",
        "model": "scripted-grader",
        "prompt_version": "g1",
        "created_at": body[0]["created_at"],
        "total_score": 2,
        "passed": False,
        "overridden": False,
    }


def test_another_learners_assessment_is_not_found(world):
    theirs = world.attempt(world.other, (2, 2))
    response = world.learner.get(f"{BASE}/assessments/{theirs.pk}")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"detail": "Assessment not found"}


def test_an_instructor_overrides_a_criterion_and_the_verdict_follows(world):
    attempt = world.attempt(world.learner, (2, 0))
    target = world.criteria[1].pk
    response = world.instructor.post(
        f"{BASE}/assessments/{attempt.pk}/overrides",
        {"subcategory_id": target, "score": 2, "reason": "She did ask about ideas."},
        content_type="application/json",
    )
    assert response.status_code == HTTPStatus.OK, response.content
    body = response.json()
    assert body["total_score"] == 4 and body["passed"] is True and body["overridden"] is True
    assert body["automatic_result"]["overall"] == {"total_score": 2, "passed": False}
    assert body["result"]["overall"] == {"total_score": 4, "passed": True}
    criterion = body["result"]["categories"][0]["criteria"][1]
    assert criterion["score"] == 2 and criterion["rewrite_if_missing"] is None
    assert [(o["old_score"], o["new_score"], o["by"]) for o in body["overrides"]] == [
        (0, 2, world.instructor.user.username)
    ]
    event = AuditEvent.objects.get(action="practice.assessment.override")
    assert event.username == world.instructor.user.username
    assert event.object_ids == [str(attempt.pk)]
    assert event.detail == {
        "subcategory_id": target,
        "old_score": 0,
        "new_score": 2,
        "reason": "She did ask about ideas.",
    }
    # The learner sees the score as it stands.
    mine = world.learner.get(f"{BASE}/assessments/{attempt.pk}").json()
    assert mine["total_score"] == 4


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"subcategory_id": 0, "score": 3, "reason": "x"}, HTTPStatus.UNPROCESSABLE_ENTITY),
        ({"subcategory_id": 0, "score": -1, "reason": "x"}, HTTPStatus.UNPROCESSABLE_ENTITY),
        ({"subcategory_id": 0, "score": 1}, HTTPStatus.UNPROCESSABLE_ENTITY),
        ({"subcategory_id": 0, "score": 1, "reason": ""}, HTTPStatus.UNPROCESSABLE_ENTITY),
        ({"subcategory_id": 0, "score": 1, "reason": "   "}, HTTPStatus.UNPROCESSABLE_ENTITY),
        ({"subcategory_id": 999999, "score": 1, "reason": "x"}, HTTPStatus.NOT_FOUND),
    ],
)
def test_a_bad_override_is_refused_and_writes_nothing(world, body, status):
    attempt = world.attempt(world.learner, (1, 1))
    if body["subcategory_id"] == 0:
        body = {**body, "subcategory_id": world.criteria[0].pk}
    response = world.instructor.post(
        f"{BASE}/assessments/{attempt.pk}/overrides", body, content_type="application/json"
    )
    assert response.status_code == status
    assert "detail" in response.json()
    assert ScoreOverride.objects.count() == 0
    assert not AuditEvent.objects.filter(action="practice.assessment.override").exists()


def test_a_learner_cannot_override(world):
    attempt = world.attempt(world.learner, (1, 1))
    response = world.learner.post(
        f"{BASE}/assessments/{attempt.pk}/overrides",
        {"subcategory_id": world.criteria[0].pk, "score": 2, "reason": "me"},
        content_type="application/json",
    )
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert ScoreOverride.objects.count() == 0


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ANALYST])
def test_imaging_roles_are_refused_on_the_practice_api(api, role):
    response = api(role).get(f"{BASE}/assessments")
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"detail": "Your role does not allow this action"}


def test_signed_out_callers_are_refused(db):
    assert Client().get(f"{BASE}/conversations").status_code == HTTPStatus.UNAUTHORIZED
    # A write without a session is "not signed in" too, not a failed CSRF check.
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(f"{BASE}/case-sheets/validate", {}, content_type="application/json")
    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_the_web_session_works_and_writes_need_the_csrf_token(world):
    attempt = world.attempt(world.learner, (1, 1))
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.instructor.user)
    assert browser.get(f"{BASE}/assessments").status_code == HTTPStatus.OK
    url = f"{BASE}/assessments/{attempt.pk}/overrides"
    body = {"subcategory_id": world.criteria[0].pk, "score": 2, "reason": "ok"}
    refused = browser.post(url, body, content_type="application/json")
    assert refused.status_code == HTTPStatus.FORBIDDEN
    assert ScoreOverride.objects.count() == 0
    token = "k" * 32  # an unmasked CSRF secret: the cookie and the header carry the same one
    browser.cookies["csrftoken"] = token
    accepted = browser.post(url, body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == HTTPStatus.OK
    assert ScoreOverride.objects.count() == 1


def test_conversations_and_transcripts_are_the_owners_or_an_instructors(world):
    mine = world.attempt(world.learner, (1, 1)).conversation
    theirs = world.attempt(world.other, (1, 1)).conversation
    listed = world.learner.get(f"{BASE}/conversations").json()
    assert [c["thread_id"] for c in listed] == [mine.thread_id]
    assert listed[0]["message_count"] == 2
    assert world.learner.get(f"{BASE}/conversations/{theirs.thread_id}").status_code == 404
    detail = world.instructor.get(f"{BASE}/conversations/{theirs.thread_id}").json()
    assert [(m["index"], m["role"]) for m in detail["messages"]] == [(0, "user"), (1, "assistant")]
    assert (
        AuditEvent.objects.filter(
            action="practice.conversation.read", object_ids=[theirs.thread_id]
        ).count()
        == 2
    )


def test_analytics_count_attempts_pass_rate_misses_and_progress(world):
    world.attempt(world.learner, (1, 0))  # learner: attempt 1, 1 point, failed
    world.attempt(world.learner, (2, 2))  # learner: attempt 2, passed
    world.attempt(world.other, (2, 0))  # other: attempt 1, failed
    body = world.instructor.get(f"{BASE}/activities/{world.activity.pk}/analytics").json()
    first, second = (c.pk for c in world.criteria)
    assert body == {
        "activity_id": world.activity.pk,
        "attempts": 3,
        "learners": 2,
        "passed": 1,
        "pass_rate": 1 / 3,
        "mean_score": 7 / 3,
        "score_distribution": [
            {"total_score": 1, "count": 1},
            {"total_score": 2, "count": 1},
            {"total_score": 4, "count": 1},
        ],
        "criteria": [
            {"subcategory_id": first, "name": f"criterion {first}", "category_id": 1, "attempts": 3,
             "missed": 0, "partly": 1, "fully": 2, "miss_rate": 0.0},
            {"subcategory_id": second, "name": f"criterion {second}", "category_id": 1, "attempts": 3,
             "missed": 2, "partly": 0, "fully": 1, "miss_rate": 2 / 3},
        ],
        "progress": [
            {"attempt": 1, "learners": 2, "mean_score": 1.5, "pass_rate": 0.0},
            {"attempt": 2, "learners": 1, "mean_score": 4.0, "pass_rate": 1.0},
        ],
    }  # fmt: skip


def test_analytics_of_an_unknown_activity_is_not_found(world):
    response = world.instructor.get(f"{BASE}/activities/999999/analytics")
    assert response.status_code == HTTPStatus.NOT_FOUND


def test_agreement_pairs_every_reviewed_criterion(world):
    a = world.attempt(world.learner, (0, 1))
    b = world.attempt(world.other, (2, 2))
    first, second = (c.pk for c in world.criteria)
    for attempt, sid, score in [(a, first, 0), (a, second, 1), (b, first, 2), (b, second, 1)]:
        response = world.instructor.post(
            f"{BASE}/assessments/{attempt.pk}/overrides",
            {"subcategory_id": sid, "score": score, "reason": "reviewed"},
            content_type="application/json",
        )
        assert response.status_code == HTTPStatus.OK
    body = world.instructor.get(f"{BASE}/agreement?activity_id={world.activity.pk}").json()
    # (automatic, instructor): (0,0) (1,1) (2,2) (2,1): quadratic weighted kappa 0.8.
    assert body["pairs"] == 4
    assert body["exact_agreement"] == 0.75
    assert body["weighted_kappa"] == pytest.approx(0.8)
    cells = {(c["automatic"], c["instructor"]): c["count"] for c in body["confusion"]}
    assert cells[(2, 1)] == 1 and cells[(0, 0)] == 1 and sum(cells.values()) == 4


def test_weighted_kappa_edges():
    assert scoring.weighted_kappa([]) is None
    assert scoring.weighted_kappa([(2, 2), (2, 2)]) == 1.0
    assert scoring.weighted_kappa([(0, 2), (2, 0)]) < 0


def test_case_sheet_validation_names_the_field(world):
    case = {
        "opening": "Hello doctor.",
        "unknown_answer": "I'm not sure.",
        "empathy_answer": "Thank you.",
        "facts": [{"topic": "onset", "answer": "Yesterday."}, {"topic": "sight", "answer": "x"}],
    }
    url = f"{BASE}/case-sheets/validate"
    bad = world.instructor.post(url, {"case": case}, content_type="application/json").json()
    assert bad["valid"] is False
    assert bad["errors"][0]["path"] == "case.facts[1].topic"
    case["facts"].pop()
    good = world.instructor.post(url, {"case": case}, content_type="application/json").json()
    assert good == {"valid": True, "errors": []}
    assert (
        world.learner.post(url, {"case": case}, content_type="application/json").status_code == 403
    )


def test_exports_in_csv_and_json_keep_formulas_inert(world):
    world.attempt(world.learner, (2, 1))
    transcripts = world.instructor.get(f"{BASE}/export/transcripts?format=csv")
    assert transcripts.status_code == HTTPStatus.OK
    assert transcripts["Content-Disposition"] == 'attachment; filename="transcripts.csv"'
    text = transcripts.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [r["role"] for r in rows] == ["user", "assistant"]
    assert not rows[0]["content"].startswith("=")
    as_json = world.instructor.get(f"{BASE}/export/transcripts?format=json").json()
    assert as_json[0]["messages"][0]["content"] == "Hello, I'm Dr Lee. =1+1"
    results = world.instructor.get(f"{BASE}/export/results?format=csv").content.decode()
    rows = list(csv.DictReader(io.StringIO(results.lstrip("\ufeff"))))
    assert rows[0]["total_score"] == "3" and rows[0]["learner"] == world.learner.user.username
    detail = world.instructor.get(f"{BASE}/export/results?format=json").json()
    assert detail[0]["result"]["overall"]["total_score"] == 3
    assert world.learner.get(f"{BASE}/export/results").status_code == HTTPStatus.FORBIDDEN
    assert AuditEvent.objects.filter(action="practice.export.results").count() == 2


@pytest.mark.parametrize(
    "query",
    ["conversations?scenario_id=99999999999999999999999", "conversations?activity_id=0",
     "assessments?activity_id=2147483648", "agreement?activity_id=-1",
     "export/results?activity_id=99999999999999999999999"],
)  # fmt: skip
def test_an_id_no_row_can_have_is_refused_as_invalid_input(world, query):
    response = world.instructor.get(f"{BASE}/{query}")
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"][0]["type"] in ("less_than_equal", "greater_than_equal")


@pytest.mark.parametrize("body", [[None, None], {"case": None}, {"case": "text"}, {}])
def test_a_case_sheet_to_validate_must_be_an_object(world, body):
    response = world.instructor.post(
        f"{BASE}/case-sheets/validate", body, content_type="application/json"
    )
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
