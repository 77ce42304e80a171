"""``.xlsx``: the workbook's metadata from calamine, then its first worksheet streamed
(``xlsx_xml``), or read by calamine (``calamine``) in the forms the stream does not read."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import python_calamine

from ingest.readers import calamine
from ingest.readers.table import (
    CHUNK,
    FileFormatError,
    FileTooComplex,
    ReaderError,
    Table,
    first_row,
    is_blank,
    make_headers,
    refuse_other_sheets,
    sheet_rows,
    table_of_rows,
)
from ingest.readers.xlsx_scan import (
    TOO_MANY_STRINGS,
    XlsxPlan,
    check_sheet_part,
    part_name,
    shared_strings_size,
)
from ingest.readers.xlsx_xml import NotStreamable, SharedStrings, load_shared_strings, stream_sheet

if TYPE_CHECKING:
    from ingest.readers.table import ReaderLimits, Row


def xlsx_table(
    path: Path,
    content: str,
    file_name: str,
    limits: ReaderLimits,
    cleanup: list[Callable[[], None]],
    *,
    plan: XlsxPlan | None = None,
) -> Table:
    """The workbook's first worksheet as a Table.

    With a ``plan`` (see ``check_xlsx``) calamine only answers the workbook's metadata and the
    first sheet is streamed (``stream_sheet``); its span has not been checked, so calamine must
    not load it unless ``check_sheet_part`` passes first (which ``fallback_rows`` does).
    """
    big_strings = shared_strings_size(path) > limits.shared_strings_memory_bytes
    shared: SharedStrings | None = None
    opened = path
    if big_strings:
        if plan is None or plan.shared_strings_part is None:
            raise FileTooComplex(TOO_MANY_STRINGS)
        # calamine reads every shared string when it opens a workbook. It only answers the
        # metadata here (the first sheet is streamed), so it gets a copy without their text.
        try:
            shared = load_shared_strings(path, plan.shared_strings_part, limits)
        except NotStreamable:
            raise FileTooComplex(TOO_MANY_STRINGS) from None
        cleanup.append(shared.close)
        opened = _calamine_copy(path, plan, len(shared), cleanup)
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(opened))
        cleanup.append(workbook.close)
        sheets = [
            meta.name
            for meta in workbook.sheets_metadata
            if meta.typ == python_calamine.SheetTypeEnum.WorkSheet
        ]
        if not sheets:
            raise FileFormatError("The workbook has no worksheet")
        if plan is not None and plan.sheet_name != sheets[0]:
            # The two readings of the workbook disagree: let calamine read it, checked first.
            if big_strings:
                raise FileTooComplex(TOO_MANY_STRINGS)
            check_sheet_part(path, plan.sheet_part, limits)
            plan = None
        sheet = None
        if plan is None:
            sheet = workbook.get_sheet_by_index(workbook.sheet_names.index(sheets[0]))
        loaded = [name for name in sheets[1:] if workbook.get_sheet_by_name(name).height > 1]
        sheet_names = list(workbook.sheet_names)
        if plan is not None:
            # The shared strings calamine holds are not needed any more: free them now.
            cleanup.remove(workbook.close)
            workbook.close()
    except python_calamine.PasswordError as exc:
        raise FileFormatError("The workbook is password-protected") from exc
    except ReaderError:
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        # calamine raises CalamineError subclasses, and pyo3 turns a Rust panic into
        # PanicException, which derives from BaseException.
        raise FileFormatError(f"The file is not a valid {content} workbook") from exc
    refuse_other_sheets(loaded)
    if plan is not None:
        return _streamed_table(
            path, plan, file_name, sheets[0], sheet_names, limits, cleanup, shared=shared
        )

    def raw_rows() -> Iterator[Row]:
        # iter_rows() starts at sheet row 1 (padding leading empty rows) but at the first
        # used column; both are fine here because columns are matched by header text.
        return sheet_rows(sheet.iter_rows())

    return table_of_rows(
        raw_rows, file_name=file_name, format_name=content.lstrip("."), limits=limits,
        sheet_name=sheets[0], sheet_names=sheet_names, cleanup=cleanup,
    )  # fmt: skip


def _streamed_table(
    path: Path,
    plan: XlsxPlan,
    file_name: str,
    sheet_name: str,
    sheet_names: list[str],
    limits: ReaderLimits,
    cleanup: list[Callable[[], None]],
    *,
    shared: SharedStrings | None = None,
) -> Table:
    def absolute_rows() -> Iterator[Row]:
        nonlocal shared
        last = 0
        try:
            if shared is None and plan.shared_strings_part is not None:
                shared = load_shared_strings(path, plan.shared_strings_part, limits)
                cleanup.append(shared.close)
            for row_number, values in stream_sheet(path, plan, shared or [], limits):
                last = row_number
                yield row_number, values
            return
        except NotStreamable:
            pass
        yield from calamine.fallback_rows(path, plan, sheet_name, limits, after=last)

    header_row, header_values = first_row(absolute_rows())
    # Columns are counted from A here; calamine counts from the sheet's first used column.
    # Dropping the blank columns before the header's first keeps the headers (and every
    # imported value) what calamine gives.
    offset = next(i for i, v in enumerate(header_values) if not is_blank(v))
    headers = make_headers(header_values[offset:], limits)
    width = len(headers)

    def raw_rows() -> Iterator[Row]:
        for row_number, values in absolute_rows():
            if offset and any(not is_blank(v) for v in values[:offset]):
                # A cell left of the header is under a blank header: the row is not empty
                # for calamine either, so keep it (sized so that Table.rows() keeps it).
                cells = values[offset : offset + width]
                yield row_number, cells + [None] * (width - len(cells))
            elif offset:
                yield row_number, values[offset:]
            else:
                yield row_number, values

    return Table(
        file_name=file_name,
        format="xlsx",
        headers=headers,
        header_row=header_row,
        sheet_name=sheet_name,
        other_sheets=[name for name in sheet_names if name != sheet_name],
        _raw_rows=raw_rows,
        _cleanup=cleanup,
    )


_EMPTY_SHEET = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b"<sheetData/></worksheet>"
)


def _calamine_copy(path: Path, plan: XlsxPlan, count: int, cleanup: list) -> Path:
    """The workbook for calamine's metadata: ``count`` empty shared strings (the indexes of
    the other sheets stay valid), and an empty first sheet (which is streamed, not read by
    calamine). Every other part is copied as it is; the checks of ``check_xlsx`` hold."""
    directory = tempfile.mkdtemp(prefix="ingest-")
    cleanup.append(lambda: shutil.rmtree(directory, ignore_errors=True))
    target = Path(directory) / "metadata.xlsx"
    with (
        zipfile.ZipFile(path) as source,
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as copy,
    ):
        for info in source.infolist():
            name = part_name(info.filename)
            if name == plan.shared_strings_part:
                with copy.open(info.filename, "w", force_zip64=True) as out:
                    out.write(
                        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns='
                        b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="'
                        + str(count).encode()
                        + b'" uniqueCount="'
                        + str(count).encode()
                        + b'">'
                    )
                    block = b"<si><t></t></si>" * 65_536
                    for _ in range(count // 65_536):
                        out.write(block)
                    out.write(b"<si><t></t></si>" * (count % 65_536))
                    out.write(b"</sst>")
            elif name == plan.sheet_part:
                copy.writestr(info.filename, _EMPTY_SHEET)
            else:
                with source.open(info) as part, copy.open(info.filename, "w") as out:
                    shutil.copyfileobj(part, out, CHUNK)
    return target
