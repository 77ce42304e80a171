"""Writes of conversations: threads, learners' messages, runs and the worker's replies.

How a reply is made (SPEC-practice §4, §7):

- ``message_add`` stores the learner's message at once, before any model is called, so that
  nothing the learner wrote is lost whatever the model does later.
- ``run_create`` checks the contract's rules (ties of the thread to its activity and scenario,
  one run at a time, the last message is the learner's), inserts a ``queued`` run and, once that
  commits, enqueues ``practice.conversations.tasks.produce_reply_task``. No model is called in
  the request.
- ``run_produce`` (in the worker) claims the run with one conditional UPDATE (queued ->
  in_progress), calls the patient engine outside any transaction, then stores the reply and
  completes the run in one transaction that is again conditional on ``in_progress``: a run that
  expired meanwhile stores nothing, and a queue entry delivered twice finds its run no longer
  queued, so an assistant message is never written twice. An engine error ends the run
  ``failed`` with the engine's message; the learner's message stays, and a new run on the same
  thread (the retry) continues the conversation.
- ``runs_expire_overdue`` ends as ``expired`` every run still queued or in progress
  ``PRACTICE_RUN_EXPIRY_SECONDS`` after it was requested (its worker died or none is running).
  It is applied where a run's state matters: on every status read, before a new run of the
  thread is checked against the one-run-at-a-time rule, by the worker before it starts a run,
  and periodically by every worker's recovery loop (``run_analysis_worker``). So a run never
  stays ``in_progress`` for ever, even with no worker left.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from accounts.models import User
from audit.services import audit_record
from core.errors import Conflict, DomainError, Forbidden, NotFound
from practice.conversations import selectors
from practice.conversations.context import patient_context
from practice.engines.base import EngineError, PatientContext, Reply, Turn
from practice.models import Activity, Conversation, Message, Run, Scenario

logger = logging.getLogger("practice.runs")

ACTIVE = (Run.Status.QUEUED, Run.Status.IN_PROGRESS)

ONLY_USER_ROLE = 'Invalid role: only "user" messages can be added'
NOT_YOUR_THREAD = "You cannot write into another user's thread"
RUN_ACTIVE = "A run of this thread is already queued or in progress"
LAST_NOT_LEARNER = "The thread's last message is not the learner's"
OTHER_ACTIVITY = "This thread belongs to another activity"
OTHER_SCENARIO = "This thread belongs to another scenario"
NO_SCENARIO = "Missing fields"
UNKNOWN_MODEL = "Unknown model: {model}"
EXPIRED = "The patient did not reply within {seconds:g} s; please try again."
UNEXPECTED = "The patient could not reply (unexpected error: {name}); please try again."
EMPTY_REPLY = "The patient model returned an empty reply; please try again."


class BadRequest(DomainError):
    """400 in the contract's shape (core.errors has 400 as its base status)."""


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


# ------------------------------------------------------------------ threads and messages


def _practice_target(
    *, user: User, scenario_id: int | None, activity_id: int | None
) -> tuple[Scenario | None, Activity | None]:
    """The scenario and activity a request names; an activity's character is the scenario and
    a ``scenario_id`` beside it is ignored (SPEC-practice §4)."""
    if activity_id is not None:
        activity = selectors.activity_get(activity_id=activity_id)
        if activity.character_id is None:
            raise NotFound(selectors.SCENARIO_NOT_FOUND)
        scenario = selectors.scenario_get(scenario_id=activity.character_id, user=user)
        return scenario, activity
    if scenario_id is not None:
        return selectors.scenario_get(scenario_id=scenario_id, user=user), None
    return None, None


@transaction.atomic
def conversation_create(
    *, user: User, scenario_id: int | None = None, activity_id: int | None = None
) -> Conversation:
    """A new thread owned by ``user``, tied now to what it names (or later by its first run)."""
    scenario, activity = _practice_target(
        user=user, scenario_id=scenario_id, activity_id=activity_id
    )
    return Conversation.objects.create(
        thread_id=_new_id("thread"), user=user, scenario=scenario, activity=activity
    )


def _check_writer(conversation: Conversation, user: User) -> None:
    # An instructor reads every thread but speaks only in their own.
    if conversation.user_id != user.pk:
        raise Forbidden(NOT_YOUR_THREAD)


def _append(conversation: Conversation, *, index: int | None = None, **fields: object) -> Message:
    """Insert at the next index (``index``, when the caller has just read the last one). The
    caller holds the conversation's row lock (PostgreSQL); on SQLite the write lock serialises
    writers, and the unique (conversation, index) constraint catches anything else."""
    if index is None:
        last = Message.objects.filter(conversation=conversation).aggregate(m=Max("index"))["m"]
        index = 0 if last is None else last + 1
    message = Message.objects.create(conversation=conversation, index=index, **fields)
    Conversation.objects.filter(pk=conversation.pk).update(updated_at=timezone.now())
    return message


@transaction.atomic
def message_add(*, user: User, thread_id: str, role: str, content: str) -> Message:
    """Store a learner's message (before any model is called)."""
    conversation = selectors.conversation_get(thread_id=thread_id, user=user, for_update=True)
    _check_writer(conversation, user)
    if role != Message.Role.USER:
        raise BadRequest(ONLY_USER_ROLE)
    return _append(conversation, role=Message.Role.USER, content=content)


# ------------------------------------------------------------------ runs (the request)


def _allowed_model(model: str | None) -> str:
    if model is None or model == "":
        return ""
    if model not in settings.PRACTICE_ALLOWED_MODELS:
        raise BadRequest(UNKNOWN_MODEL.format(model=model))
    return model


def run_create(
    *,
    user: User,
    thread_id: str,
    scenario_id: int | None = None,
    activity_id: int | None = None,
    model: str | None = None,
) -> Run:
    """Queue the patient's next reply; the worker produces it. Refusals change nothing."""
    model = _allowed_model(model)
    # Expired runs are closed first (own transaction): a run whose worker died must not block
    # the learner's retry with a 409.
    conversation = selectors.conversation_get(thread_id=thread_id, user=user)
    runs_expire_overdue(conversation=conversation)
    try:
        with transaction.atomic():
            run = _run_insert(
                user=user,
                thread_id=thread_id,
                scenario_id=scenario_id,
                activity_id=activity_id,
                model=model,
            )
    except IntegrityError:
        # Another request queued a run of this thread between our check and our insert.
        raise Conflict(RUN_ACTIVE) from None
    transaction.on_commit(partial(_enqueue, run.run_id), robust=True)
    return run


def _run_insert(
    *,
    user: User,
    thread_id: str,
    scenario_id: int | None,
    activity_id: int | None,
    model: str,
) -> Run:
    conversation = selectors.conversation_get(thread_id=thread_id, user=user, for_update=True)
    _check_writer(conversation, user)
    scenario, activity = _practice_target(
        user=user, scenario_id=scenario_id, activity_id=activity_id
    )
    if scenario is None:
        # Neither named: the thread's own ties (still checked for a disabled scenario).
        if conversation.scenario_id is None:
            raise BadRequest(NO_SCENARIO)
        scenario = selectors.scenario_get(scenario_id=conversation.scenario_id, user=user)
        activity = conversation.activity
    _check_ties(conversation, scenario, activity)

    if Run.objects.filter(conversation=conversation, status__in=ACTIVE).exists():
        raise Conflict(RUN_ACTIVE)
    last = Message.objects.filter(conversation=conversation).order_by("-index").first()
    if last is None or last.role != Message.Role.USER:
        raise Conflict(LAST_NOT_LEARNER)

    # The first run ties a thread created with {}; an activity may join a scenario-only tie.
    changed = {}
    if conversation.scenario_id is None:
        changed["scenario"] = scenario
    if activity is not None and conversation.activity_id is None:
        changed["activity"] = activity
    if changed:
        for key, value in changed.items():
            setattr(conversation, key, value)
        conversation.save(update_fields=[*changed, "updated_at"])

    engine = settings.PRACTICE_PATIENT_ENGINE
    if not model and engine == "openai":
        model = settings.OPENAI_MODEL
    return Run.objects.create(
        run_id=_new_id("run"),
        conversation=conversation,
        status=Run.Status.QUEUED,
        engine=engine,
        model=model,
        requested_by=user,
        after_index=last.index,
    )


def _check_ties(conversation: Conversation, scenario: Scenario, activity: Activity | None) -> None:
    """409 when the request names another activity or scenario than the thread's."""
    if activity is not None:
        if conversation.activity_id is not None and conversation.activity_id != activity.pk:
            raise Conflict(OTHER_ACTIVITY)
        if conversation.scenario_id is not None and conversation.scenario_id != scenario.pk:
            raise Conflict(OTHER_SCENARIO)
    elif conversation.scenario_id is not None and conversation.scenario_id != scenario.pk:
        raise Conflict(OTHER_SCENARIO)


def _enqueue(run_id: str) -> None:
    # Imported here: tasks imports this module.
    from practice.conversations.tasks import produce_reply_task

    queued = produce_reply_task.enqueue(run_id=run_id)
    Run.objects.filter(run_id=run_id).update(queue_result_id=str(queued.id))


def run_status(*, user: User, thread_id: str, run_id: str) -> Run:
    """A run of a thread the user may read, expired first if its time is up."""
    conversation = selectors.conversation_get(thread_id=thread_id, user=user)
    run = selectors.run_get(run_id=run_id, conversation=conversation)
    if run.status in ACTIVE and runs_expire_overdue(run=run):
        run.refresh_from_db()
    return run


# ------------------------------------------------------------------ runs (the worker)


def run_produce(*, run_id: str) -> str:
    """Produce one run's reply if it is still queued. Returns ``completed``, ``failed``,
    ``expired`` (too late), ``stopped`` (expired while the model was answering) or
    ``skipped`` (no longer queued: a second delivery of the same queue entry)."""
    run = Run.objects.filter(run_id=run_id).first()
    if run is None:
        return "skipped"
    if runs_expire_overdue(run=run):
        return "expired"
    now = timezone.now()
    claimed = Run.objects.filter(pk=run.pk, status=Run.Status.QUEUED).update(
        status=Run.Status.IN_PROGRESS, started_at=now
    )
    if not claimed:
        return "skipped"
    run = Run.objects.select_related("conversation__scenario", "requested_by").get(pk=run.pk)
    conversation = run.conversation
    reply = None
    error = ""
    try:
        reply = _reply(run)
    except EngineError as exc:
        error = exc.message
    except Exception as exc:  # the worker must end the run whatever the engine does
        logger.exception("Run %s: the patient engine failed", run_id)
        error = UNEXPECTED.format(name=type(exc).__name__)
    if reply is not None:
        outcome = "completed" if _complete(run, reply) else "stopped"
    else:
        outcome = "failed" if _fail(run, error) else "stopped"
    logger.info("Run %s: %s", run_id, outcome)
    audit_record(
        action="practice.run",
        outcome={"completed": "success", "failed": "error"}.get(outcome, "failure"),
        user=run.requested_by,
        object_type="conversation",
        object_ids=[conversation.thread_id],
        detail={
            "run_id": run_id,
            "outcome": outcome,
            "engine": run.engine,
            "model": reply.model if reply else run.model,
            "error": error,
        },
    )
    return outcome


def _reply(run: Run) -> Reply:
    from practice.engines import get_patient_engine

    scenario = run.conversation.scenario
    if scenario is None:
        raise EngineError("This thread has no scenario to play")
    transcript = [
        Turn(role=m.role, content=m.content)
        for m in Message.objects.filter(
            conversation=run.conversation, index__lte=run.after_index
        ).order_by("index")
    ]
    engine = get_patient_engine(run.engine or None)
    if run.model and hasattr(engine, "with_model"):
        engine = engine.with_model(run.model)
    reply = engine.reply(patient_context(scenario=scenario), transcript)
    if not reply.text or not reply.text.strip():
        raise EngineError(EMPTY_REPLY)
    return reply


def _complete(run: Run, reply: Reply) -> bool:
    """Store the reply and complete the run together, or neither (the run expired)."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=run.conversation_id)
        done = Run.objects.filter(pk=run.pk, status=Run.Status.IN_PROGRESS).update(
            status=Run.Status.COMPLETED, finished_at=timezone.now()
        )
        if not done:
            return False
        _append(
            conversation,
            role=Message.Role.ASSISTANT,
            content=reply.text,
            engine=reply.engine,
            model=reply.model,
            prompt_version=reply.prompt_version,
        )
    return True


def _fail(run: Run, error: str) -> bool:
    return bool(
        Run.objects.filter(pk=run.pk, status=Run.Status.IN_PROGRESS).update(
            status=Run.Status.FAILED, error=error, finished_at=timezone.now()
        )
    )


def runs_expire_overdue(
    *, conversation: Conversation | None = None, run: Run | None = None
) -> list[str]:
    """End as ``expired`` the overdue runs (of one conversation, one run, or all). Every change
    is conditional, so workers and requests may do this at once."""
    seconds = float(settings.PRACTICE_RUN_EXPIRY_SECONDS)
    now = timezone.now()
    overdue = Run.objects.filter(status__in=ACTIVE, created_at__lt=now - timedelta(seconds=seconds))
    if conversation is not None:
        overdue = overdue.filter(conversation=conversation)
    if run is not None:
        overdue = overdue.filter(pk=run.pk)
    expired: list[str] = []
    for pk, run_id, queue_id, thread_id, user_id, status in overdue.values_list(
        "pk",
        "run_id",
        "queue_result_id",
        "conversation__thread_id",
        "requested_by",
        "status",
    ):
        # The run and its queue row change together: nobody sees one without the other.
        with transaction.atomic():
            done = Run.objects.filter(pk=pk, status__in=ACTIVE).update(
                status=Run.Status.EXPIRED,
                error=EXPIRED.format(seconds=seconds),
                finished_at=now,
            )
            if done:
                _close_queue_entry(queue_id)
        if not done:
            continue
        expired.append(run_id)
        audit_record(
            action="practice.run_expire",
            outcome="failure",
            user=User.objects.filter(pk=user_id).first() if user_id else None,
            object_type="conversation",
            object_ids=[thread_id],
            detail={"run_id": run_id, "was": status},
        )
    return expired


def _close_queue_entry(result_id: str) -> None:
    """django-tasks-db never learns that a worker died: its row would stay RUNNING."""
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    if result_id:
        DBTaskResult.objects.filter(
            Q(status=TaskResultStatus.RUNNING) | Q(status=TaskResultStatus.READY), id=result_id
        ).update(
            status=TaskResultStatus.FAILED,
            finished_at=timezone.now(),
            exception_class_path="practice.conversations.services.RunExpired",
            traceback="The run expired before its reply was stored.",
        )


_WARM_UP_CASE = {
    "opening": "Hello.",
    "unknown_answer": "I don't know.",
    "empathy_answer": "Thank you.",
    "facts": [{"topic": "onset", "answer": "Yesterday.", "volunteer": False}],
}


def patient_engine_warm_up() -> None:
    """Build the scripted patient once when a worker starts: its vocabulary takes a moment to
    compile (once per process), which the first learner after a restart would otherwise wait
    for. Other engines need no warming (a model server is not called for this)."""
    from practice.engines import get_patient_engine

    if settings.PRACTICE_PATIENT_ENGINE != "scripted":
        return
    context = PatientContext(scenario_id=None, scenario_text="", case=_WARM_UP_CASE)
    get_patient_engine().reply(context, [Turn(role="user", content="Hello, when did it start?")])
