"""Exports of a study search to .xlsx and CSV, in constant memory.

Headers are the RIS's, which the importer maps back, so an export can be imported again.
"""

import csv
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO

import xlsxwriter
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from ingest.rows import RIS_HEADERS
from studies.models import DETAIL_FIELDS

EXPORT_HEADERS = RIS_HEADERS
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A spreadsheet treats a cell starting with one of these as a formula (OWASP CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
XLSX_MAX_CELL = 32767
XLSX_MAX_ROWS = 1_048_576


def export_filename(extension: str) -> str:
    return timezone.localtime().strftime(f"studies_%Y%m%d_%H%M%S.{extension}")


def _rows(queryset: QuerySet) -> Iterator[tuple]:
    yield from queryset.values_list(*DETAIL_FIELDS).iterator(chunk_size=settings.EXPORT_BATCH_SIZE)


def _local(value: datetime) -> datetime:
    return timezone.localtime(value).replace(tzinfo=None)


def inert_csv_text(value: str) -> str:
    """Prefix a quote so that no spreadsheet evaluates the cell; the importer strips it again."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_stream(queryset: QuerySet) -> Iterator[str]:
    """CSV text in chunks; UTF-8 BOM first so that Excel reads the Chinese headers."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([EXPORT_HEADERS[f] for f in DETAIL_FIELDS])
    buffer: list[str] = []
    for row in _rows(queryset):
        cells = []
        for value in row:
            if value is None:
                cells.append("")
            elif isinstance(value, datetime):
                cells.append(_local(value).strftime("%Y-%m-%d %H:%M:%S"))
            elif isinstance(value, str):
                cells.append(inert_csv_text(value))
            else:
                cells.append(value)
        buffer.append(writer.writerow(cells))
        if len(buffer) >= 1000:
            yield "".join(buffer)
            buffer.clear()
    if buffer:
        yield "".join(buffer)


def write_xlsx(queryset: QuerySet, rows: Iterable[tuple] | None = None) -> tuple[IO[bytes], int]:
    """An .xlsx of the queryset in a temporary file (xlsxwriter's constant-memory mode).

    Text is written with write_string, so nothing is ever stored as a formula.
    """
    # The caller streams the file and closes it; it is removed from disk when closed.
    target = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115
    workbook = xlsxwriter.Workbook(target, {"constant_memory": True, "in_memory": False})
    header_format = workbook.add_format({"bold": True})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    sheet_number = 0
    sheet = None
    row_index = XLSX_MAX_ROWS
    count = 0
    for row in rows if rows is not None else _rows(queryset):
        if row_index >= XLSX_MAX_ROWS:
            # More rows than one sheet holds continue on the next sheet, headers repeated.
            sheet_number += 1
            sheet = workbook.add_worksheet(
                "studies" if sheet_number == 1 else f"studies_{sheet_number}"
            )
            for col, field in enumerate(DETAIL_FIELDS):
                sheet.write_string(0, col, EXPORT_HEADERS[field], header_format)
            row_index = 1
        for col, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, datetime):
                sheet.write_datetime(row_index, col, _local(value), date_format)
            elif isinstance(value, int):
                sheet.write_number(row_index, col, value)
            else:
                sheet.write_string(row_index, col, str(value)[:XLSX_MAX_CELL])
        row_index += 1
        count += 1
    if sheet is None:
        sheet = workbook.add_worksheet("studies")
        for col, field in enumerate(DETAIL_FIELDS):
            sheet.write_string(0, col, EXPORT_HEADERS[field], header_format)
    workbook.close()
    target.seek(0)
    return target, count
