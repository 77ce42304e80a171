"""Exports: same rows as the search, importable headers, inert formulas."""

import csv
import io
import zipfile
from datetime import UTC, datetime, timedelta
from http import HTTPStatus

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from python_calamine import CalamineWorkbook

from studies import exports
from studies.exports import EXPORT_HEADERS, inert_csv_text
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


def _chunks(response) -> list[bytes]:
    return list(response.streaming_content)


def _csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def test_xlsx_export_splits_sheets_past_the_row_limit_with_headers_repeated(viewer, monkeypatch):
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 3)  # stands for 1,048,576: 2 rows a sheet
    for n in range(5):
        StudyFactory(exam_id=f"E{n}")
    response = viewer.get("/api/v1/studies/export", {"sort": "exam_id"})
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert workbook.sheetnames == ["studies", "studies_2", "studies_3"]
    assert [
        [r[0] for r in workbook[name].iter_rows(values_only=True)] for name in workbook.sheetnames
    ] == [
        ["检查号", "E0", "E1"],
        ["检查号", "E2", "E3"],
        ["检查号", "E4"],
    ]
    assert workbook["studies_2"]["A1"].font.b


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_keeps_the_search_order(viewer, fmt):
    for n in range(6):
        StudyFactory(exam_id=f"S{n}", order_datetime=local(2025, 1, 1 + n))
    expected = [s["exam_id"] for s in viewer.get("/api/v1/studies/search").json()["data"]]
    response = viewer.get("/api/v1/studies/export", {"format": fmt})
    if fmt == "csv":
        ids = [row[0] for row in _csv_rows(response)[1:]]
    else:
        ids = [r[0] for r in _xlsx(response).active.iter_rows(min_row=2, values_only=True)]
    assert ids == expected == [f"S{n}" for n in range(5, -1, -1)]


def test_csv_export_writes_local_datetimes_to_the_second_and_nulls_as_empty(viewer, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    StudyFactory(
        exam_id="T1",
        order_datetime=datetime(2025, 12, 31, 16, 30, 59, 900000, tzinfo=UTC),
        check_in_datetime=None,
        patient_age=None,
        medical_record_no=None,
    )
    row = dict(
        zip(
            HEADERS,
            _csv_rows(viewer.get("/api/v1/studies/export", {"format": "csv"}))[1],
            strict=True,
        )
    )
    assert row["开单时间"] == "2026-01-01 00:30:59"
    assert row["登记时间"] == row["年龄"] == row["病历号"] == ""


def test_xlsx_export_writes_local_datetimes_as_dates(viewer, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    StudyFactory(exam_id="T1", order_datetime=datetime(2025, 12, 31, 16, 30, 15, tzinfo=UTC))
    sheet = _xlsx(viewer.get("/api/v1/studies/export")).active
    cell = sheet.cell(row=2, column=HEADERS.index("开单时间") + 1)
    assert cell.is_date
    assert cell.number_format == "yyyy\\-mm\\-dd\\ hh:mm:ss"
    assert abs(cell.value - datetime(2026, 1, 1, 0, 30, 15)) < timedelta(milliseconds=1)


TRICKY_TEXT = [
    "a\rb\r\nc\nd",
    "bell\x07 vt\x0b us\x1f end",
    "literal _x0041_ and _x000D_",
    "<b>&amp; 1 > 0</b>",
    "  leading and trailing  ",
    "\ttabbed",
    "\ufeff结节\u2028\u2029\x7f",
]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_round_trips_control_characters_and_markup(viewer, fmt):
    for n, text in enumerate(TRICKY_TEXT):
        StudyFactory(exam_id=f"X{n}", exam_description=text, certified_physician=text[:200])
    response = viewer.get("/api/v1/studies/export", {"format": fmt, "sort": "exam_id"})
    assert response.status_code == HTTPStatus.OK
    column = HEADERS.index("检查描述")
    if fmt == "csv":
        values = [row[column] for row in _csv_rows(response)[1:]]
        expected = [inert_csv_text(text) for text in TRICKY_TEXT]
    else:
        # calamine is what the importer reads .xlsx with; it decodes the _xHHHH_ escapes.
        data = b"".join(response.streaming_content)
        rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
        values = [row[column] for row in rows[1:]]
        expected = TRICKY_TEXT
        openpyxl.load_workbook(io.BytesIO(data))  # well-formed XML for a second reader too
    assert values == expected


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_streams_in_chunks(viewer, monkeypatch, fmt):
    monkeypatch.setattr(exports, "CHUNK_BYTES", 1024)
    for _ in range(40):
        StudyFactory(exam_description="x" * 200)
    response = viewer.get("/api/v1/studies/export", {"format": fmt})
    assert response.streaming
    chunks = iter(response.streaming_content)
    first = next(chunks)
    assert first.startswith(b"PK\x03\x04" if fmt == "xlsx" else "\ufeff检查号".encode())
    assert len(list(chunks)) > 3


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_queries_do_not_grow_with_rows(viewer, fmt, django_assert_max_num_queries):
    for _ in range(3):
        StudyFactory()
    with CaptureQueriesContext(connection) as few:
        _chunks(viewer.get("/api/v1/studies/export", {"format": fmt}))
    for _ in range(60):
        StudyFactory()
    with django_assert_max_num_queries(len(few.captured_queries)):
        _chunks(viewer.get("/api/v1/studies/export", {"format": fmt}))
    # Authentication, the count, the rows (with their session settings) and the audit event.
    assert len(few.captured_queries) <= 12


# ------------------------------------------------ workbooks people work in, values as the RIS's


def test_xlsx_export_freezes_the_header_sizes_the_columns_and_filters(viewer):
    for n in range(3):
        StudyFactory(exam_id=f"W{n}")
    workbook = _xlsx(viewer.get("/api/v1/studies/export"))
    sheet = workbook.active
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:O4"
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ADKLO"}
    assert widths == {"A": 16, "D": 12, "K": 50, "L": 20, "O": 12}
    assert sheet["A1"].font.b


def test_xlsx_export_filters_every_sheet_of_a_long_export(viewer, monkeypatch):
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 3)
    for n in range(5):
        StudyFactory(exam_id=f"E{n}")
    data = b"".join(viewer.get("/api/v1/studies/export").streaming_content)
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    assert [(workbook[name].auto_filter.ref, workbook[name].freeze_panes) for name in
            workbook.sheetnames] == [("A1:O3", "A2"), ("A1:O3", "A2"), ("A1:O2", "A2")]  # fmt: skip
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.read("xl/workbook.xml").decode()
    assert "studies_3!$A$1:$O$2</definedName>" in names


def test_export_of_nothing_filters_the_header_alone(viewer):
    sheet = _xlsx(viewer.get("/api/v1/studies/export", {"q": "nothing-matches"})).active
    assert (sheet.auto_filter.ref, sheet.freeze_panes) == ("A1:O1", "A2")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_writes_the_gender_as_the_ris_does(viewer, fmt):
    for exam_id, gender in (("G1", "M"), ("G2", "F"), ("G3", "U"), ("G4", None)):
        StudyFactory(exam_id=exam_id, patient_gender=gender)
    response = viewer.get("/api/v1/studies/export", {"format": fmt, "sort": "exam_id"})
    column = HEADERS.index("性别")
    if fmt == "csv":
        values = [row[column] for row in _csv_rows(response)[1:]]
        assert values == ["男", "女", "未知", ""]
    else:
        values = [r[column] for r in _xlsx(response).active.iter_rows(min_row=2, values_only=True)]
        assert values == ["男", "女", "未知", None]


def _round_trip_studies() -> None:
    """Studies with every field set and unset, each gender, ages from 0, Chinese and English
    text, text a spreadsheet would take for a formula, datetimes to the second."""
    genders = ["M", "F", "U", None]
    for n in range(12):
        StudyFactory(
            exam_id=f"RT{n:03d}",
            medical_record_no=None if n % 5 == 0 else f"MRN{n % 4}",
            application_order_no=None if n % 3 == 0 else f"SQ{n:05d}",
            patient_name=["王小明", "Zhang Wei", "欧阳娜娜", '=HYPERLINK("x")'][n % 4],
            patient_gender=genders[n % 4],
            patient_age=None if n % 6 == 0 else n * 7 % 90,
            exam_status=["已审核", "已登记", "completed"][n % 3],
            exam_source=["门诊", "住院", "急诊", "体检"][n % 4],
            exam_item=["胸部CT平扫", "头颅MR平扫", "Chest X-ray"][n % 3],
            equipment_type=None if n % 4 == 3 else ["CT", "MR", "DR"][n % 3],
            exam_description=None if n % 2 else f"-{n} mm 结节\n第二行 & <b>",
            order_datetime=local(2025, 1 + n % 12, 1 + n, 8, n, 59 - n),
            check_in_datetime=None if n % 3 == 2 else local(2025, 1 + n % 12, 1 + n, 9, 0, n),
            report_certification_datetime=None if n % 2 else local(2025, 1 + n % 12, 2 + n, 23),
            certified_physician=None if n % 2 else "李医生",
        )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_an_export_imports_again_into_the_same_rows(api, settings, fmt):
    """Export, empty the table, import the file through the import API: the same rows,
    field for field; and the same file exported again."""
    settings.TIME_ZONE = "Asia/Shanghai"
    from studies.models import DETAIL_FIELDS, Study

    admin = api("admin")
    _round_trip_studies()
    before = list(Study.objects.order_by("exam_id").values_list(*DETAIL_FIELDS))
    exported = b"".join(
        admin.get("/api/v1/studies/export", {"format": fmt, "sort": "exam_id"}).streaming_content
    )
    Study.objects.all().delete()
    upload = SimpleUploadedFile(f"export.{fmt}", exported)
    response = admin.post("/api/v1/import/studies", {"file": upload})
    assert response.status_code == HTTPStatus.OK, response.content
    body = response.json()
    assert (body["rows_total"], body["created"], body["errors"], body["ignored_columns"]) == (
        12, 12, [], [],
    )  # fmt: skip
    after = list(Study.objects.order_by("exam_id").values_list(*DETAIL_FIELDS))
    assert after == before
    again = b"".join(
        admin.get("/api/v1/studies/export", {"format": fmt, "sort": "exam_id"}).streaming_content
    )
    if fmt == "csv":
        assert again == exported
    else:
        assert _sheet_values(again) == _sheet_values(exported)


def _sheet_values(data: bytes) -> list[list]:
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
