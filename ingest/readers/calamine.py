"""calamine's reading of an .xlsx sheet, from the row where the stream (``xlsx_xml``) met a
form it does not read; the sheet's span is checked before calamine loads it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import python_calamine

from ingest.readers.table import FileFormatError, FileTooComplex, ReaderLimits, Row, sheet_rows
from ingest.readers.xlsx_scan import (
    TOO_MANY_STRINGS,
    XlsxPlan,
    check_sheet_part,
    shared_strings_size,
)


def fallback_rows(
    path: Path, plan: XlsxPlan, sheet_name: str, limits: ReaderLimits, *, after: int
) -> Iterator[Row]:
    """calamine's rows after row ``after``, with columns counted from A like the stream's."""
    if shared_strings_size(path) > limits.shared_strings_memory_bytes:
        raise FileTooComplex(TOO_MANY_STRINGS)
    check_sheet_part(path, plan.sheet_part, limits)
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    except python_calamine.PasswordError as exc:
        raise FileFormatError("The workbook is password-protected") from exc
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        raise FileFormatError("The file is not a valid .xlsx workbook") from exc
    try:
        try:
            sheet = workbook.get_sheet_by_name(sheet_name)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:
            raise FileFormatError("The file is not a valid .xlsx workbook") from exc
        start = sheet.start
        pad = [None] * (start[1] if start else 0)
        for row_number, cells in sheet_rows(sheet.iter_rows()):
            if row_number > after:
                yield row_number, pad + cells
    finally:
        workbook.close()
