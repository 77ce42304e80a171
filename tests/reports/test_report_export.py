"""The export of a report search (issue 26): the search's filters, xlsx or CSV, the search
item's fields with the whole content, audited, the studies export's roles and refusals."""

import csv
import io
from datetime import datetime
from http import HTTPStatus

import openpyxl
import pytest
from django.test import Client

from accounts.models import Role
from audit.models import AuditEvent
from reports.models import Report
from tests.factories import ReportFactory, StudyFactory, local

pytestmark = pytest.mark.django_db

EXPORT = "/api/v1/reports/export"
HEADERS = [
    "报告ID", "检查号", "姓名", "检查项目", "报告医生", "报告状态", "创建时间", "提交时间",
    "审核时间", "报告内容",
]  # fmt: skip
LONG = "检查所见：" + "双肺纹理清晰。" * 60 + "诊断意见：未见异常。"


@pytest.fixture
def reports():
    fang = StudyFactory(exam_id="E1", patient_name="王芳", exam_item="胸部CT平扫")
    zhang = StudyFactory(exam_id="E2", patient_name="Zhang Wei", exam_item="Chest CT")
    ReportFactory(
        report_id="R1", study=fang, radiologist="李医生", status="finalized", content=LONG,
        created_at=local(2025, 11, 6, 11, 0), submitted_at=local(2025, 11, 6, 12, 0),
        reviewed_at=local(2025, 11, 6, 14, 30),
    )  # fmt: skip
    ReportFactory(
        report_id="R2", study=fang, status="draft", content="=HYPERLINK(\"x\") 结节",
        created_at=local(2025, 11, 7, 9, 0),
    )  # fmt: skip
    ReportFactory(
        report_id="R3", study=zhang, radiologist="Dr. Li", content="No nodule.",
        created_at=local(2025, 11, 5, 9, 0),
    )  # fmt: skip


def _workbook(response) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def _csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_xlsx_export_holds_the_search_items_with_their_whole_content(viewer, reports):
    response = viewer.get(EXPORT, {"patient_name": "王芳"})
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="reports_')
    assert disposition.endswith('.xlsx"')
    sheet = _workbook(response).active
    assert sheet.title == "reports"
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows == [
        HEADERS,
        ["R2", "E1", "王芳", "胸部CT平扫", "李医生", "draft",
         datetime(2025, 11, 7, 9, 0), None, None, '=HYPERLINK("x") 结节'],
        ["R1", "E1", "王芳", "胸部CT平扫", "李医生", "finalized", datetime(2025, 11, 6, 11, 0),
         datetime(2025, 11, 6, 12, 0), datetime(2025, 11, 6, 14, 30), LONG],
    ]  # fmt: skip
    # Text is text, never a formula, whatever it starts with.
    assert sheet["J2"].data_type == "s"


def test_xlsx_export_opens_ready_to_work_in(viewer, reports):
    sheet = _workbook(viewer.get(EXPORT)).active
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:J4"
    assert sheet.column_dimensions["J"].width == 80
    assert sheet.column_dimensions["A"].width == 14
    assert all(cell.font.b for cell in sheet[1])


def test_csv_export_has_the_same_rows_as_the_search(viewer, reports):
    params = {"q": "结节", "patient_name": "王"}
    search = viewer.get("/api/v1/reports/search", params).json()
    response = viewer.get(EXPORT, {**params, "format": "csv"})
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].endswith('.csv"')
    rows = _csv_rows(response)
    assert rows[0] == HEADERS
    assert [row[0] for row in rows[1:]] == [item["report_id"] for item in search["data"]]
    assert search["total"] == 1
    # A formula-like cell gets the studies export's quote.
    assert rows[1] == [
        "R2", "E1", "王芳", "胸部CT平扫", "李医生", "draft", "2025-11-07 09:00:00", "", "",
        "'=HYPERLINK(\"x\") 结节",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["R2", "R1", "R3"]),
        ({"status": "finalized"}, ["R1", "R3"]),
        ({"radiologist": "Dr. Li"}, ["R3"]),
        ({"date_from": "2025-11-06", "date_to": "2025-11-06"}, ["R1"]),
        ({"patient_name": "zhang", "q": "nodule"}, ["R3"]),
        ({"patient_name": "nobody"}, []),
    ],
)
def test_export_takes_every_filter_of_the_search(viewer, reports, params, expected):
    rows = _csv_rows(viewer.get(EXPORT, {**params, "format": "csv"}))
    assert [row[0] for row in rows[1:]] == expected


def test_export_is_audited_with_its_count_and_format(viewer, reports):
    response = viewer.get(EXPORT, {"patient_name": "王芳", "format": "csv"})
    b"".join(response.streaming_content)
    event = AuditEvent.objects.get(action="report.export")
    assert (event.username, event.outcome, event.status_code) == (
        viewer.user.username, "success", 200,
    )  # fmt: skip
    assert (event.object_type, event.result_count, event.detail) == ("report", 2, {"format": "csv"})
    assert event.query == {"patient_name": "王芳", "format": "csv"}


@pytest.mark.parametrize(
    ("params", "loc", "message"),
    [
        ({"format": "pdf"}, ["query", "format"], "Input should be 'xlsx' or 'csv'"),
        ({"date_from": "2025-11-07", "date_to": "2025-11-06"}, ["query", "params"],
         "Value error, date_from must not be after date_to"),
        ({"q": "x" * 201}, ["query", "q"], "String should have at most 200 characters"),
        ({"assertion": "absent"}, ["query", "params"], "Value error, assertion and min_size_mm need a finding"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_and_nothing_is_exported(viewer, reports, params, loc, message):
    response = viewer.get(EXPORT, params)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    (error,) = response.json()["detail"]
    assert (error["loc"], error["msg"]) == (loc, message)
    assert "Content-Disposition" not in response
    event = AuditEvent.objects.get(path=EXPORT)
    assert (event.outcome, event.status_code, event.result_count) == ("failure", 422, None)


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.VIEWER, HTTPStatus.OK),
        (Role.ANALYST, HTTPStatus.OK),
        (Role.ADMIN, HTTPStatus.OK),
        (Role.LEARNER, HTTPStatus.FORBIDDEN),
        (Role.INSTRUCTOR, HTTPStatus.FORBIDDEN),
    ],
)
def test_export_roles_are_the_studies_exports(api, reports, role, status):
    client = api(role)
    for path in (EXPORT, "/api/v1/studies/export"):
        response = client.get(path, {"format": "csv"})
        assert response.status_code == status, path
    if status == HTTPStatus.FORBIDDEN:
        assert response.json() == client.get(EXPORT).json()
        assert not AuditEvent.objects.filter(outcome="success", action="report.export").exists()


def test_export_without_a_token_is_401(reports):
    response = Client().get(EXPORT)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == Client().get("/api/v1/studies/export").json()


class _Named(io.BytesIO):
    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_an_export_imports_again_as_the_same_reports(viewer, admin_client, reports, fmt):
    data = b"".join(viewer.get(EXPORT, {"format": fmt}).streaming_content)
    before = list(Report.objects.order_by("pk").values())
    response = admin_client.post("/api/v1/import/reports", {"file": _Named(data, f"reports.{fmt}")})
    assert response.status_code == HTTPStatus.OK, response.content
    body = response.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 0, 3)
    assert list(Report.objects.order_by("pk").values()) == before
