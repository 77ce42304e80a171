"""The findings of imported reports are read by the task worker (a real
``manage.py run_analysis_worker`` process), not by the import: the import queues one reading,
the worker fills the findings table, search by finding then finds the reports."""

import json
from http import HTTPStatus
from typing import Any

import pytest
from django.core.management import call_command
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from reports.models import ReportFinding
from tests.factories import StudyFactory
from tests.ingest.test_import_reports import post
from tests.practice.workers import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SEARCH = "/api/v1/reports/search"
TASK = "reports.tasks.read_report_findings_task"


@pytest.fixture
def chest():
    return StudyFactory(exam_id="E1", exam_item="胸部CT平扫")


def _import(client, items: list[dict], **options: str) -> dict:  # noqa: ANN001
    data = json.dumps(items, ensure_ascii=False).encode()
    response = post(client, data, "reports.json", **options)
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def _ids(client, **params: Any) -> list[str]:  # noqa: ANN001
    response = client.get(SEARCH, params)
    assert response.status_code == HTTPStatus.OK, response.content
    return [item["report_id"] for item in response.json()["data"]]


def _readings() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=TASK).order_by("enqueued_at"))


def _all_done(count: int) -> bool:
    tasks = _readings()
    failed = [t for t in tasks if t.status == TaskResultStatus.FAILED]
    assert not failed, failed[0].traceback
    return len(tasks) == count and all(t.status == TaskResultStatus.SUCCESSFUL for t in tasks)


def _rows() -> list[tuple[str, str, str, float | None]]:
    return sorted(ReportFinding.objects.values_list("report_id", "key", "assertion", "max_mm"))


def test_an_import_queues_the_reading_and_the_worker_fills_the_search(
    admin_client, viewer, chest, practice_workers
):
    items = [
        {"report_id": "I1", "exam_id": "E1", "content": "右肺下叶结节，大小约10mm。", "status": "finalized"},
        {"report_id": "I2", "exam_id": "E1", "content": "双肺未见结节。", "status": "finalized"},
    ]  # fmt: skip
    assert _import(admin_client, items)["created"] == 2
    # The import returned with the reading queued, not done: until the worker has read them,
    # a search by finding answers from the reports already read (none here).
    assert [t.status for t in _readings()] == [TaskResultStatus.READY]
    assert _ids(viewer, finding="nodule") == []

    worker = practice_workers()
    wait_for(lambda: _all_done(1), "the reading of the imported reports", worker)
    assert _ids(viewer, finding="nodule", min_size_mm=8) == ["I1"]
    assert _ids(viewer, finding="nodule", assertion="absent") == ["I2"]
    assert _readings()[0].return_value == {
        "reports": 2, "findings": 2, "texts": 2, "passes": 2,
    }  # fmt: skip
    worker.stop()

    # A dry run writes nothing and queues nothing.
    items[0]["content"] = "双肺未见结节。"
    _import(admin_client, items, on_duplicate="update", dry_run="true")
    assert len(_readings()) == 1
    # A changed report: until its new version is read, it is found by its previous findings.
    assert _import(admin_client, items, on_duplicate="update")["updated"] == 1
    assert _ids(viewer, finding="nodule", min_size_mm=8) == ["I1"]

    worker = practice_workers()
    wait_for(lambda: _all_done(2), "the reading of the changed report", worker)
    assert _ids(viewer, finding="nodule") == []
    assert _ids(viewer, finding="nodule", assertion="absent") == ["I1", "I2"]
    assert _rows() == [("I1", "nodule", "absent", None), ("I2", "nodule", "absent", None)]
    assert _readings()[1].return_value["reports"] == 1  # the changed one only


def test_a_second_enqueue_while_one_waits_queues_nothing(
    admin_client, viewer, chest, practice_workers
):
    _import(admin_client, [{"report_id": "A1", "exam_id": "E1", "content": "左肺结节，约9mm。"}])
    _import(admin_client, [{"report_id": "A2", "exam_id": "E1", "content": "未见胸腔积液。"}])
    call_command("extract_report_findings", "--queue")
    assert [t.status for t in _readings()] == [TaskResultStatus.READY]

    worker = practice_workers()
    wait_for(lambda: _all_done(1), "the one reading", worker)
    assert _rows() == [("A1", "nodule", "present", 9.0), ("A2", "pleural_effusion", "absent", None)]
    assert _ids(viewer, finding="pleural_effusion", assertion="absent") == ["A2"]
    # Nothing left to read: the command finds nothing either.
    call_command("extract_report_findings")
    assert _rows() == [("A1", "nodule", "present", 9.0), ("A2", "pleural_effusion", "absent", None)]


def test_a_reading_queued_while_one_runs_is_not_done_twice(
    admin_client, viewer, chest, practice_workers
):
    first = [
        {"report_id": f"B{n}", "exam_id": "E1", "content": f"右肺结节，约{n + 5}mm。"}
        for n in range(3)
    ]
    _import(admin_client, first)
    # A slow worker: it pauses before each batch it writes, so the reading is still running
    # when the next import comes.
    slow = practice_workers(ANALYSIS_STEP_DELAY_SECONDS="3")
    wait_for(lambda: _readings()[0].status == TaskResultStatus.RUNNING, "the first reading", slow)
    changed = {"report_id": "B0", "exam_id": "E1", "content": "双肺未见结节。"}
    new = {"report_id": "B3", "exam_id": "E1", "content": "少量心包积液。"}
    _import(admin_client, [changed, new], on_duplicate="update")
    call_command("extract_report_findings", "--queue")
    assert [t.status for t in _readings()] == [TaskResultStatus.RUNNING, TaskResultStatus.READY]

    # Another worker takes the second reading while the first holds the lock: it reads nothing
    # (the running one reads, before it ends, what was imported meanwhile).
    other = practice_workers()
    wait_for(lambda: _all_done(2), "both readings", slow, other)
    running, queued = _readings()
    assert queued.return_value["reports"] == 0
    assert running.return_value["reports"] <= 5  # 3 reports, then at most the 2 written meanwhile
    assert _rows() == [
        ("B0", "nodule", "absent", None),
        ("B1", "nodule", "present", 6.0),
        ("B2", "nodule", "present", 7.0),
        ("B3", "pericardial_effusion", "present", None),
    ]
    assert _ids(viewer, finding="nodule") == ["B1", "B2"]  # one import: by report_id
