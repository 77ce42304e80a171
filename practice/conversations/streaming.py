"""Replies streamed to the web UI (SPEC-practice §5): produced in the web process as they are
sent, unlike the contract's runs, which the worker produces.

``stream_start`` checks everything that can be refused with a status code (who may write, the
thread's scenario, no run of the thread under way, the last message the learner's) and stores
the learner's message first; ``stream_events`` then yields Server-Sent Events while the patient
engine produces the reply, and stores the reply once, whole, at the end: a reply that failed
half-way leaves the learner's message and nothing else, and a retry (``stream_start`` with no
new message) answers the same message again.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass

from django.db import transaction

from accounts.models import User
from audit.services import audit_record
from core.errors import Conflict
from practice.conversations import selectors
from practice.conversations.context import patient_context
from practice.conversations.services import (
    ACTIVE,
    LAST_NOT_LEARNER,
    RUN_ACTIVE,
    _append,
    _check_writer,
    runs_expire_overdue,
)
from practice.engines.base import EngineError, PatientContext, Turn
from practice.models import Conversation, Message, Run

logger = logging.getLogger("practice.stream")

NO_SCENARIO_TO_PLAY = "This conversation has no scenario to play"
STREAM_FAILED = "The patient could not reply; your message is saved. Please try again."

# A model server sends a reply in many small pieces (one every ~50 ms at a usual pace); each
# event out costs the web process about as much as reading the piece did. The first piece goes
# out at once; after it, what came within this interval goes out together: a person reading
# the reply as it appears does not see the difference, and a class of learners costs the
# server fewer events.
EVENT_INTERVAL_SECONDS = 0.1


@dataclass(frozen=True)
class StreamPlan:
    conversation_id: int
    thread_id: str
    user_id: int
    context: PatientContext
    transcript: tuple[Turn, ...]
    answers_index: int  # the learner message the reply answers
    stored: Message | None  # the learner message stored by this request, if any


def sse(event: str, data: dict) -> bytes:
    """One Server-Sent Event frame."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


@transaction.atomic
def stream_start(*, user: User, thread_id: str, content: str | None) -> StreamPlan:
    """Refuse what cannot be answered; store the learner's message (``content``), if any."""
    conversation = selectors.conversation_get(thread_id=thread_id, user=user, for_update=True)
    _check_writer(conversation, user)
    if conversation.scenario is None:
        raise Conflict(NO_SCENARIO_TO_PLAY)
    # A run of the contract under way would answer the same message: one reply at a time.
    active = list(Run.objects.filter(conversation=conversation, status__in=ACTIVE))
    for run in active:
        runs_expire_overdue(run=run)
    if active and Run.objects.filter(conversation=conversation, status__in=ACTIVE).exists():
        raise Conflict(RUN_ACTIVE)
    messages = list(selectors.message_list(conversation=conversation))
    stored = None
    if content is not None:
        index = messages[-1].index + 1 if messages else 0
        stored = _append(conversation, index=index, role=Message.Role.USER, content=content)
        messages.append(stored)
    if not messages or messages[-1].role != Message.Role.USER:
        raise Conflict(LAST_NOT_LEARNER)
    return StreamPlan(
        conversation_id=conversation.pk,
        thread_id=conversation.thread_id,
        user_id=user.pk,
        context=patient_context(scenario=conversation.scenario),
        transcript=tuple(Turn(role=m.role, content=m.content) for m in messages),
        answers_index=messages[-1].index,
        stored=stored,
    )


def _store_reply(
    plan: StreamPlan, text: str, engine: str, model: str, version: str
) -> Message | None:
    """The reply, unless another reply answered the same message meanwhile."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=plan.conversation_id)
        last = Message.objects.filter(conversation=conversation).order_by("-index").first()
        if last is None or last.index != plan.answers_index:
            return None
        return _append(
            conversation,
            index=last.index + 1,
            role=Message.Role.ASSISTANT,
            content=text,
            engine=engine,
            model=model,
            prompt_version=version,
        )


def _release_connection() -> None:
    """Give the database connection back while the model speaks (seconds): with a class of
    learners each holding a stream, a connection held per stream would exhaust the pool or
    PostgreSQL's max_connections. Done when the connection would not outlive the request
    anyway (a pool, or no persistent connections); a persistent connection of its own thread
    stays (reconnecting every turn would cost more). Inside a transaction (tests) it stays."""
    from django.db import connection

    pooled = connection.settings_dict.get("OPTIONS", {}).get("pool")
    if (pooled or connection.settings_dict.get("CONN_MAX_AGE") == 0) and not (
        connection.in_atomic_block
    ):
        connection.close()


def stream_events(*, plan: StreamPlan, user: User) -> Iterator[bytes]:
    """``message`` (the stored learner message), ``delta`` chunks, then ``done`` with the stored
    reply, or ``error`` with a message the learner can act on."""
    from practice.engines import get_patient_engine

    if plan.stored is not None:
        yield _message_event(plan)
    engine = get_patient_engine()
    _release_connection()
    parts: list[str] = []
    error = ""
    try:
        for text in _gathered(engine.stream(plan.context, plan.transcript), parts):
            yield sse("delta", {"text": text})
    except Exception as exc:  # a stream must end with an event the page understands
        error = _failure(exc, plan)
    yield _finish(plan, user, engine, "".join(parts), error)


class _Gathering:
    """The flush rule, written once for the synchronous and the asynchronous stream: the first
    piece goes out at once, then what came within ``EVENT_INTERVAL_SECONDS`` goes out together.
    Each piece is also appended to ``parts`` as it comes (what a failure keeps is what came,
    sent or not). Empty pieces are not events."""

    def __init__(self, parts: list[str]) -> None:
        self.parts = parts
        self.pending: list[str] = []
        self.due = 0.0

    def add(self, chunk: str) -> str | None:
        """The text to send now, or None while the interval since the last event runs."""
        if not chunk:
            return None
        self.parts.append(chunk)
        self.pending.append(chunk)
        now = time.monotonic()
        if now < self.due:
            return None
        self.due = now + EVENT_INTERVAL_SECONDS
        return self._take()

    def rest(self) -> str | None:
        """What is still held when the stream ends."""
        return self._take() if self.pending else None

    def _take(self) -> str:
        text = "".join(self.pending)
        self.pending.clear()
        return text


def _failure(exc: Exception, plan: StreamPlan) -> str:
    """The message of the ``error`` event: the engine's own, or a generic one (logged)."""
    if isinstance(exc, EngineError):
        return exc.message
    logger.error("Streamed reply on %s failed", plan.thread_id, exc_info=exc)
    return STREAM_FAILED


def _gathered(chunks: Iterable[str], parts: list[str]) -> Iterator[str]:
    """The engine's pieces, gathered by ``_Gathering``'s rule."""
    gathering = _Gathering(parts)
    for chunk in chunks:
        if (text := gathering.add(chunk)) is not None:
            yield text
    if (text := gathering.rest()) is not None:
        yield text


async def astream_events(*, plan: StreamPlan, user: User) -> AsyncIterator[bytes]:
    """``stream_events`` for an ASGI server: the reply is awaited on the event loop (the
    engine's ``astream``), so a held stream holds no thread; only the storing at the end runs
    in one. Django serves a synchronous iterator under ASGI by reading it whole first, which
    would send the reply in one piece at its end."""
    from asgiref.sync import sync_to_async

    from practice.engines import get_patient_engine

    if plan.stored is not None:
        yield _message_event(plan)
    engine = get_patient_engine()
    # The request's thread holds its connection until the response ends: give it back now.
    await sync_to_async(_release_connection)()
    parts: list[str] = []
    error = ""
    try:
        async for text in _agathered(_astream(engine, plan.context, plan.transcript), parts):
            yield sse("delta", {"text": text})
    except Exception as exc:  # a stream must end with an event the page understands
        error = _failure(exc, plan)
    yield await sync_to_async(_finish)(plan, user, engine, "".join(parts), error)


async def _agathered(chunks: AsyncIterator[str], parts: list[str]) -> AsyncIterator[str]:
    """``_gathered`` for an asynchronous stream."""
    gathering = _Gathering(parts)
    async for chunk in chunks:
        if (text := gathering.add(chunk)) is not None:
            yield text
    if (text := gathering.rest()) is not None:
        yield text


async def _astream(engine: object, context: PatientContext, transcript: tuple[Turn, ...]):
    """The engine's ``astream`` when it has one (the ``openai`` engine); otherwise its
    ``stream`` read in a worker thread, a chunk at a time (the scripted engine answers at
    once)."""
    astream = getattr(engine, "astream", None)
    if astream is not None:
        async for chunk in astream(context, transcript):
            yield chunk
        return
    from asgiref.sync import sync_to_async

    chunks = iter(engine.stream(context, transcript))  # type: ignore[attr-defined]
    done = object()
    while (chunk := await sync_to_async(next, thread_sensitive=False)(chunks, done)) is not done:
        yield chunk


def _message_event(plan: StreamPlan) -> bytes:
    stored: Message = plan.stored  # type: ignore[assignment]  (the callers check it is there)
    return sse("message", {"index": stored.index, "role": "user", "content": stored.content})


def _finish(plan: StreamPlan, user: User, engine: object, text: str, error: str) -> bytes:
    """Store the whole reply (unless it failed), audit, and the last event: ``done`` or
    ``error``."""
    name = getattr(engine, "name", "")
    if not error and not text.strip():
        error = STREAM_FAILED
    stored = None
    if not error:
        model = getattr(engine, "model", "") or name
        version = getattr(engine, "prompt_version", "")
        stored = _store_reply(plan, text, name, model, version)
        if stored is None:
            error = "Another reply answered this message meanwhile; reload the page."
    audit_record(
        action="practice.stream",
        outcome="success" if stored else "error",
        user=user,
        object_type="practice.conversation",
        object_ids=[plan.thread_id],
        detail={"engine": name, "error": error} if error else {"engine": name},
    )
    if stored is not None:
        return sse("done", {"index": stored.index, "role": "assistant", "content": stored.content})
    return sse("error", {"detail": error})


def try_events(*, context: PatientContext, transcript: list[Turn]) -> Iterator[bytes]:
    """An instructor's "try it" chat beside the case-sheet form: nothing is stored."""
    from practice.engines import get_patient_engine

    engine = get_patient_engine()
    parts: list[str] = []
    try:
        for text in _gathered(engine.stream(context, transcript), parts):
            yield sse("delta", {"text": text})
    except EngineError as exc:
        yield sse("error", {"detail": exc.message})
        return
    yield sse("done", {"role": "assistant", "content": "".join(parts)})
