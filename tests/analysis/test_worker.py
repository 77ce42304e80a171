"""The real worker process (`manage.py run_analysis_worker`) against the test database.

Each test starts worker subprocesses pointed at the test database through the environment
(SQLite: the test database is a file, see DB_TEST_NAME in config/settings.py; PostgreSQL: the
test database's name). Every wait is bounded, and every worker is killed in ``finally``.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django_tasks_db.models import DBTaskResult

from accounts.models import Role
from analysis.models import AnalysisTask
from audit.models import AuditEvent
from tests.factories import ReportFactory, StudyFactory, local

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TASKS = "/api/v1/analysis/tasks"
TIMEOUT = 60.0  # seconds; generous for a loaded CI machine, but never a hang


class Worker:
    """One ``run_analysis_worker`` process with its own settings and a log file."""

    def __init__(self, log: Path, **env: Any) -> None:
        self.log_path = log
        self.log = log.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "run_analysis_worker",
                "--interval",
                "0.1",
                "--no-startup-delay",
            ],
            cwd=settings.BASE_DIR,
            env=_worker_env(**env),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL: no cleanup of any kind, as when a machine or container dies."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


def _worker_env(**overrides: Any) -> dict[str, str]:
    """The parent's environment, with the database replaced by the test database."""
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        {
            "DB_ENGINE": db["ENGINE"],
            "DB_NAME": str(db["NAME"]),
            "DB_USER": db.get("USER") or "",
            "DB_PASSWORD": db.get("PASSWORD") or "",
            "DB_HOST": db.get("HOST") or "",
            "DB_PORT": str(db.get("PORT") or ""),
            "DB_CONN_MAX_AGE": "0",
            "DEBUG": "False",
            "LOG_LEVEL": "INFO",
            "ANALYSIS_STEP_DELAY_SECONDS": "0",
            "ANALYSIS_RECOVERY_INTERVAL_SECONDS": "0",
        }
    )
    env.update({k: str(v) for k, v in overrides.items()})
    return env


@pytest.fixture
def workers(tmp_path) -> Iterator[Callable[..., Worker]]:
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.fail("The worker tests need a file test database (set DB_TEST_NAME)")
    started: list[Worker] = []

    def start(**env: Any) -> Worker:
        worker = Worker(tmp_path / f"worker{len(started)}.log", **env)
        started.append(worker)
        return worker

    try:
        yield start
    finally:
        for worker in started:
            worker.stop()


def wait_for(predicate: Callable[[], Any], what: str, *watched: Worker) -> Any:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        for worker in watched:
            if worker.process.poll() is not None:
                pytest.fail(f"worker exited while waiting for {what}:\n{worker.output()}")
        time.sleep(0.02)
    logs = "\n".join(w.output() for w in watched)
    pytest.fail(f"timed out after {TIMEOUT}s waiting for {what}\n{logs}")


@pytest.fixture
def analyst(api):
    return api(Role.ANALYST, username="analyst1")


@pytest.fixture
def study():
    current = StudyFactory(exam_id="EXAM001", medical_record_no="MRN1")
    ReportFactory(
        study=current,
        content="FINDINGS: A 9 mm nodule in the right upper lobe. No pneumothorax.\n"
        "IMPRESSION: Right upper lobe nodule.",
    )
    prior = StudyFactory(
        exam_id="EXAM000", medical_record_no="MRN1", order_datetime=local(2024, 6, 1, 9, 0)
    )
    ReportFactory(study=prior, content="FINDINGS: A 6 mm nodule in the right upper lobe.")
    return current


def create(client, kind: str = "general") -> str:
    response = client.post(
        TASKS, {"exam_id": "EXAM001", "analysis_type": kind}, content_type="application/json"
    )
    assert response.status_code == HTTPStatus.CREATED, response.content
    return response.json()["task_id"]


def task(task_id: str) -> AnalysisTask:
    return AnalysisTask.objects.get(task_id=task_id)


def queue_entries(task_id: str) -> list[DBTaskResult]:
    return [
        entry
        for entry in DBTaskResult.objects.order_by("enqueued_at")
        if entry.args_kwargs["kwargs"].get("task_id") == task_id
    ]


def test_worker_runs_a_task_from_pending_to_completed(analyst, study, workers):
    task_id = create(analyst, "comparison")
    assert analyst.get(f"{TASKS}/{task_id}").json()["status"] == "pending"

    worker = workers(ANALYSIS_STEP_DELAY_SECONDS=0.3)
    seen: list[tuple[str, int]] = []

    def completed() -> bool:
        body = analyst.get(f"{TASKS}/{task_id}").json()
        if not seen or seen[-1] != (body["status"], body["progress"]):
            seen.append((body["status"], body["progress"]))
        return body["status"] == "completed"

    wait_for(completed, "the task to complete", worker)
    statuses = [status for status, _ in seen]
    assert statuses[0] == "pending"
    assert "processing" in statuses
    assert statuses[-1] == "completed"
    assert statuses.index("processing") < statuses.index("completed")
    progress = [p for _, p in seen]
    assert progress == sorted(progress)
    assert {p for s, p in seen if s == "processing"} - {0, 10, 30, 80} == set()
    assert len({p for s, p in seen if s == "processing"}) >= 2  # it moved while we watched

    body = analyst.get(f"{TASKS}/{task_id}").json()
    assert body["progress"] == 100
    assert body["result"]["analysis_type"] == "comparison"
    assert body["result"]["prior_exam_id"] == "EXAM000"
    assert body["started_at"] is not None
    assert body["completed_at"] is not None
    [entry] = queue_entries(task_id)
    wait_for(lambda: DBTaskResult.objects.get(id=entry.id).status == "SUCCESSFUL", "the queue")
    entry.refresh_from_db()
    assert entry.return_value == {"task_id": task_id, "outcome": "completed"}


def test_cancel_a_queued_task_and_a_running_one(analyst, study, workers):
    running_id = create(analyst)
    queued_id = create(analyst, "detailed")
    worker = workers(ANALYSIS_STEP_DELAY_SECONDS=1.0)
    wait_for(lambda: task(running_id).status == "processing", "the first task to start", worker)

    # The worker runs one task at a time: the second is still waiting in the queue.
    assert task(queued_id).status == "pending"
    response = analyst.delete(f"{TASKS}/{queued_id}")
    assert response.status_code == HTTPStatus.OK
    assert response.json()["status"] == "cancelled"
    response = analyst.delete(f"{TASKS}/{running_id}")
    assert response.status_code == HTTPStatus.OK
    assert response.json()["status"] == "cancelled"

    def queue_drained() -> bool:
        entries = queue_entries(running_id) + queue_entries(queued_id)
        return all(
            e.status == "SUCCESSFUL"
            for e in DBTaskResult.objects.filter(id__in=[e.id for e in entries])
        )

    wait_for(queue_drained, "the worker to finish both queue entries", worker)
    running, queued = task(running_id), task(queued_id)
    assert (running.status, running.result) == ("cancelled", None)
    assert running.progress < 100
    assert running.started_at is not None
    assert (queued.status, queued.result, queued.started_at) == ("cancelled", None, None)
    assert queue_entries(running_id)[0].return_value["outcome"] == "stopped"
    assert queue_entries(queued_id)[0].return_value["outcome"] == "skipped"
    # Cancelled for good: a task that was cancelled cannot be cancelled again.
    assert analyst.delete(f"{TASKS}/{running_id}").status_code == HTTPStatus.CONFLICT


@pytest.mark.parametrize(("max_attempts", "final_status"), [(3, "completed"), (1, "failed")])
def test_a_task_whose_worker_is_killed_does_not_stay_processing(
    analyst, study, workers, max_attempts, final_status
):
    task_id = create(analyst)
    doomed = workers(ANALYSIS_STEP_DELAY_SECONDS=1.0)
    wait_for(
        lambda: task(task_id).status == "processing" and task(task_id).progress >= 10,
        "the task to be mid-run",
        doomed,
    )
    doomed.kill()
    stuck = task(task_id)
    assert (stuck.status, stuck.attempts) == ("processing", 1)
    [entry] = queue_entries(task_id)
    assert entry.status == "RUNNING"  # django-tasks-db never learns that its worker died

    rescuer = workers(
        ANALYSIS_STALE_SECONDS=1.5,
        ANALYSIS_RECOVERY_INTERVAL_SECONDS=0.5,
        ANALYSIS_MAX_ATTEMPTS=max_attempts,
    )
    wait_for(
        lambda: task(task_id).status == final_status,
        f"the killed worker's task to end {final_status}",
        rescuer,
    )
    recovered = task(task_id)
    entry.refresh_from_db()
    assert entry.status == "FAILED"
    assert entry.exception_class_path == "analysis.services.WorkerLost"
    wait_for(
        lambda: AuditEvent.objects.filter(action="analysis.recover").exists(),
        "the recovery's audit event",
        rescuer,
    )
    if final_status == "completed":
        assert recovered.attempts == 2
        assert recovered.progress == 100
        assert recovered.result["analysis_type"] == "general"
    else:
        assert recovered.attempts == 1
        assert recovered.result is None
        assert recovered.error_message == (
            "The worker running this analysis stopped responding 1 time(s); "
            "it was not retried again."
        )


def test_two_workers_share_the_queue_without_running_a_task_twice(analyst, study, workers):
    task_ids = [create(analyst, kind) for kind in ("general", "detailed", "comparison") * 3]
    pool = [workers(ANALYSIS_STEP_DELAY_SECONDS=0.05) for _ in range(2)]
    wait_for(
        lambda: AnalysisTask.objects.filter(status="completed").count() == len(task_ids),
        "every task to complete",
        *pool,
    )
    # The queue entry is closed after the run returns (and after its audit event).
    wait_for(
        lambda: DBTaskResult.objects.filter(status="SUCCESSFUL").count() == len(task_ids),
        "the queue to drain",
        *pool,
    )
    assert sorted(AnalysisTask.objects.values_list("attempts", flat=True)) == [1] * len(task_ids)
    runs = AuditEvent.objects.filter(action="analysis.run")
    assert sorted(e.detail["task_id"] for e in runs) == sorted(task_ids)
    # Each queue entry was delivered to one worker once: none found its task already taken.
    outcomes = DBTaskResult.objects.values_list("return_value", flat=True)
    assert [o["outcome"] for o in outcomes] == ["completed"] * len(task_ids)
