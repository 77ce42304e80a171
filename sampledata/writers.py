"""Writers for generated studies and reports: RIS-style .xlsx, CSV, JSON.

All writers stream: rows are written as they come, the .xlsx in xlsxwriter's
``constant_memory`` mode, so any number of rows fits in a small, fixed amount of memory.
Text is always written with ``write_string``: a patient called ``=HYPERLINK(…)`` stays text.
Each writer returns the number of rows it wrote.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter

from sampledata.reports import REPORT_FIELDS
from sampledata.studies import DEFAULT_END, STUDY_FIELDS
from studies.ris import RIS_HEADERS

# The RIS export's column headers, in its column order (the importer's declared schema).
STUDY_HEADERS_ZH = RIS_HEADERS
GENDER_ZH = {"M": "男", "F": "女", "U": "未知"}

DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
_STUDY_DATETIMES = frozenset(
    {"order_datetime", "check_in_datetime", "report_certification_datetime"}
)

PathLike = str | os.PathLike[str]


def age_text(age: int | None, age_days: int | None = None) -> str | None:
    """The RIS's age cell: ``45岁``; an infant ``3月`` or ``5天`` when its age in days is known."""
    if age is None:
        return None
    if age == 0 and age_days is not None:
        return f"{age_days}天" if age_days < 30 else f"{min(11, age_days // 30)}月"
    return f"{age}岁"


def _workbook(path: PathLike, created: datetime | None) -> xlsxwriter.Workbook:
    wb = xlsxwriter.Workbook(os.fspath(path), {"constant_memory": True})
    # A fixed creation date keeps the file byte-identical for the same data.
    wb.set_properties({"created": created or DEFAULT_END})
    return wb


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _write_sheet(
    path: PathLike,
    records: Iterable[Mapping[str, Any]],
    fields: tuple[str, ...],
    *,
    created: datetime | None,
    header: Callable[[str], str],
    width: Callable[[str], int],
    text: Callable[[str, Any, Mapping[str, Any]], str] = lambda field, value, record: _text(value),
    wrapped: frozenset[str] = frozenset(),
) -> int:
    """One sheet: a frozen header row, then a row a record. A datetime is an Excel datetime,
    None or "" an empty cell, anything else the string ``text`` makes of it (wrapped in the
    ``wrapped`` fields)."""
    wb = _workbook(path, created)
    ws = wb.add_worksheet("Sheet1")
    dt_fmt = wb.add_format({"num_format": DATETIME_FORMAT})
    # Only a sheet that wraps declares the format: an unused one would still change the file.
    wrap = wb.add_format({"text_wrap": True, "valign": "top"}) if wrapped else None
    for c, field in enumerate(fields):
        ws.set_column(c, c, width(field))
        ws.write_string(0, c, header(field))
    ws.freeze_panes(1, 0)
    row = 0
    for record in records:
        row += 1
        for c, field in enumerate(fields):
            value = record.get(field)
            if value is None or value == "":
                continue
            if isinstance(value, datetime):
                ws.write_datetime(row, c, value, dt_fmt)
            else:
                cell_format = wrap if field in wrapped else None
                ws.write_string(row, c, text(field, value, record), cell_format)
    wb.close()
    return row


_STUDY_WIDTHS = {"exam_description": 60, "exam_item": 16, "patient_name": 12}


def _study_text(field: str, value: Any, study: Mapping[str, Any]) -> str:
    if field == "patient_gender":
        return GENDER_ZH.get(_text(value).upper(), _text(value))
    if field == "patient_age" and isinstance(value, int):
        return f"{age_text(value, getattr(study, 'age_days', None))}"
    return _text(value)


def write_studies_xlsx(
    path: PathLike, studies: Iterable[Mapping[str, Any]], *, created: datetime | None = None
) -> int:
    """The RIS export as staff see it: Chinese headers, 男/女/未知, ``45岁``, Excel datetimes."""
    return _write_sheet(
        path,
        studies,
        STUDY_FIELDS,
        created=created,
        header=STUDY_HEADERS_ZH.__getitem__,
        width=lambda field: _STUDY_WIDTHS.get(field, 20 if field in _STUDY_DATETIMES else 12),
        text=_study_text,
    )


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value


def _write_csv(path: PathLike, fields: tuple[str, ...], rows: Iterable[Mapping[str, Any]]) -> int:
    count = 0
    # utf-8-sig: Excel opens a CSV as UTF-8 only when it starts with a BOM.
    with Path(path).open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(fields)
        for r in rows:
            w.writerow([_csv_value(r.get(k)) for k in fields])
            count += 1
    return count


def write_studies_csv(path: PathLike, studies: Iterable[Mapping[str, Any]]) -> int:
    """SPEC field names, M/F/U, integer ages, ``YYYY-MM-DD HH:MM:SS``, empty = null."""
    return _write_csv(path, STUDY_FIELDS, studies)


def write_reports_csv(path: PathLike, reports: Iterable[Mapping[str, Any]]) -> int:
    return _write_csv(path, REPORT_FIELDS, reports)


def write_reports_xlsx(
    path: PathLike, reports: Iterable[Mapping[str, Any]], *, created: datetime | None = None
) -> int:
    """The field names as headers, the content column wide and wrapped, Excel datetimes."""
    return _write_sheet(
        path,
        reports,
        REPORT_FIELDS,
        created=created,
        header=str,
        width=lambda field: 80 if field == "content" else 20,
        wrapped=frozenset({"content"}),
    )


def write_reports_json(path: PathLike, reports: Iterable[Mapping[str, Any]]) -> int:
    """A top-level JSON list of objects; datetimes ``YYYY-MM-DDTHH:MM:SS``, empty = null."""
    count = 0
    with Path(path).open("w", encoding="utf-8", newline="\n") as f:
        f.write("[")
        for r in reports:
            obj = {
                k: (v.strftime("%Y-%m-%dT%H:%M:%S") if isinstance(v, datetime) else v)
                for k, v in ((k, r.get(k)) for k in REPORT_FIELDS)
            }
            f.write(",\n " if count else "\n ")
            f.write(json.dumps(obj, ensure_ascii=False))
            count += 1
        f.write("\n]\n" if count else "]\n")
    return count
