"""The run, cancellation, failure and recovery services, called directly (no worker process)."""

import logging
import signal
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from analysis import services
from analysis.models import AnalysisTask
from audit.models import AuditEvent
from tests.analysis.factories import AnalysisTaskFactory
from tests.factories import ReportFactory, StudyFactory, UserFactory, local

pytestmark = pytest.mark.django_db

CURRENT = (
    "FINDINGS: A 9 mm nodule in the right upper lobe. No pneumothorax. "
    "IMPRESSION: Right upper lobe nodule, larger than before."
)
PRIOR = (
    "FINDINGS: A 6 mm nodule in the right upper lobe. Small left pleural effusion. "
    "IMPRESSION: Nodule; small left effusion."
)


@pytest.fixture
def patient():
    """A patient with an earlier chest CT and the current one, each with a report."""
    prior = StudyFactory(
        exam_id="PRIOR1", medical_record_no="MRN9", order_datetime=local(2025, 1, 10, 9, 0)
    )
    current = StudyFactory(
        exam_id="CUR1", medical_record_no="MRN9", order_datetime=local(2025, 4, 10, 9, 0)
    )
    ReportFactory(report_id="RP", study=prior, content=PRIOR)
    ReportFactory(report_id="RC", study=current, content=CURRENT)
    return current


def _task(study, kind: str = "general", **kwargs) -> AnalysisTask:
    user = UserFactory(username="analyst1", role="analyst")
    return AnalysisTaskFactory(
        study=study, analysis_type=kind, created_by=user, created_by_username="analyst1", **kwargs
    )


def _fresh(task: AnalysisTask) -> AnalysisTask:
    return AnalysisTask.objects.get(pk=task.pk)


@pytest.fixture
def progress_seen(monkeypatch) -> list[int]:
    """The task's progress as stored at every checkpoint of a run."""
    seen: list[int] = []
    original = services._checkpoint

    def spy(claim, **kwargs):
        original(claim, **kwargs)
        seen.append(AnalysisTask.objects.get(pk=claim.task_id).progress)

    monkeypatch.setattr(services, "_checkpoint", spy)
    return seen


# ------------------------------------------------------------------ a run


@pytest.mark.parametrize("kind", ["general", "detailed", "comparison"])
def test_run_moves_progress_to_100_and_stores_the_result(patient, progress_seen, kind):
    task = _task(patient, kind)
    assert services.analysis_run(task_id=task.pk) == "completed"
    task = _fresh(task)
    assert (task.status, task.progress, task.attempts) == ("completed", 100, 1)
    assert progress_seen == [0, 10, 10, 30, 30, 80, 80]
    assert task.result["analysis_type"] == kind
    assert task.result["exam_id"] == "CUR1"
    assert task.started_at <= task.completed_at
    assert task.error_message == ""
    assert task.worker_id == services.worker_name()


def test_comparison_reads_the_prior_study_and_audits_both(patient):
    StudyFactory(  # another patient's earlier study is never a prior
        exam_id="OTHER", medical_record_no="MRN1", order_datetime=local(2025, 3, 1, 9, 0)
    )
    task = _task(patient, "comparison")
    services.analysis_run(task_id=task.pk)
    result = _fresh(task).result
    assert result["has_prior"] is True
    assert result["prior_exam_id"] == "PRIOR1"
    assert result["interval_days"] == 90
    event = AuditEvent.objects.get(action="analysis.run")
    assert event.object_type == "study"
    assert event.object_ids == ["CUR1", "PRIOR1"]
    assert event.outcome == "success"
    assert event.username == "analyst1"
    assert event.detail["task_id"] == task.pk
    assert event.detail["outcome"] == "completed"


def test_comparison_without_a_prior_completes_and_says_so(patient):
    task = _task(StudyFactory(medical_record_no="ALONE"), "comparison")
    assert services.analysis_run(task_id=task.pk) == "completed"
    result = _fresh(task).result
    assert result["has_prior"] is False
    assert result["prior_exam_id"] is None


def test_general_uses_the_turnaround_limit_setting(settings, monkeypatch):
    seen = {}

    def fake(study, reports, *, turnaround_limit_hours):
        seen["limit"] = turnaround_limit_hours
        return {"analysis_type": "general"}

    monkeypatch.setattr(services.nlp, "analyze_general", fake)
    settings.ANALYSIS_TURNAROUND_LIMIT_HOURS = 6.5
    task = _task(StudyFactory())
    services.analysis_run(task_id=task.pk)
    assert seen == {"limit": 6.5}


@pytest.mark.parametrize("status", ["processing", "completed", "failed", "cancelled"])
def test_run_of_a_task_that_is_not_pending_does_nothing(patient, status):
    result = {"kept": True} if status == "completed" else None
    task = _task(patient, status=status, result=result, attempts=1, progress=40)
    assert services.analysis_run(task_id=task.pk) == "skipped"
    after = _fresh(task)
    assert (after.status, after.result, after.attempts, after.progress) == (
        status,
        result,
        1,
        40,
    )
    assert not AuditEvent.objects.filter(action="analysis.run").exists()


def test_run_of_a_deleted_task_is_skipped(db):
    assert services.analysis_run(task_id="gone") == "skipped"


def test_only_one_claim_of_a_pending_task_wins(patient):
    task = _task(patient)
    first = services._claim(task.pk)
    assert first is not None
    assert first.attempt == 1
    assert services._claim(task.pk) is None


# ------------------------------------------------------------------ cancellation


@pytest.mark.parametrize("at_checkpoint", range(7))
def test_cancel_at_any_checkpoint_stops_the_run_without_a_result(
    patient, monkeypatch, at_checkpoint
):
    task = _task(patient, "comparison")
    original = services._checkpoint
    calls = []

    def cancel_then_check(claim, **kwargs):
        if len(calls) == at_checkpoint:
            services.analysis_cancel(task_id=claim.task_id, user=None)
        calls.append(kwargs)
        original(claim, **kwargs)

    monkeypatch.setattr(services, "_checkpoint", cancel_then_check)
    assert services.analysis_run(task_id=task.pk) == "stopped"
    task = _fresh(task)
    assert task.status == "cancelled"
    assert task.result is None
    assert task.progress < 100
    assert len(calls) == at_checkpoint + 1  # stopped at the first checkpoint after the cancel
    event = AuditEvent.objects.get(action="analysis.run")
    assert (event.outcome, event.detail["outcome"]) == ("failure", "stopped")


def test_cancel_racing_the_final_write_leaves_no_result(patient, monkeypatch):
    """A cancel that lands after the last checkpoint still wins: the final write is conditional."""
    task = _task(patient)
    original = services._save_result

    def cancel_first(claim, result):
        services.analysis_cancel(task_id=claim.task_id, user=None)
        original(claim, result)

    monkeypatch.setattr(services, "_save_result", cancel_first)
    assert services.analysis_run(task_id=task.pk) == "stopped"
    task = _fresh(task)
    assert (task.status, task.result) == ("cancelled", None)


def test_the_database_refuses_a_result_on_a_task_that_is_not_completed(patient):
    task = _task(patient, status="cancelled")
    with pytest.raises(IntegrityError), transaction.atomic():
        AnalysisTask.objects.filter(pk=task.pk).update(result={"late": True})


def test_run_superseded_by_recovery_stops_and_the_retry_completes(patient, monkeypatch):
    task = _task(patient)
    original = services._checkpoint
    calls = []

    def recover_midway(claim, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # the worker looks dead: its heartbeat is older than "now"
            services.analysis_recover_stale(older_than=timedelta(0))
        original(claim, **kwargs)

    monkeypatch.setattr(services, "_checkpoint", recover_midway)
    assert services.analysis_run(task_id=task.pk) == "stopped"
    assert _fresh(task).status == "pending"
    monkeypatch.setattr(services, "_checkpoint", original)
    assert services.analysis_run(task_id=task.pk) == "completed"
    task = _fresh(task)
    assert (task.status, task.attempts, task.progress) == ("completed", 2, 100)


# ------------------------------------------------------------------ failure


def test_failure_is_recorded_without_internals(patient, monkeypatch, caplog):
    def broken(study, reports):
        raise ValueError("secret patient detail in a stack trace")

    monkeypatch.setattr(services.nlp, "analyze_detailed", broken)
    task = _task(patient, "detailed")
    with caplog.at_level(logging.ERROR, logger="analysis.services"):
        assert services.analysis_run(task_id=task.pk) == "failed"
    task = _fresh(task)
    assert task.status == "failed"
    assert task.error_message == (
        "The analysis failed unexpectedly (ValueError); the details are in the worker's log."
    )
    assert task.result is None
    assert task.progress == 30
    assert task.completed_at is not None
    assert "secret patient detail" in caplog.text  # the log has it, the user does not
    event = AuditEvent.objects.get(action="analysis.run")
    assert (event.outcome, event.detail["outcome"]) == ("error", "failed")


def test_analysis_error_message_is_shown_with_its_code(patient, monkeypatch):
    def refuse(study, reports, **kwargs):
        raise services.AnalysisError("task.unknown_type", analysis_type="'magic'")

    monkeypatch.setattr(services.nlp, "analyze_general", refuse)
    task = _task(patient)
    services.analysis_run(task_id=task.pk)
    task = _fresh(task)
    assert task.error_message == "Unknown analysis type 'magic'"
    assert (task.error_code, task.error_params) == (
        "task.unknown_type",
        {"analysis_type": "'magic'"},
    )


def test_failure_after_a_cancel_keeps_the_cancel(patient, monkeypatch):
    def cancel_and_break(study, reports, **kwargs):
        services.analysis_cancel(task_id=task.pk, user=None)
        raise RuntimeError("boom")

    monkeypatch.setattr(services.nlp, "analyze_general", cancel_and_break)
    task = _task(patient)
    assert services.analysis_run(task_id=task.pk) == "stopped"
    task = _fresh(task)
    assert (task.status, task.error_message) == ("cancelled", "")


# ------------------------------------------------------------------ recovery


def _queue_entry(status: str, **kwargs) -> DBTaskResult:
    return DBTaskResult.objects.create(
        status=status,
        args_kwargs={"args": [], "kwargs": {}},
        task_path="analysis.tasks.run_analysis_task",
        backend_name="default",
        **kwargs,
    )


def test_recovery_requeues_a_task_whose_worker_died(
    patient, settings, django_capture_on_commit_callbacks
):
    settings.ANALYSIS_MAX_ATTEMPTS = 3
    long_ago = timezone.now() - timedelta(hours=1)
    dead = _queue_entry("RUNNING", started_at=long_ago)
    task = _task(
        patient,
        status="processing",
        attempts=1,
        progress=30,
        heartbeat_at=long_ago,
        started_at=long_ago,
        worker_id="host:1",
        queue_result_id=str(dead.id),
    )
    with django_capture_on_commit_callbacks(execute=True):
        recovered = services.analysis_recover_stale()
    assert recovered == {"requeued": [task.pk], "failed": [], "reenqueued": []}
    task = _fresh(task)
    assert (task.status, task.progress, task.attempts, task.worker_id) == ("pending", 0, 1, "")
    dead.refresh_from_db()
    assert dead.status == "FAILED"
    assert dead.exception_class_path == "analysis.services.WorkerLost"
    fresh_entry = DBTaskResult.objects.get(status="READY")
    assert task.queue_result_id == str(fresh_entry.id)
    assert fresh_entry.args_kwargs["kwargs"] == {"task_id": task.pk}
    event = AuditEvent.objects.get(action="analysis.recover")
    assert event.object_ids == [task.pk]
    # ... and the next worker runs it to completion.
    assert services.analysis_run(task_id=task.pk) == "completed"
    assert _fresh(task).attempts == 2


def test_recovery_fails_a_task_after_the_last_attempt(patient, settings):
    settings.ANALYSIS_MAX_ATTEMPTS = 2
    long_ago = timezone.now() - timedelta(hours=1)
    task = _task(patient, status="processing", attempts=2, heartbeat_at=long_ago)
    assert services.analysis_recover_stale()["failed"] == [task.pk]
    task = _fresh(task)
    assert task.status == "failed"
    assert task.error_message == (
        "The worker running this analysis stopped responding 2 time(s); it was not retried again."
    )
    assert task.completed_at is not None
    assert task.result is None


def test_recovery_leaves_live_tasks_alone(patient, settings):
    settings.ANALYSIS_STALE_SECONDS = 300
    now = timezone.now()
    running = _task(patient, status="processing", attempts=1, heartbeat_at=now)
    waiting_entry = _queue_entry("READY")
    waiting = AnalysisTaskFactory(
        study=patient, created_at=now - timedelta(hours=2), queue_result_id=str(waiting_entry.id)
    )
    AnalysisTask.objects.filter(pk=waiting.pk).update(updated_at=now - timedelta(hours=2))
    young = AnalysisTaskFactory(study=patient)  # just created: its enqueue may still be coming
    assert services.analysis_recover_stale() == {"requeued": [], "failed": [], "reenqueued": []}
    assert [_fresh(t).status for t in (running, waiting, young)] == [
        "processing",
        "pending",
        "pending",
    ]
    assert not AuditEvent.objects.filter(action="analysis.recover").exists()


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (None, "reenqueued"),
        ({"status": "SUCCESSFUL"}, "reenqueued"),
        ({"status": "RUNNING", "started_at_ago": timedelta(hours=1)}, "reenqueued"),
        ({"status": "FAILED", "exception_class_path": "builtins.SystemExit"}, "reenqueued"),
        ({"status": "FAILED", "exception_class_path": "builtins.ImportError"}, "failed"),
    ],
)
def test_recovery_of_a_pending_task_without_a_live_queue_entry(patient, entry, expected):
    queue_id = ""
    if entry is not None:
        entry = dict(entry)
        ago = entry.pop("started_at_ago", None)
        if ago is not None:
            entry["started_at"] = timezone.now() - ago
        queue_id = str(_queue_entry(**entry).id)
    task = AnalysisTaskFactory(study=patient, queue_result_id=queue_id)
    AnalysisTask.objects.filter(pk=task.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    recovered = services.analysis_recover_stale()
    assert recovered[expected] == [task.pk]
    task = _fresh(task)
    if expected == "failed":
        assert task.status == "failed"
        assert task.error_message == (
            "The task queue could not run this analysis; the details are in its log."
        )
        assert (task.error_code, task.error_params) == ("task.queue_failed", {})
    else:
        assert task.status == "pending"
        new_entry = DBTaskResult.objects.get(id=task.queue_result_id)
        assert new_entry.status == "READY"


def test_recover_command_prints_what_it_did(patient, capsys):
    long_ago = timezone.now() - timedelta(hours=1)
    task = _task(patient, status="processing", attempts=1, heartbeat_at=long_ago)
    call_command("recover_analysis_tasks", "--older-than", "60")
    assert capsys.readouterr().out.splitlines() == [
        f"requeued: 1 ({task.pk})",
        "failed: 0",
        "reenqueued: 0",
    ]


# ------------------------------------------------------------------ the worker command


@pytest.fixture
def restore_signals() -> Iterator[None]:
    """db_worker installs its own SIGINT/SIGTERM handlers; give the test process its own back."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.mark.django_db(transaction=True)  # the worker loop closes connections between tasks
def test_worker_command_recovers_then_runs_the_queue(patient, restore_signals):
    """In-process, with --batch: the subprocess tests in test_worker.py show the real thing."""
    created = [
        services.analysis_create(exam_id="CUR1", analysis_type=kind)
        for kind in ("general", "comparison")
    ]
    long_ago = timezone.now() - timedelta(hours=1)
    abandoned = _task(patient, status="processing", attempts=1, heartbeat_at=long_ago)
    call_command(
        "run_analysis_worker",
        "--batch",
        "--no-startup-delay",
        "--interval",
        "0",
        "--recovery-interval",
        "0.05",
        verbosity=0,
    )
    for task in [*created, abandoned]:
        task = _fresh(task)
        assert (task.status, task.progress) == ("completed", 100)
    assert _fresh(abandoned).attempts == 2
