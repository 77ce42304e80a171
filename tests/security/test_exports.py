"""Export injection: every OWASP CSV-injection payload × every text column of a study.

Figure: 0 formula cells in the .xlsx (text is written as text), 0 CSV fields starting with a
formula trigger, control characters never abort an export, more than one sheet's worth of
rows continues on another sheet.
"""

import csv
import io
import re
import zipfile
from datetime import timedelta
from http import HTTPStatus

import openpyxl
import pytest
from django.db import models

from accounts.models import Role
from bench.reliability.policy import CONTROL_TEXT, CSV_INJECTION_PAYLOADS, FORMULA_TRIGGERS
from studies import exports
from studies.models import DETAIL_FIELDS, Study
from tests.factories import StudyFactory, local

pytestmark = pytest.mark.django_db

TEXT_COLUMNS = [
    f
    for f in Study._meta.get_fields()
    if isinstance(f, models.CharField | models.TextField) and f.name in DETAIL_FIELDS
]


def fit(field: models.Field, text: str) -> str:
    return text[: field.max_length] if field.max_length else text


@pytest.fixture
def injected(db) -> list[tuple[str, str]]:
    """One study per (payload, column): that column holds the payload."""
    placed = []
    seen_ids: set[str] = set()
    for p, payload in enumerate(CSV_INJECTION_PAYLOADS):
        for field in TEXT_COLUMNS:
            value = fit(field, payload)
            exam_id = value if field.name == "exam_id" else f"INJ{p:02d}{field.name[:20]}"
            if exam_id in seen_ids:
                continue
            seen_ids.add(exam_id)
            StudyFactory(
                exam_id=exam_id, **({field.name: value} if field.name != "exam_id" else {})
            )
            placed.append((field.name, value))
    return placed


def unescape(text: str) -> str:
    return re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m.group(1), 16)), text)


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_no_payload_becomes_a_formula_in_the_xlsx(world, injected):
    response = world.client(Role.VIEWER).get("/api/v1/studies/export")
    assert response.status_code == HTTPStatus.OK
    data = body(response)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert b"<f>" not in b"".join(archive.read(n) for n in sheets)
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row if c.value is not None]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    texts = {str(c.value).replace("_x000D_", "\r") for c in cells if c.data_type == "s"}
    assert {value for _, value in injected} <= texts  # stored as the very same text
    assert len(injected) >= len(CSV_INJECTION_PAYLOADS) * (len(TEXT_COLUMNS) - 1)


def test_no_csv_field_starts_with_a_formula_trigger(world, injected):
    response = world.client(Role.VIEWER).get("/api/v1/studies/export", {"format": "csv"})
    assert response.status_code == HTTPStatus.OK
    rows = list(csv.reader(io.StringIO(body(response).decode("utf-8-sig"))))
    fields = [value for row in rows[1:] for value in row]
    assert [v for v in fields if v.startswith(FORMULA_TRIGGERS)] == []
    # Nothing is lost: each payload comes back whole, behind one neutralising quote.
    for _, value in injected:
        expected = "'" + value if value.startswith(FORMULA_TRIGGERS) else value
        assert expected in fields


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_control_characters_in_text_never_abort_an_export(world, fmt):
    for n in range(3):
        StudyFactory(
            exam_id=f"CTRL{n}",
            patient_name="张" + CONTROL_TEXT[:150],
            exam_description=CONTROL_TEXT * 3 + "检" * 40_000,  # also over 32,767 characters
            certified_physician=CONTROL_TEXT[:150],
        )
    response = world.client(Role.VIEWER).get("/api/v1/studies/export", {"format": fmt})
    assert response.status_code == HTTPStatus.OK
    data = body(response)
    if fmt == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(data)).active
        rows = list(sheet.iter_rows(min_row=2, values_only=True))
        column = DETAIL_FIELDS.index("exam_description")
        assert len(rows) == 4  # the three, and the world's study
        # xlsx escapes control characters as _xHHHH_, which Excel reads back as one character.
        lengths = [len(unescape(r[column])) for r in rows if r[0].startswith("CTRL")]
        assert lengths == [exports.XLSX_MAX_CELL] * 3
    else:
        assert len(list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))) == 5


def test_rows_past_one_sheet_continue_on_the_next_through_the_api(world, monkeypatch):
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 5)  # stands for 1,048,576
    for n in range(13):
        StudyFactory(
            exam_id=f"BIG{n:03d}",
            order_datetime=local(2025, 1, 1) + timedelta(days=n),
        )
    response = world.client(Role.VIEWER).get("/api/v1/studies/export", {"sort": "exam_id"})
    book = openpyxl.load_workbook(io.BytesIO(body(response)))
    assert book.sheetnames == ["studies", "studies_2", "studies_3", "studies_4"]
    ids = [
        r[0] for name in book.sheetnames for r in book[name].iter_rows(min_row=2, values_only=True)
    ]
    assert ids == [f"BIG{n:03d}" for n in range(13)] + ["SEC0001"]
    assert all(book[name].cell(row=1, column=1).value == "检查号" for name in book.sheetnames)
