"""The two assessment routes of the Flask contract (SPEC-practice §4 "Assessment")."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from ninja import Router

from audit.services import audit_note
from practice.assessment import services
from practice.assessment.schemas import AssessmentIn
from practice.contract.auth import learner_auth
from practice.models import Assessment

router = Router(tags=["assessments"])

ASSESSMENT = "practice_assessment"


def _assessed(
    request: HttpRequest,
    activity_id: int,
    payload: AssessmentIn,
    *,
    action: str,
    create: Callable[..., Assessment],
) -> dict:
    """Both routes: note the request, grade through the service, describe the result."""
    audit_note(
        request,
        action=action,
        object_type=ASSESSMENT,
        detail={"activity_id": activity_id, "thread_id": payload.thread_id},
    )
    assessment = create(
        user=request.auth,
        activity_id=activity_id,
        thread_id=payload.thread_id,
        messages=payload.messages,
    )
    audit_note(
        request,
        object_ids=[str(assessment.pk)],
        detail={
            "activity_id": assessment.activity_ref,
            "thread_id": assessment.conversation.thread_id if assessment.conversation else None,
            "engine": assessment.engine,
            "total_score": assessment.total_score,
        },
    )
    return assessment.result


@router.post(
    "/activities/{activity_id}/rubric_assessment",
    auth=learner_auth,
    url_name="practice.assessment",
)
def rubric_assessment(request: HttpRequest, activity_id: int, payload: AssessmentIn) -> dict:
    return _assessed(
        request,
        activity_id,
        payload,
        action="practice.assessment",
        create=services.rubric_assessment_create,
    )


# The path's id is an activity's: a quirk of the frontend, kept as is.
@router.post(
    "/scenarios/{activity_id}/rubric_responses",
    auth=learner_auth,
    url_name="practice.rubric_responses",
)
def rubric_responses(request: HttpRequest, activity_id: int, payload: AssessmentIn) -> dict:
    return _assessed(
        request,
        activity_id,
        payload,
        action="practice.rubric_responses",
        create=services.rubric_responses_create,
    )
