"""Every write of analysis tasks: create, cancel, run (in the worker) and recover.

How a task moves, and why it is safe with several workers, cancellation and crashes:

- ``analysis_create`` inserts the row (``pending``) and, once that commits, enqueues a
  django-tasks task (``analysis.tasks.run_analysis_task``) that calls ``analysis_run``.
- ``analysis_run`` claims the row with one conditional UPDATE (pending -> processing,
  ``attempts + 1``): of any number of workers handed the same task, exactly one wins. Every
  later write of the run (progress, heartbeat, result, failure) is again conditional on
  ``status='processing'`` and the attempt it claimed, so it silently loses to a cancel or to a
  recovery that re-queued the task. A cancel therefore stops the run at its next checkpoint and
  the run writes no result; a database constraint also forbids a result on any task that is not
  ``completed``.
- A worker killed mid-run leaves the row ``processing`` with a heartbeat that stops moving.
  ``analysis_recover_stale`` (run by every worker at start and periodically, and by
  ``manage.py recover_analysis_tasks``) re-queues it, or marks it failed after
  ``ANALYSIS_MAX_ATTEMPTS`` claims.
"""

import logging
import os
import socket
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

import nlp
from analysis import selectors
from analysis.models import ACTIVE_STATUSES, AnalysisTask, AnalysisType, TaskStatus
from analysis.schemas import AnalysisTaskIn
from audit.services import audit_note, audit_record
from core.errors import Conflict, Forbidden, NotFound
from nlp.messages import render
from studies.models import Study

logger = logging.getLogger(__name__)


class AnalysisError(Exception):
    """A failure whose message is safe and useful to show to the user: a code of
    ``nlp.messages`` and its parameters; ``str()`` is the English text."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(render(code, params))
        self.code = code
        self.params = params


class WorkerLost(Exception):
    """Recorded on the queue entry of a run whose worker died (see ``_abandon_queue_entry``)."""


# Queue entries that failed because their worker went away, not because the run failed.
_INTERRUPTED = {
    f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
    "builtins.SystemExit",
    "builtins.KeyboardInterrupt",
}


class _Stopped(Exception):
    """The run no longer owns the task (cancelled, or re-queued by recovery): stop quietly."""


# ------------------------------------------------------------------ create / cancel


@transaction.atomic
def analysis_create(
    *, exam_id: str, analysis_type: str, description: str | None = None, user: Any = None
) -> AnalysisTask:
    """A pending task for the study, queued for a worker once this transaction commits."""
    if not Study.objects.filter(pk=exam_id).exists():
        raise NotFound("Study not found")
    task = AnalysisTask.objects.create(
        study_id=exam_id,
        analysis_type=AnalysisType(analysis_type),
        description=(description or "").strip(),
        created_by=user,
        created_by_username=user.get_username() if user is not None else "",
    )
    # robust: a queue that cannot be reached must not turn a saved task into a 500; recovery
    # enqueues a pending task that has no live queue entry.
    transaction.on_commit(partial(_enqueue, task.task_id), robust=True)
    return task


def analysis_create_audited(
    request: HttpRequest, payload: AnalysisTaskIn, *, user: Any
) -> AnalysisTask:
    """``analysis_create`` for a request (API or page) whose audit note names the study and type
    before (so a refusal is recorded with them) and the new task after."""
    audit_note(
        request,
        object_type="analysis_task",
        detail={"exam_id": payload.exam_id, "analysis_type": payload.analysis_type},
    )
    task = analysis_create(
        exam_id=payload.exam_id,
        analysis_type=payload.analysis_type,
        description=payload.description,
        user=user,
    )
    audit_note(request, object_ids=[task.task_id])
    return task


CANCEL_FORBIDDEN = "Only the user who started this analysis, or an admin, may cancel it"


@transaction.atomic
def analysis_cancel(*, task_id: str, user: Any) -> AnalysisTask:
    """Cancel a pending or processing task; a running worker stops at its next checkpoint.

    ``user`` must be the task's creator or an admin (Forbidden otherwise); ``None`` is an
    operator acting outside a request (a command), who may cancel any task.
    """
    task = AnalysisTask.objects.filter(task_id=task_id).first()
    if task is None:
        raise NotFound("Analysis task not found")
    if user is not None and not task.may_be_cancelled_by(user):
        raise Forbidden(CANCEL_FORBIDDEN)
    now = timezone.now()
    cancelled = AnalysisTask.objects.filter(task_id=task_id, status__in=ACTIVE_STATUSES).update(
        status=TaskStatus.CANCELLED, completed_at=now, updated_at=now
    )
    task.refresh_from_db()
    if not cancelled:
        raise Conflict(f"Analysis task is already {task.status} and cannot be cancelled")
    return task


# ------------------------------------------------------------------ the run (in a worker)


@dataclass(frozen=True)
class _Claim:
    task_id: str
    attempt: int
    worker_id: str


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def analysis_run(*, task_id: str) -> str:
    """Run one task if it is still pending. Returns what happened: ``completed``, ``failed``,
    ``stopped`` (cancelled or taken over while running) or ``skipped`` (not pending)."""
    claim = _claim(task_id)
    if claim is None:
        logger.info("Analysis task %s is not pending; nothing to run", task_id)
        return "skipped"
    task = AnalysisTask.objects.select_related("study", "created_by").get(task_id=task_id)
    read: list[str] = [task.study_id]
    try:
        result = _execute(task, claim, read)
        _save_result(claim, result)
        outcome = "completed"
    except _Stopped:
        outcome = "stopped"
    except Exception as exc:
        logger.exception("Analysis task %s failed", task_id)
        if not isinstance(exc, AnalysisError):
            exc = AnalysisError("task.unexpected", name=type(exc).__name__)
        outcome = "failed" if _save_failure(claim, exc) else "stopped"
    logger.info("Analysis task %s attempt %s: %s", task_id, claim.attempt, outcome)
    # The worker read patient data on behalf of the requester: that is audited too.
    audit_record(
        action="analysis.run",
        outcome={"completed": "success", "failed": "error"}.get(outcome, "failure"),
        user=task.created_by,
        username=task.created_by_username,
        object_type="study",
        object_ids=read,
        detail={
            "task_id": task_id,
            "analysis_type": task.analysis_type,
            "outcome": outcome,
            "attempt": claim.attempt,
            "worker": claim.worker_id,
        },
    )
    return outcome


def _claim(task_id: str) -> _Claim | None:
    """pending -> processing, as a compare-and-swap on ``attempts``: exactly one worker wins."""
    row = (
        AnalysisTask.objects.filter(task_id=task_id, status=TaskStatus.PENDING)
        .values("attempts")
        .first()
    )
    if row is None:
        return None
    attempt = row["attempts"] + 1
    worker_id = worker_name()
    now = timezone.now()
    won = AnalysisTask.objects.filter(
        task_id=task_id, status=TaskStatus.PENDING, attempts=row["attempts"]
    ).update(
        status=TaskStatus.PROCESSING,
        attempts=attempt,
        progress=0,
        started_at=now,
        heartbeat_at=now,
        updated_at=now,
        worker_id=worker_id,
        error_message="",
        error_code="",
        error_params={},
    )
    return _Claim(task_id, attempt, worker_id) if won else None


def _owned(claim: _Claim):
    return AnalysisTask.objects.filter(
        task_id=claim.task_id, status=TaskStatus.PROCESSING, attempts=claim.attempt
    )


def _checkpoint(claim: _Claim, *, progress: int | None = None) -> None:
    """Renew the heartbeat (and move the progress) if the task is still ours, else stop."""
    # A test and diagnostic knob (ANALYSIS_STEP_DELAY_SECONDS): slows every step down so
    # that a running task can be watched, cancelled or have its worker killed.
    delay = settings.ANALYSIS_STEP_DELAY_SECONDS
    if delay and progress is None:
        time.sleep(delay)
    now = timezone.now()
    values: dict[str, Any] = {"heartbeat_at": now, "updated_at": now}
    if progress is not None:
        values["progress"] = progress
    if not _owned(claim).update(**values):
        raise _Stopped


def _execute(task: AnalysisTask, claim: _Claim, read: list[str]) -> dict:
    """The steps of a run, each behind a cancellation checkpoint; progress 10, 30, 80."""
    _checkpoint(claim)
    study = selectors.study_payload(task.study)
    reports = selectors.report_payloads(exam_id=task.study_id)
    _checkpoint(claim, progress=10)

    _checkpoint(claim)
    prior, prior_reports = None, []
    if task.analysis_type == AnalysisType.COMPARISON:
        prior = nlp.select_prior(study, selectors.prior_candidates(task.study))
        if prior is not None:
            read.append(prior["exam_id"])
            prior_reports = selectors.report_payloads(exam_id=prior["exam_id"])
    _checkpoint(claim, progress=30)

    _checkpoint(claim)
    if task.analysis_type == AnalysisType.GENERAL:
        result = nlp.analyze_general(
            study, reports, turnaround_limit_hours=settings.ANALYSIS_TURNAROUND_LIMIT_HOURS
        )
    elif task.analysis_type == AnalysisType.DETAILED:
        result = nlp.analyze_detailed(study, reports)
    elif task.analysis_type == AnalysisType.COMPARISON:
        result = nlp.analyze_comparison(study, reports, prior, prior_reports)
    else:
        raise AnalysisError("task.unknown_type", analysis_type=repr(task.analysis_type))
    _checkpoint(claim, progress=80)

    _checkpoint(claim)  # the last chance to notice a cancel before the result is written
    return result


def _save_result(claim: _Claim, result: dict) -> None:
    now = timezone.now()
    # Conditional: a cancel that commits first wins and this writes nothing.
    if not _owned(claim).update(
        status=TaskStatus.COMPLETED,
        progress=100,
        result=result,
        completed_at=now,
        updated_at=now,
        heartbeat_at=now,
    ):
        raise _Stopped


def _failure(error: AnalysisError) -> dict[str, Any]:
    """The fields of a failed task that say why, in English and as a code to translate."""
    return {"error_message": str(error), "error_code": error.code, "error_params": error.params}


def _save_failure(claim: _Claim, error: AnalysisError) -> bool:
    now = timezone.now()
    return bool(
        _owned(claim).update(
            status=TaskStatus.FAILED,
            **_failure(error),
            completed_at=now,
            updated_at=now,
            heartbeat_at=now,
        )
    )


# ------------------------------------------------------------------ the queue


def _enqueue(task_id: str) -> None:
    # Imported here: analysis.tasks imports this module.
    from analysis.tasks import run_analysis_task

    queued = run_analysis_task.enqueue(task_id=task_id)
    AnalysisTask.objects.filter(task_id=task_id).update(queue_result_id=str(queued.id))


def _queue_entry(result_id: str):
    """The django-tasks-db row of a queued run, or None."""
    from django_tasks_db.models import DBTaskResult

    if not result_id:
        return None
    return DBTaskResult.objects.filter(id=result_id).first()


def _abandon_queue_entry(result_id: str) -> None:
    """Close the queue row of a run whose worker died: django-tasks-db would leave it RUNNING."""
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    if result_id:
        DBTaskResult.objects.filter(id=result_id, status=TaskResultStatus.RUNNING).update(
            status=TaskResultStatus.FAILED,
            finished_at=timezone.now(),
            exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
            traceback="The worker stopped responding; the analysis task was recovered.",
        )


# ------------------------------------------------------------------ recovery


def analysis_recover_stale(*, older_than: timedelta | None = None) -> dict[str, list[str]]:
    """Recover tasks that a dead worker or a lost queue entry would leave stuck.

    - ``processing`` with a heartbeat older than ``older_than`` (default
      ``ANALYSIS_STALE_SECONDS``): back to ``pending`` and queued again, or ``failed`` once it
      has been claimed ``ANALYSIS_MAX_ATTEMPTS`` times.
    - ``pending`` for longer than that without a live queue entry (the enqueue after commit
      failed, or its worker died between taking the queue entry and claiming the task): queued
      again; if the queue itself failed the run, ``failed``.

    Every change is conditional, so several workers may run this at once.
    """
    stale = (
        older_than if older_than is not None else timedelta(seconds=settings.ANALYSIS_STALE_SECONDS)
    )
    now = timezone.now()
    cutoff = now - stale
    recovered: dict[str, list[str]] = {"requeued": [], "failed": [], "reenqueued": []}

    abandoned = AnalysisTask.objects.filter(status=TaskStatus.PROCESSING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True)
    )
    for task in abandoned.only("task_id", "attempts", "queue_result_id"):
        still_abandoned = AnalysisTask.objects.filter(
            Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True),
            task_id=task.task_id,
            status=TaskStatus.PROCESSING,
            attempts=task.attempts,
        )
        retry = task.attempts < settings.ANALYSIS_MAX_ATTEMPTS
        with transaction.atomic():
            if retry:
                changed = still_abandoned.update(
                    status=TaskStatus.PENDING,
                    progress=0,
                    heartbeat_at=None,
                    worker_id="",
                    updated_at=now,
                )
            else:
                changed = still_abandoned.update(
                    status=TaskStatus.FAILED,
                    **_failure(AnalysisError("task.worker_lost", attempts=task.attempts)),
                    completed_at=now,
                    updated_at=now,
                )
            if not changed:
                continue  # its worker checked in after all, or another recovery was faster
            _abandon_queue_entry(task.queue_result_id)
            if retry:
                transaction.on_commit(partial(_enqueue, task.task_id), robust=True)
            recovered["requeued" if retry else "failed"].append(task.task_id)

    waiting = AnalysisTask.objects.filter(status=TaskStatus.PENDING, updated_at__lt=cutoff)
    for task in waiting.only("task_id", "updated_at", "queue_result_id"):
        state = _queue_state(task.queue_result_id, cutoff)
        if state == "alive":
            continue
        mine = AnalysisTask.objects.filter(
            task_id=task.task_id, status=TaskStatus.PENDING, updated_at=task.updated_at
        )
        if state == "failed":
            if mine.update(
                status=TaskStatus.FAILED,
                **_failure(AnalysisError("task.queue_failed")),
                completed_at=now,
                updated_at=now,
            ):
                recovered["failed"].append(task.task_id)
        elif mine.update(updated_at=now):
            _enqueue(task.task_id)
            recovered["reenqueued"].append(task.task_id)

    if any(recovered.values()):
        logger.warning("Recovered analysis tasks: %s", recovered)
        audit_record(
            action="analysis.recover",
            outcome="success",
            username="system",
            object_type="analysis_task",
            object_ids=[i for ids in recovered.values() for i in ids],
            detail=recovered,
        )
    return recovered


def _queue_state(result_id: str, cutoff: Any) -> str:
    """``alive`` (waiting or just taken), ``failed`` (the queue failed the run) or ``lost``."""
    from django_tasks import TaskResultStatus

    entry = _queue_entry(result_id)
    if entry is None:
        return "lost"
    if entry.status == TaskResultStatus.READY:
        return "alive"
    if entry.status == TaskResultStatus.RUNNING:
        if entry.started_at is not None and entry.started_at >= cutoff:
            return "alive"
        _abandon_queue_entry(result_id)
        return "lost"
    if entry.status == TaskResultStatus.FAILED and entry.exception_class_path not in _INTERRUPTED:
        return "failed"
    # Interrupted, or finished without running it (the task was not pending then).
    return "lost"
