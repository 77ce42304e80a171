"""A studies import that renames an examination makes its reports' findings stale (issue 24):
the examination name gives region-bound findings their region (片状高密度影 is a lung opacity
in a chest CT, a focal lesion in a head CT), so the findings are read again through the worker
queue, as after a reports import."""

import io
from http import HTTPStatus

import pytest
from django.core.management import call_command
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from reports.models import ReportFindingSource
from studies.models import Study
from tests.factories import ReportFactory, StudyFactory
from tests.ingest.helpers import HEADERS_ZH, study_row, write_csv
from tests.ingest.test_import_studies import upload

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/reports/search"
TASK = "reports.tasks.read_report_findings_task"


@pytest.fixture
def chest_report():
    row = study_row(1)
    study = StudyFactory(
        exam_id=row["检查号"], exam_item="胸部CT平扫", equipment_type="CT", exam_status="已登记"
    )
    ReportFactory(report_id="R1", study=study, content="见片状高密度影。")
    _read()
    return study


def _read() -> str:
    """The foreground reading (what the queued task does), and what it says it read."""
    out = io.StringIO()
    call_command("extract_report_findings", stdout=out)
    return out.getvalue()


def _import(client, tmp_path, captured, **overrides: str) -> dict:  # noqa: ANN001
    path = write_csv(tmp_path / "studies.csv", [study_row(1, **overrides)], HEADERS_ZH)
    with captured(execute=True):
        response = upload(client, path, on_duplicate="update")
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def _found(client, finding: str) -> list[str]:  # noqa: ANN001
    response = client.get(SEARCH, {"finding": finding})
    assert response.status_code == HTTPStatus.OK, response.content
    return [item["report_id"] for item in response.json()["data"]]


def _queued() -> list[str]:
    return list(DBTaskResult.objects.filter(task_path=TASK).values_list("status", flat=True))


def test_a_renamed_examination_queues_a_reading_that_rereads_its_reports(
    admin_client, viewer, chest_report, tmp_path, django_capture_on_commit_callbacks
):
    assert _found(viewer, "opacity") == ["R1"]
    body = _import(
        admin_client, tmp_path, django_capture_on_commit_callbacks, 检查项目="头颅CT平扫"
    )
    assert body["updated"] == 1
    assert _queued() == [TaskResultStatus.READY]
    # Until the reading, the report is found by the findings read with the old name.
    assert _found(viewer, "opacity") == ["R1"]

    assert _read().startswith("Read 1 report(s)")
    assert _found(viewer, "opacity") == []
    assert _found(viewer, "focal_lesion") == ["R1"]
    source = ReportFindingSource.objects.get(report_id="R1")
    assert (source.exam_item, source.equipment_type) == ("头颅CT平扫", "CT")
    assert _read().startswith("Read 0 report(s)")


def test_a_renamed_equipment_type_rereads_too(
    admin_client, viewer, chest_report, tmp_path, django_capture_on_commit_callbacks
):
    # No equipment: '' and NULL are the same examination name (nlp.analyses.exam_name).
    _import(admin_client, tmp_path, django_capture_on_commit_callbacks, 设备类型="")
    assert Study.objects.get(pk=chest_report.pk).equipment_type is None
    assert _read().startswith("Read 1 report(s)")
    assert ReportFindingSource.objects.get(report_id="R1").equipment_type == ""
    _import(
        admin_client, tmp_path, django_capture_on_commit_callbacks, 设备类型="", 检查状态="已登记"
    )
    assert _read().startswith("Read 0 report(s)")


def test_a_studies_import_that_keeps_the_examination_reads_nothing_again(
    admin_client, viewer, chest_report, tmp_path, django_capture_on_commit_callbacks
):
    body = _import(admin_client, tmp_path, django_capture_on_commit_callbacks)
    assert body["updated"] == 1  # its status, times and patient from the file
    assert _queued() == [TaskResultStatus.READY]  # queued: the reading finds nothing stale
    assert _read().startswith("Read 0 report(s)")
    assert _found(viewer, "opacity") == ["R1"]


def test_a_studies_import_that_changes_nothing_queues_no_reading(
    admin_client, chest_report, tmp_path, django_capture_on_commit_callbacks
):
    _import(admin_client, tmp_path, django_capture_on_commit_callbacks)
    DBTaskResult.objects.all().delete()
    body = _import(admin_client, tmp_path, django_capture_on_commit_callbacks)
    assert (body["updated"], body["unchanged"]) == (0, 1)
    assert _queued() == []
