"""Exports: same rows as the search, importable headers, inert formulas."""

import csv
import io
from http import HTTPStatus

import openpyxl
import pytest

from studies.exports import EXPORT_HEADERS
from tests.factories import StudyFactory, local

pytestmark = pytest.mark.django_db

HEADERS = list(EXPORT_HEADERS.values())


def _xlsx(response) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def test_xlsx_export_has_the_search_rows_and_importable_headers(viewer):
    for n in range(30):
        StudyFactory(exam_status="已审核" if n % 3 else "已登记")
    total = viewer.get("/api/v1/studies/search", {"exam_status": "已审核"}).json()["total"]
    response = viewer.get("/api/v1/studies/export", {"exam_status": "已审核"})
    assert response.status_code == HTTPStatus.OK
    assert (
        response["Content-Type"]
        == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="studies_')
    assert disposition.endswith('.xlsx"')
    sheet = _xlsx(response).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS
    assert len(rows) - 1 == total == 20


def test_xlsx_export_values_and_types(viewer):
    StudyFactory(
        exam_id="E1",
        patient_name="王芳",
        patient_gender="F",
        patient_age=61,
        medical_record_no=None,
        order_datetime=local(2025, 11, 6, 10, 30),
        check_in_datetime=None,
    )
    row = list(
        _xlsx(viewer.get("/api/v1/studies/export")).active.iter_rows(min_row=2, values_only=True)
    )[0]
    record = dict(zip(HEADERS, row, strict=True))
    assert record["检查号"] == "E1"
    assert record["姓名"] == "王芳"
    assert record["年龄"] == 61
    assert record["病历号"] is None
    assert record["开单时间"].isoformat() == "2025-11-06T10:30:00"
    assert record["登记时间"] is None


@pytest.mark.parametrize(
    "payload",
    ['=HYPERLINK("x")', "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1,1)", "\t=1+1", "\r=1+1"],
)
def test_xlsx_export_writes_formula_like_text_as_inert_strings(viewer, payload):
    StudyFactory(exam_id="F1", patient_name=payload, exam_description=payload)
    response = viewer.get("/api/v1/studies/export")
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    cells = [c for row in workbook.active.iter_rows(min_row=2) for c in row if c.value is not None]
    assert all(c.data_type != "f" for c in cells)
    name = workbook.active.cell(row=2, column=HEADERS.index("姓名") + 1)
    # xlsx stores a carriage return as the escape _x000D_, which Excel reads back as "\r".
    assert name.value.replace("_x000D_", "\r") == payload
    assert name.data_type == "s"


def test_csv_export_streams_with_bom_and_the_same_rows(viewer):
    for _ in range(7):
        StudyFactory()
    response = viewer.get("/api/v1/studies/export", {"format": "csv"})
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].endswith('.csv"')
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == HEADERS
    assert len(rows) == 8


@pytest.mark.parametrize(
    "payload", ['=HYPERLINK("x")', "+1+1", "-2+3", "@SUM(1,1)", "\t=1", "\r=1", "\n=1"]
)
def test_csv_export_neutralises_formula_triggers(viewer, payload):
    StudyFactory(patient_name=payload)
    text = b"".join(
        viewer.get("/api/v1/studies/export", {"format": "csv"}).streaming_content
    ).decode()
    row = list(csv.reader(io.StringIO(text[1:])))[1]
    assert row[HEADERS.index("姓名")] == "'" + payload


def test_export_of_nothing_is_a_header_only_file(viewer):
    sheet = _xlsx(viewer.get("/api/v1/studies/export", {"q": "nothing-matches"})).active
    assert [list(r) for r in sheet.iter_rows(values_only=True)] == [HEADERS]


def test_export_rejects_unknown_format(viewer):
    assert (
        viewer.get("/api/v1/studies/export", {"format": "pdf"}).status_code
        == HTTPStatus.UNPROCESSABLE_ENTITY
    )


def test_export_splits_sheets_past_the_row_limit(monkeypatch):
    from studies import exports

    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 3)
    rows = [(f"E{n}",) + (None,) * 14 for n in range(5)]
    handle, count = exports.write_xlsx(None, rows=rows)
    workbook = openpyxl.load_workbook(handle)
    assert count == 5
    assert workbook.sheetnames == ["studies", "studies_2", "studies_3"]
    assert [r[0] for r in workbook["studies_2"].iter_rows(values_only=True)] == [
        "检查号",
        "E2",
        "E3",
    ]
