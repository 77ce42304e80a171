"""Threads, messages, runs and the context preview of the Flask contract (SPEC-practice §4).

Thin: each endpoint parses, calls one selector or service, describes itself for the audit log
(the middleware writes one event per call, refusals included: a call refused before the
endpoint runs is recorded under its route name, ``api.practice.<action>``) and returns.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Status

from audit.services import audit_note
from practice.contract.auth import instructor_auth, learner_auth
from practice.conversations import selectors, services
from practice.conversations.context import context_preview_get
from practice.conversations.schemas import (
    ContextPreviewOut,
    ContextPreviewQuery,
    MessageCreatedOut,
    MessageIn,
    MessageOut,
    RunIn,
    RunOut,
    RunStatusQuery,
    ThreadIn,
    ThreadOut,
)
from practice.models import Message, Run

router = Router(tags=["conversations"])

CONVERSATION = "practice_conversation"


def _epoch_ms(message: Message) -> int:
    return int(message.created_at.timestamp() * 1000)


@router.post(
    "/threads", response={201: ThreadOut}, url_name="practice.thread_create", auth=learner_auth
)
def thread_create(request: HttpRequest, payload: ThreadIn | None = None) -> Status:
    payload = payload or ThreadIn()
    audit_note(request, action="practice.thread_create", object_type=CONVERSATION)
    conversation = services.conversation_create(
        user=request.auth, scenario_id=payload.scenario_id, activity_id=payload.activity_id
    )
    audit_note(
        request,
        object_ids=[conversation.thread_id],
        detail={"scenario_id": conversation.scenario_id, "activity_id": conversation.activity_id},
    )
    return Status(201, {"thread_id": conversation.thread_id})


@router.post(
    "/threads/{tid}/messages",
    response={201: MessageCreatedOut},
    url_name="practice.message_add",
    auth=learner_auth,
)
def message_create(request: HttpRequest, tid: str, payload: MessageIn) -> Status:
    audit_note(request, action="practice.message_add", object_type=CONVERSATION, object_ids=[tid])
    message = services.message_add(
        user=request.auth, thread_id=tid, role=payload.role, content=payload.content
    )
    audit_note(request, detail={"index": message.index})
    message.refresh_from_db(fields=["created_at"])  # the database's clock set it
    return Status(
        201,
        {
            "id": message.pk,
            "role": message.role,
            "message": message.content,
            "created_at": _epoch_ms(message),
        },
    )


@router.get(
    "/threads/{tid}/messages",
    response=list[MessageOut],
    url_name="practice.message_list",
    auth=learner_auth,
)
def message_list(request: HttpRequest, tid: str) -> list[dict]:
    audit_note(request, action="practice.message_list", object_type=CONVERSATION, object_ids=[tid])
    conversation = selectors.conversation_get(thread_id=tid, user=request.auth)
    messages = [
        {"role": m.role, "message": m.content, "created_at": _epoch_ms(m)}
        for m in selectors.message_list(conversation=conversation)
    ]
    audit_note(request, result_count=len(messages))
    return messages


@router.post(
    "/threads/run", response={201: RunOut}, url_name="practice.run_create", auth=learner_auth
)
def run_create(request: HttpRequest, payload: RunIn) -> Status:
    audit_note(
        request,
        action="practice.run_create",
        object_type=CONVERSATION,
        object_ids=[payload.thread_id],
    )
    run = services.run_create(
        user=request.auth,
        thread_id=payload.thread_id,
        scenario_id=payload.scenario_id,
        activity_id=payload.activity_id,
        model=payload.model,
    )
    audit_note(request, detail={"run_id": run.run_id, "engine": run.engine, "model": run.model})
    return Status(201, {"run_id": run.run_id, "status": run.status})


@router.get("/runs/{run_id}/status", url_name="practice.run_status", auth=learner_auth)
def run_status(request: HttpRequest, run_id: str, query: Query[RunStatusQuery]) -> dict:
    audit_note(
        request,
        action="practice.run_status",
        object_type=CONVERSATION,
        object_ids=[query.thread_id],
        detail={"run_id": run_id},
    )
    run = services.run_status(user=request.auth, thread_id=query.thread_id, run_id=run_id)
    body = {"status": run.status}
    if run.status in (Run.Status.FAILED, Run.Status.EXPIRED) and run.error:
        # What the UI shows beside the failed reply (SPEC-practice §7).
        body["message"] = run.error
    return body


@router.get(
    "/context/preview",
    response=ContextPreviewOut,
    url_name="practice.context_preview",
    auth=instructor_auth,
)
def context_preview(request: HttpRequest, query: Query[ContextPreviewQuery]) -> dict:
    audit_note(request, action="practice.context_preview", object_type="practice_scenario")
    preview = context_preview_get(
        user=request.auth, activity_id=query.activity_id, scenario_id=query.scenario_id
    )
    audit_note(request, object_ids=[str(preview["scenario_id"])])
    return preview
