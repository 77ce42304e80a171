"""Assessing a transcript (SPEC-practice §4 "Assessment"), synchronously in the request.

The order of the rules matters and is the contract's: the activity (404), the transcript (the
thread's when ``thread_id`` is given, whatever ``messages`` says; else the messages, each
checked), an activity with no categories (or a scenario with no rubric questions) answers the
empty result whatever the transcript, then the minimum of learner messages (400 naming it).
The grader sees the last 40 messages; what it answers is checked before anything is composed:
every criterion scored 0, 1 or 2 (else the attempt fails, never an invented score), evidence
indices kept only where they point at a learner's message of those 40, quotes kept only where
they are verbatim in one. An engine that errs or takes too long gives 502 / 504 with a message,
and stores no score. Every graded attempt is stored, linked to its conversation.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction

from accounts.models import User
from core.errors import DomainError
from practice.assessment import selectors
from practice.conversations import selectors as conversation_selectors
from practice.engines.base import Category as RubricCategory
from practice.engines.base import (
    CriterionScore,
    EngineError,
    Grading,
    QuestionGrading,
    Turn,
    compose_result,
)
from practice.models import Activity, Assessment, Conversation

logger = logging.getLogger("practice.assessment")

WINDOW = 40  # the frontend maps evidence onto the last 40 messages
ROLES = ("user", "assistant")
MISSING = "Missing fields"
TOO_FEW = (
    "At least {minimum} learner messages are needed for an assessment (this transcript has {count})"
)
TIMED_OUT = "The grader did not answer within {seconds:g} s; please try again."
UNEXPECTED = "The grader failed (unexpected error: {name}); please try again."
BAD_SCORES = "The grader's answer was incomplete or invalid; no score was given. Please try again."

T = TypeVar("T")


class BadRequest(DomainError):
    """400 in the contract's shape."""


class GraderUnavailable(DomainError):
    """The grader erred (502) or was too slow (504): a message, never a score."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status_code = status


# ------------------------------------------------------------------ the transcript


def _parse_messages(messages: Sequence[Any]) -> list[Turn]:
    turns = []
    for i, item in enumerate(messages):
        if not isinstance(item, dict):
            raise BadRequest(f"Invalid field: messages[{i}]")
        role = item.get("role")
        if role is None or role == "":
            raise BadRequest(MISSING)
        if role not in ROLES:
            raise BadRequest(f"Invalid field: messages[{i}].role")
        # Both given: ``message`` is used (the frontend's own field).
        text = item.get("message") if item.get("message") is not None else item.get("content")
        if text is None:
            raise BadRequest(MISSING)
        if not isinstance(text, str) or "\x00" in text:
            raise BadRequest(f"Invalid field: messages[{i}].message")
        turns.append(Turn(role=role, content=text))
    return turns


def _transcript(
    *, user: User, thread_id: str | None, messages: Sequence[Any] | None
) -> tuple[list[Turn], Conversation | None]:
    if thread_id is not None:
        conversation = conversation_selectors.conversation_get(thread_id=thread_id, user=user)
        return selectors.conversation_transcript(conversation=conversation), conversation
    if messages is None:
        raise BadRequest(MISSING)
    return _parse_messages(messages), None


def _check_minimum(transcript: Sequence[Turn]) -> None:
    minimum = int(settings.PRACTICE_MIN_LEARNER_TURNS)
    count = sum(1 for t in transcript if t.role == "user")
    if count < minimum:
        raise BadRequest(TOO_FEW.format(minimum=minimum, count=count))


# ------------------------------------------------------------------ calling the grader


def _call(work: Callable[[], T]) -> T:
    """The grader's answer, or a clear 502 / 504: the route answers within 100 s whatever the
    model does (the frontend gives up at 120 s)."""
    seconds = float(settings.PRACTICE_ASSESSMENT_TIMEOUT_SECONDS)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    future = pool.submit(work)
    try:
        return future.result(timeout=seconds)
    except concurrent.futures.TimeoutError:
        raise GraderUnavailable(TIMED_OUT.format(seconds=seconds), status=504) from None
    except EngineError as exc:
        raise GraderUnavailable(exc.message, status=exc.status) from None
    except Exception as exc:
        logger.exception("The grader failed")
        raise GraderUnavailable(UNEXPECTED.format(name=type(exc).__name__), status=502) from None
    finally:
        # A slow engine finishes in the background; nobody waits for it.
        pool.shutdown(wait=False)


def _checked_grading(
    grading: Grading, rubric: Sequence[RubricCategory], window: Sequence[Turn]
) -> Grading:
    """Every criterion scored once, 0-2; evidence only at learners' messages, quotes verbatim."""
    expected = [k.id for c in rubric for k in c.criteria]
    by_id: dict[int, CriterionScore] = {}
    for score in grading.scores:
        if score.subcategory_id in by_id or score.subcategory_id not in expected:
            raise GraderUnavailable(BAD_SCORES, status=502)
        if not isinstance(score.score, int) or isinstance(score.score, bool):
            raise GraderUnavailable(BAD_SCORES, status=502)
        if score.score not in (0, 1, 2):
            raise GraderUnavailable(BAD_SCORES, status=502)
        by_id[score.subcategory_id] = score
    if set(by_id) != set(expected):
        raise GraderUnavailable(BAD_SCORES, status=502)
    learner = {i for i, t in enumerate(window) if t.role == "user"}
    cleaned = []
    for criterion_id in expected:
        score = by_id[criterion_id]
        indices = sorted({i for i in score.message_indices if i in learner})
        quotes = [
            q
            for q in dict.fromkeys(score.quotes)
            if isinstance(q, str) and q.strip() and any(q in window[i].content for i in indices)
        ]
        cleaned.append(replace(score, message_indices=tuple(indices), quotes=tuple(quotes)))
    return replace(grading, scores=tuple(cleaned))


# ------------------------------------------------------------------ the two routes


def _language(activity: Activity) -> str:
    return (activity.character.language if activity.character else None) or "en"


def _store(
    *,
    kind: str,
    user: User,
    activity: Activity,
    conversation: Conversation | None,
    transcript: Sequence[Turn],
    rubric: list,
    grading: Grading | QuestionGrading,
    result: dict,
    total_score: int,
    passed: bool,
) -> Assessment:
    if conversation is None:
        conversation = selectors.conversation_matching(
            user=user, activity=activity, transcript=transcript
        )
    return Assessment.objects.create(
        kind=kind,
        conversation=conversation,
        activity=activity,
        activity_ref=activity.pk,
        rubric=rubric,
        transcript=[{"role": t.role, "content": t.content} for t in transcript],
        engine=grading.engine,
        model=grading.model,
        prompt_version=grading.prompt_version,
        raw_result=grading.raw,
        result=result,
        total_score=total_score,
        passed=passed,
        requested_by=user,
        requested_by_name=user.get_username(),
    )


def rubric_assessment_create(
    *,
    user: User,
    activity_id: int,
    thread_id: str | None = None,
    messages: Sequence[Any] | None = None,
) -> Assessment:
    """Grade a transcript against the activity's categories and store the attempt."""
    from practice.engines import get_grader_engine

    activity = conversation_selectors.activity_get(activity_id=activity_id)
    transcript, conversation = _transcript(user=user, thread_id=thread_id, messages=messages)
    rubric = selectors.activity_rubric(activity=activity)
    grader = get_grader_engine()
    if not rubric:
        result = {"categories": [], "overall": {"total_score": 0, "passed": True}}
        grading = Grading(scores=(), engine=grader.name, model="", prompt_version="")
    else:
        _check_minimum(transcript)
        window = transcript[-WINDOW:]
        language = _language(activity)
        grading = _call(lambda: grader.assess(rubric, window, language=language))
        grading = _checked_grading(grading, rubric, window)
        result = compose_result(rubric, grading)
    with transaction.atomic():
        return _store(
            kind=Assessment.Kind.RUBRIC,
            user=user,
            activity=activity,
            conversation=conversation,
            transcript=transcript,
            rubric=selectors.rubric_snapshot(rubric),
            grading=grading,
            result=result,
            total_score=result["overall"]["total_score"],
            passed=result["overall"]["passed"],
        )


def _checked_questions(grading: QuestionGrading, questions: Sequence[str]) -> list[dict]:
    if len(grading.evaluations) != len(questions):
        raise GraderUnavailable(BAD_SCORES, status=502)
    evaluations = []
    for question, evaluation in zip(questions, grading.evaluations, strict=True):
        score = evaluation.score
        if isinstance(score, bool) or score not in (0, 1, 2):
            raise GraderUnavailable(BAD_SCORES, status=502)
        if not isinstance(evaluation.feedback, str) or not evaluation.feedback.strip():
            raise GraderUnavailable(BAD_SCORES, status=502)
        evaluations.append({"question": question, "score": score, "feedback": evaluation.feedback})
    return evaluations


def rubric_responses_create(
    *,
    user: User,
    activity_id: int,
    thread_id: str | None = None,
    messages: Sequence[Any] | None = None,
) -> Assessment:
    """Evaluate a transcript against the rubric questions of the activity's scenario.

    Stored like an assessment: ``total_score`` is the sum of the scores and ``passed`` means
    every question was fully met (2), as there is no pass mark for questions."""
    from practice.engines import get_grader_engine

    activity = conversation_selectors.activity_get(activity_id=activity_id)
    transcript, conversation = _transcript(user=user, thread_id=thread_id, messages=messages)
    questions = selectors.activity_questions(activity=activity)
    texts = [q.question or "" for q in questions]
    grader = get_grader_engine()
    if not questions:
        grading = QuestionGrading(evaluations=(), engine=grader.name, model="", prompt_version="")
        evaluations: list[dict] = []
    else:
        _check_minimum(transcript)
        window = transcript[-WINDOW:]
        language = _language(activity)
        grading = _call(lambda: grader.evaluate_questions(texts, window, language=language))
        evaluations = _checked_questions(grading, texts)
    with transaction.atomic():
        return _store(
            kind=Assessment.Kind.QUESTIONS,
            user=user,
            activity=activity,
            conversation=conversation,
            transcript=transcript,
            rubric=[{"id": q.pk, "question": q.question} for q in questions],
            grading=grading,
            result={"evaluations": evaluations},
            total_score=sum(e["score"] for e in evaluations),
            passed=all(e["score"] == 2 for e in evaluations),
        )
