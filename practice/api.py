"""The product's own practice API under /api/v1/practice (SPEC-practice §5): what the Flask
service never had. Errors are ``{"detail"}`` like the rest of /api/v1. Callers authenticate
with a bearer token or, from the web UI, with the browser session and its CSRF token."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from ninja import Query, Router
from ninja.security import SessionAuth

from accounts.models import Role, User
from audit.services import audit_note
from core.errors import Forbidden
from practice.casesheet import CaseSheetError, patient_view, validate_case
from practice.contract.auth import PracticeAuth
from practice.conversations import streaming
from practice.engines.base import PatientContext, Turn
from practice.insights import selectors, services
from practice.insights.schemas import (
    AgreementOut,
    AnalyticsOut,
    AssessmentDetailOut,
    AssessmentSummaryOut,
    CaseSheetCheckOut,
    CaseSheetIn,
    ConversationDetailOut,
    ConversationSummaryOut,
    ExportParams,
    OverrideIn,
    RowId,
    StreamIn,
    Text200,
    TryIn,
)
from practice.models import Assessment, Conversation
from studies.exports import inert_csv_text


class PracticeSessionAuth(SessionAuth):
    """The web UI's session (CSRF checked on writes), with a minimum practice role."""

    def __init__(self, minimum_role: str) -> None:
        super().__init__(csrf=True)
        self.minimum_role = minimum_role

    def _get_key(self, request: HttpRequest) -> str | None:
        # Without a signed-in session there is nobody to protect from CSRF: the answer is
        # 401 (not signed in), as for a missing token, not the CSRF check's 403.
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        request.auth = user
        if not user.has_role(self.minimum_role):
            raise Forbidden("Your role does not allow this action")
        return user


def _auth(minimum_role: str) -> list:
    return [PracticeAuth(minimum_role), PracticeSessionAuth(minimum_role)]


learner = _auth(Role.LEARNER)
instructor = _auth(Role.INSTRUCTOR)
router = Router(tags=["practice"], auth=learner)


def _noted(request: HttpRequest, action: str, object_type: str, ids: list, **more: Any) -> None:
    """Describe the request's audit event: ``action`` on the rows ``ids``."""
    audit_note(request, action=action, object_type=object_type, object_ids=ids, **more)


def _noted_list(
    request: HttpRequest, action: str, object_type: str, ids: list, **more: Any
) -> None:
    """The same for a list or an export: the rows it shows, and how many."""
    _noted(request, action, object_type, ids, result_count=len(ids), **more)


def _summary(assessment: Assessment) -> dict:
    final = selectors.final_result(assessment)
    overall = final.get("overall") or {}
    overrides = list(assessment.overrides.all())
    return {
        "id": assessment.pk,
        "kind": assessment.kind,
        "activity_id": assessment.activity_ref,
        "thread_id": assessment.conversation.thread_id if assessment.conversation_id else None,
        "learner": selectors.learner_of(assessment),
        "engine": assessment.engine,
        "model": assessment.model,
        "prompt_version": assessment.prompt_version,
        "created_at": assessment.created_at,
        "total_score": overall.get("total_score", assessment.total_score),
        "passed": overall.get("passed", assessment.passed),
        "overridden": bool(overrides),
    }


def _detail(assessment: Assessment) -> dict:
    return {
        **_summary(assessment),
        "transcript": assessment.transcript,
        "automatic_result": assessment.result,
        "result": selectors.final_result(assessment),
        "overrides": [
            {
                "subcategory_id": o.subcategory_id,
                "old_score": o.old_score,
                "new_score": o.new_score,
                "reason": o.reason,
                "by": o.by_name,
                "created_at": o.created_at,
            }
            for o in assessment.overrides.all()
        ],
    }


def _conversation(conversation: Conversation, *, messages: list | None = None) -> dict:
    out = {
        "thread_id": conversation.thread_id,
        "learner": conversation.user.username,
        "scenario_id": conversation.scenario_id,
        "activity_id": conversation.activity_id,
        "created_at": conversation.created_at,
        "updated_at": conversation.updated_at,
        "message_count": getattr(conversation, "message_count", 0),
    }
    if messages is not None:
        out["messages"] = [
            {
                "index": m.index,
                "role": m.role,
                "content": m.content,
                "created_at": m.created_at,
                "engine": m.engine,
                "model": m.model,
            }
            for m in messages
        ]
    return out


@router.get("/assessments", response=list[AssessmentSummaryOut])
def assessment_list(request: HttpRequest, activity_id: RowId | None = None, learner: Text200 = ""):
    found = selectors.assessment_list(
        user=request.auth, activity_id=activity_id, learner=learner or None
    )
    _noted_list(request, "practice.assessment.list", "practice.assessment", [a.pk for a in found])
    return [_summary(a) for a in found]


@router.get("/assessments/{assessment_id}", response=AssessmentDetailOut)
def assessment_detail(request: HttpRequest, assessment_id: int):
    _noted(request, "practice.assessment.read", "practice.assessment", [assessment_id])
    return _detail(selectors.assessment_get(user=request.auth, assessment_id=assessment_id))


@router.post(
    "/assessments/{assessment_id}/overrides", response=AssessmentDetailOut, auth=instructor
)
def assessment_override(request: HttpRequest, assessment_id: int, payload: OverrideIn):
    _noted(request, "practice.assessment.override_request", "practice.assessment", [assessment_id])
    assessment = services.score_override(
        user=request.auth,
        assessment_id=assessment_id,
        subcategory_id=payload.subcategory_id,
        score=payload.score,
        reason=payload.reason,
        request=request,
    )
    return _detail(assessment)


@router.get("/conversations", response=list[ConversationSummaryOut])
def conversation_list(
    request: HttpRequest, activity_id: RowId | None = None, scenario_id: RowId | None = None
):
    found = selectors.conversation_list(
        user=request.auth, activity_id=activity_id, scenario_id=scenario_id
    )
    _noted_list(
        request, "practice.conversation.list", "practice.conversation", [c.thread_id for c in found]
    )
    return [_conversation(c) for c in found]


@router.get("/conversations/{thread_id}", response=ConversationDetailOut)
def conversation_detail(request: HttpRequest, thread_id: str):
    _noted(request, "practice.conversation.read", "practice.conversation", [thread_id])
    conversation = selectors.conversation_get(user=request.auth, thread_id=thread_id)
    return _conversation(
        conversation, messages=selectors.conversation_messages(conversation=conversation)
    )


@router.get("/activities/{activity_id}/analytics", response=AnalyticsOut, auth=instructor)
def activity_analytics(request: HttpRequest, activity_id: int):
    _noted(request, "practice.analytics", "practice.activity", [activity_id])
    return selectors.activity_analytics(activity_id=activity_id)


@router.get("/agreement", response=AgreementOut, auth=instructor)
def agreement(request: HttpRequest, activity_id: RowId | None = None):
    audit_note(request, action="practice.agreement", detail={"activity_id": activity_id})
    return selectors.agreement(activity_id=activity_id)


@router.post("/case-sheets/validate", response=CaseSheetCheckOut, auth=instructor)
def case_sheet_validate(request: HttpRequest, payload: CaseSheetIn):
    """Check a case sheet without saving it: the first problem, naming its field."""
    try:
        validate_case(payload.case)
    except CaseSheetError as exc:
        return {"valid": False, "errors": [{"path": exc.path, "message": exc.message}]}
    return {"valid": True, "errors": []}


_EXPORT_DOC = {
    "responses": {
        "200": {
            "description": "A CSV (format=csv) or JSON (format=json) attachment",
            "content": {"text/csv": {}, "application/json": {}},
        }
    }
}


def _attachment(rows: list[dict], columns: list[str], fmt: str, name: str) -> HttpResponse:
    if fmt == "json":
        body = json.dumps(rows, ensure_ascii=False, default=str, indent=1)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(
                [inert_csv_text(v) if isinstance(v, str) else v for v in (row[c] for c in columns)]
            )
        # A BOM so that spreadsheet programs read the UTF-8 (Chinese transcripts) correctly.
        response = HttpResponse(
            "\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


TRANSCRIPT_COLUMNS = [
    "thread_id", "learner", "scenario_id", "activity_id", "index", "role", "content", "created_at",
]  # fmt: skip
RESULT_COLUMNS = [
    "assessment_id", "kind", "activity_id", "thread_id", "learner", "created_at", "engine",
    "model", "prompt_version", "total_score", "passed", "overridden",
]  # fmt: skip


@router.get("/export/transcripts", response={200: None}, auth=instructor, openapi_extra=_EXPORT_DOC)
def export_transcripts(request: HttpRequest, params: Query[ExportParams]):
    conversations = selectors.transcripts_for_export(
        user=request.auth, activity_id=params.activity_id
    )
    if params.format == "json":
        rows = [_conversation(c, messages=list(c.messages.all())) for c in conversations]
    else:
        rows = [
            {
                "thread_id": c.thread_id,
                "learner": c.user.username,
                "scenario_id": c.scenario_id,
                "activity_id": c.activity_id,
                "index": m.index,
                "role": m.role,
                "content": m.content,
                "created_at": m.created_at.isoformat(),
            }
            for c in conversations
            for m in c.messages.all()
        ]
    _noted_list(
        request,
        "practice.export.transcripts",
        "practice.conversation",
        [c.thread_id for c in conversations],
        detail={"format": params.format},
    )
    return _attachment(rows, TRANSCRIPT_COLUMNS, params.format, "transcripts")


@router.get("/export/results", response={200: None}, auth=instructor, openapi_extra=_EXPORT_DOC)
def export_results(request: HttpRequest, params: Query[ExportParams]):
    found = selectors.assessment_list(user=request.auth, activity_id=params.activity_id)
    if params.format == "json":
        rows = [_detail(a) for a in found]
    else:
        rows = [
            {
                "assessment_id": s["id"],
                **{k: s[k] for k in RESULT_COLUMNS[1:] if k in s},
                "created_at": s["created_at"].isoformat(),
            }
            for s in (_summary(a) for a in found)
        ]
    _noted_list(
        request,
        "practice.export.results",
        "practice.assessment",
        [a.pk for a in found],
        detail={"format": params.format},
    )
    return _attachment(rows, RESULT_COLUMNS, params.format, "results")


_STREAM_DOC = {
    "responses": {
        "200": {
            "description": (
                "Server-Sent Events: `message` (the stored learner message), `delta` "
                "(`{text}`, a piece of the reply), then `done` (the stored reply) or `error` "
                "(`{detail}`)"
            ),
            "content": {"text/event-stream": {}},
        }
    }
}


def _event_stream(events) -> StreamingHttpResponse:
    response = StreamingHttpResponse(events, content_type="text/event-stream; charset=utf-8")
    # Proxies must pass each event on as it comes.
    response["X-Accel-Buffering"] = "no"
    return response


def _reply_events(request: HttpRequest, plan: streaming.StreamPlan):
    """The reply's events for the server at hand: under ASGI an asynchronous iterator (the
    stream holds no thread; Django would read a synchronous one whole before sending it),
    under WSGI a synchronous one (Django would read an asynchronous one whole). The view
    itself stays synchronous: its checks and writes are quick, and run in a thread either
    way."""
    if isinstance(request, ASGIRequest):
        return streaming.astream_events(plan=plan, user=request.auth)
    return streaming.stream_events(plan=plan, user=request.auth)


@router.post(
    "/conversations/{thread_id}/stream",
    response={200: None},
    url_name="practice_stream_message",
    openapi_extra=_STREAM_DOC,
)
def stream_message(request: HttpRequest, thread_id: str, payload: StreamIn):
    """Store the learner's message and stream the patient's reply as it is produced."""
    _noted(request, "practice.stream_request", "practice.conversation", [thread_id])
    plan = streaming.stream_start(user=request.auth, thread_id=thread_id, content=payload.content)
    return _event_stream(_reply_events(request, plan))


@router.post(
    "/conversations/{thread_id}/retry",
    response={200: None},
    url_name="practice_stream_retry",
    openapi_extra=_STREAM_DOC,
)
def stream_retry(request: HttpRequest, thread_id: str):
    """Answer the learner's last message again (after a failed reply), streamed."""
    _noted(request, "practice.stream_retry", "practice.conversation", [thread_id])
    plan = streaming.stream_start(user=request.auth, thread_id=thread_id, content=None)
    return _event_stream(_reply_events(request, plan))


@router.post("/try", response={200: None}, auth=instructor, openapi_extra=_STREAM_DOC)
def try_scenario(request: HttpRequest, payload: TryIn):
    """The authoring form's "try it" chat: the unsaved case sheet plays the patient; nothing
    is stored."""
    try:
        validate_case(payload.case)
    except CaseSheetError as exc:
        from core.errors import InvalidInput

        raise InvalidInput(f"{exc.path}: {exc.message}") from exc
    context = PatientContext(
        scenario_id=None,
        scenario_text=payload.scenario_text,
        language=payload.language,
        case=patient_view(payload.case) if payload.case is not None else None,
    )
    transcript = [Turn(role=m.role, content=m.content) for m in payload.messages]
    audit_note(request, action="practice.try")
    return _event_stream(streaming.try_events(context=context, transcript=transcript))
