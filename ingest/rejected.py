"""The rejected-rows workbook of a partial import (``on_invalid='skip'``).

The rows the import left out, with the file's own headers (a RIS export's) and one more column
that says each row's problems in the reader's language: fix the cells, delete nothing, and the
workbook imports again (the problem column is an unknown header, ignored on import).
"""

import io
from typing import Any

from django.utils import translation
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from ingest.messages import text
from ingest.models import ImportBatch
from studies.exports import FORMULA_TRIGGERS, XLSX_CONTENT_TYPE

CONTENT_TYPE = XLSX_CONTENT_TYPE


def file_name(batch: ImportBatch) -> str:
    stem = batch.file_name.rsplit(".", 1)[0] or "import"
    return f"{stem}_rejected_{batch.batch_id[:8]}.xlsx"


def _cell(value: str) -> str:
    # A quote keeps a cell that starts like a formula a text; the importer drops it again.
    return f"'{value}" if value.startswith(FORMULA_TRIGGERS) else value


def problem_text(errors: list[dict[str, Any]]) -> str:
    """'column: message; column: message' in the active language."""
    return "; ".join(f"{e['column']}: {text(e['code'], e.get('params'))}" for e in errors)


def workbook(rejected: dict[str, Any], language: str) -> bytes:
    """The .xlsx of ``rejected`` (``{"headers", "rows"}`` as the batch stores them)."""
    headers = list(rejected["headers"])
    book = Workbook()
    sheet = book.active
    with translation.override(language):
        sheet.title = text("workbook.sheet")[:31]
        sheet.append([_cell(h) for h in headers] + [text("workbook.problem")])
        widths = [max(8, len(h) * 2) for h in headers] + [40]
        for _row, cells, errors in rejected["rows"]:
            padded = list(cells) + [""] * (len(headers) - len(cells))
            sheet.append([_cell(c) for c in padded[: len(headers)]] + [problem_text(errors)])
            for index, cell in enumerate(padded[: len(headers)]):
                widths[index] = min(50, max(widths[index], len(cell) + 2))
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
