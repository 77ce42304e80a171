"""Assessments with the ``openai`` grader against the built-in OpenAI-compatible server: a model
server that errs or is slow gives ``{"message"}`` with 502 or 504, never a 500 and never a
made-up score, and stores no score (SPEC-practice §4, §7)."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from practice.models import Assessment
from tests.practice.test_assessment_api import GOOD, assess, check_contract_arithmetic, responses

pytestmark = pytest.mark.django_db

MODEL = "practice-scripted"


@pytest.fixture
def openai_grader(settings, compat_server):
    settings.PRACTICE_GRADER_ENGINE = "openai"
    settings.OPENAI_BASE_URL = compat_server.base_url
    settings.OPENAI_API_KEY = "test-key"
    settings.OPENAI_MODEL = MODEL
    settings.OPENAI_TIMEOUT_SECONDS = 4
    settings.OPENAI_MAX_RETRIES = 1
    return compat_server


def test_the_openai_grader_through_the_built_in_server(conversation_world, openai_grader):
    world = conversation_world
    response = assess(world.learner, world.activity, {"messages": GOOD})
    assert response.status_code == HTTPStatus.OK, response.content
    check_contract_arithmetic(response.json(), GOOD)
    stored = Assessment.objects.get()
    assert (stored.engine, stored.model) == ("openai", MODEL)
    assert stored.prompt_version
    assert stored.raw_result  # the model's own JSON, kept
    response = responses(world.learner, world.activity, {"messages": GOOD})
    assert response.status_code == HTTPStatus.OK
    assert len(response.json()["evaluations"]) == 2


@pytest.mark.parametrize(
    ("faults", "status", "says"),
    [
        ({"server_error": -1}, HTTPStatus.BAD_GATEWAY, "HTTP 500"),
        ({"rate_limit": -1, "retry_after": 0.1}, HTTPStatus.BAD_GATEWAY, "HTTP 429"),
        ({"malformed_body": -1}, HTTPStatus.BAD_GATEWAY, ""),
        ({"malformed_json": -1}, HTTPStatus.BAD_GATEWAY, ""),
        ({"first_token_delay": 10.0}, HTTPStatus.GATEWAY_TIMEOUT, "in time"),
    ],
)
def test_a_failing_grader_is_502_or_504_with_a_message_and_no_score(
    conversation_world, openai_grader, faults, status, says
):
    world = conversation_world
    openai_grader.set_faults(**faults)
    for call in (assess, responses):
        response = call(world.learner, world.activity, {"messages": GOOD})
        assert response.status_code == status, response.content
        body = response.json()
        assert list(body) == ["message"]
        assert says in body["message"]
    assert not Assessment.objects.exists()


def test_the_route_answers_within_its_own_limit_whatever_the_model_does(
    conversation_world, openai_grader, settings
):
    world = conversation_world
    settings.OPENAI_TIMEOUT_SECONDS = 30
    settings.PRACTICE_ASSESSMENT_TIMEOUT_SECONDS = 1
    openai_grader.set_faults(first_token_delay=5.0)
    response = assess(world.learner, world.activity, {"messages": GOOD})
    assert (response.status_code, response.json()) == (
        HTTPStatus.GATEWAY_TIMEOUT,
        {"message": "The grader did not answer within 1 s; please try again."},
    )
    assert not Assessment.objects.exists()
