"""POST /import/reports and import_reports."""

import io
import json
from http import HTTPStatus

import pytest
from django.core.management import call_command
from django.utils import timezone

from ingest.models import ImportBatch
from reports.models import Report
from sampledata import generate_reports, generate_studies
from sampledata.writers import (
    write_reports_csv,
    write_reports_json,
    write_reports_xlsx,
    write_studies_xlsx,
)
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/import/reports"


class _Named(io.BytesIO):
    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name


def post(client, data: bytes, name: str, **options):
    return client.post(URL, {"file": _Named(data, name), **options})


def reports_json(items: list[dict]) -> bytes:
    return json.dumps(items, ensure_ascii=False).encode()


@pytest.fixture
def studies():
    StudyFactory(exam_id="E1")
    StudyFactory(exam_id="E2")


def test_json_reports_keep_the_files_timestamps(admin_client, studies):
    items = [
        {"report_id": "R1", "exam_id": "E1", "radiologist": "Dr. Li", "content": "No pneumothorax.",
         "status": "finalized", "created_at": "2025-11-06T10:30:00", "submitted_at": "2025-11-06 11:00",
         "reviewed_at": "2025-11-06 12:00:00"},
        {"report_id": "R2", "exam_id": "E2", "content": "未见明显异常。"},
    ]  # fmt: skip
    response = post(admin_client, reports_json(items), "reports.json")
    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["created"] == 2
    r1 = admin_client.get("/api/v1/reports/R1").json()
    assert (r1["created_at"], r1["submitted_at"], r1["reviewed_at"]) == (
        "2025-11-06T10:30:00", "2025-11-06T11:00:00", "2025-11-06T12:00:00",
    )  # fmt: skip
    r2 = Report.objects.get(report_id="R2")
    assert (r2.status, r2.radiologist, r2.submitted_at) == ("finalized", "", None)
    assert abs((timezone.now() - r2.created_at).total_seconds()) < 60


def test_reimporting_reports_changes_nothing(admin_client, studies):
    data = reports_json([{"report_id": "R2", "exam_id": "E2", "content": "x", "status": "draft"}])
    post(admin_client, data, "r.json")
    created = Report.objects.get().created_at
    again = post(admin_client, data, "r.json").json()
    assert (again["created"], again["unchanged"]) == (0, 1)
    assert Report.objects.get().created_at == created


def test_sample_reports_in_every_format(admin_client, tmp_path):
    studies = list(generate_studies(150, seed=11))
    write_studies_xlsx(tmp_path / "s.xlsx", studies)
    with open(tmp_path / "s.xlsx", "rb") as fh:  # noqa: PTH123
        admin_client.post("/api/v1/import/studies", {"file": fh})
    reports = list(generate_reports(studies, seed=11))
    write_reports_json(tmp_path / "r.json", reports)
    write_reports_xlsx(tmp_path / "r.xlsx", reports)
    write_reports_csv(tmp_path / "r.csv", reports)
    first = post(admin_client, (tmp_path / "r.json").read_bytes(), "r.json").json()
    assert first["created"] == len(reports) > 100
    for name in ("r.xlsx", "r.csv"):
        body = post(admin_client, (tmp_path / name).read_bytes(), name).json()
        assert body["unchanged"] == len(reports), name


def test_report_of_an_unknown_exam_is_a_row_error(admin_client, studies):
    items = [
        {"report_id": "R1", "exam_id": "E1", "content": "ok"},
        {"report_id": "R2", "exam_id": "NOPE", "content": "orphan"},
    ]
    response = post(admin_client, reports_json(items), "r.json")
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    body = response.json()
    assert body["detail"] == "The file has 1 invalid row(s) (1 error(s)); nothing was imported"
    assert body["errors"] == [
        {
            "row": 2,
            "column": "exam_id",
            "value": "NOPE",
            "message": "Unknown exam_id",
            "code": "row.unknown_exam",
        }
    ]
    assert Report.objects.count() == 0
    assert ImportBatch.objects.get().status == "rejected"


def test_invalid_report_status_is_a_row_error(admin_client, studies):
    items = [{"report_id": "R1", "exam_id": "E1", "content": "x", "status": "signed"}]
    body = post(admin_client, reports_json(items), "r.json").json()
    assert body["errors"][0]["message"] == "Must be one of: draft, submitted, reviewed, finalized"
    assert Report.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"report_id": "R1"}', None),
        (b"[1, 2]", None),
        (b"not json", None),
    ],
)
def test_json_that_is_not_a_list_of_objects_is_422(admin_client, studies, data, message):
    response = post(admin_client, data, "r.json")
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert isinstance(response.json()["detail"], str)
    assert Report.objects.count() == 0


def test_xls_is_not_accepted_for_reports(admin_client):
    response = post(admin_client, b"x", "r.xls")
    assert response.status_code == HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    assert response.json()["detail"] == "Unsupported file type '.xls': upload .xlsx, .csv or .json"


def test_import_reports_command(tmp_path, studies, capsys):
    path = tmp_path / "r.json"
    path.write_bytes(reports_json([{"report_id": "R1", "exam_id": "E1", "content": "x"}]))
    call_command("import_reports", str(path))
    assert "created 1" in capsys.readouterr().out
