"""The shared table builder: what every reader gives (a ``Table``), the errors a file can
raise, the limits that bound a hostile file, and the helpers all formats use."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any

CellValue = str | int | float | bool | datetime | date | time | timedelta | None
Row = tuple[int, list[Any]]
Source = str | os.PathLike[str] | IO[bytes]

ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
CHUNK = 1 << 20
MB = 1024 * 1024


class ReaderError(Exception):
    """A file that cannot be read; ``message`` is meant for the person who uploaded it."""

    status_code = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnsupportedFileType(ReaderError):
    """The file's extension is not one this import accepts (HTTP 415)."""

    status_code = 415


class FileFormatError(ReaderError):
    """The file is not what its name says, or is damaged, empty or malformed (HTTP 422)."""


class FileTooComplex(FileFormatError):
    """The file is valid but bigger inside than the import reads safely (HTTP 422).

    Zip bombs, sheets that span absurd ranges, too many rows or columns.
    """


@dataclass(frozen=True)
class ReaderLimits:
    """Caps that keep a hostile or accidental file from exhausting the server."""

    # .xlsx container, checked from the zip directory alone, before anything is inflated.
    max_zip_entries: int = 10_000
    max_uncompressed_bytes: int = 2 * 1024 * MB
    max_compression_ratio: int = 200
    # Small parts legitimately compress very well (a sheet of empty styled cells), so the
    # ratio is only checked on parts that expand past this.
    ratio_check_min_bytes: int = 8 * MB
    # The dense grid calamine allocates for a sheet: rows × columns between the outermost
    # cells. 30 M cells is about 1 GB before any text.
    max_cells: int = 30_000_000
    # Header width for every format; more is not an export of a RIS.
    max_columns: int = 1_000
    max_json_item_bytes: int = 16 * MB
    # The child process that parses an .xls: address space and wall-clock time.
    xls_memory_bytes: int = 2 * 1024 * MB
    xls_seconds: float = 120.0
    # The text of an .xlsx's shared strings held in memory; the rest waits in a temporary
    # file (``SharedStrings``), and calamine is never given more (``_calamine_copy``).
    shared_strings_memory_bytes: int = 64 * MB


DEFAULT_LIMITS = ReaderLimits()


@dataclass
class Table:
    """A readable file: its header and a re-iterable stream of data rows.

    ``rows()`` may be called more than once (a validation pass, then a write pass), but one
    iteration at a time. Close the table (or use it as a context manager) to release the
    workbook and any temporary copy.
    """

    file_name: str
    format: str
    headers: list[str]
    # Spreadsheet row number of the header row; None for JSON, which has no header row.
    header_row: int | None
    sheet_name: str | None = None
    # Other sheets of a workbook, which are not read.
    other_sheets: list[str] = field(default_factory=list)
    max_rows: int | None = None
    _raw_rows: Callable[[], Iterator[Row]] | None = field(default=None, repr=False)
    _cleanup: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def rows(self) -> Iterator[Row]:
        """Yield ``(row_number, values)`` for every data row that is not entirely empty.

        ``row_number`` is what a person sees in the spreadsheet (the header is usually row
        1); for JSON it is the 1-based position of the object in the list. ``values`` has
        exactly one entry per header, ``None`` for empty cells; cells to the right of the
        last header are dropped, and a row with nothing else is skipped.
        """
        if self._raw_rows is None:
            raise RuntimeError("The table is closed")
        width = len(self.headers)
        count = 0
        for row_number, values in self._raw_rows():
            if self.header_row is not None and row_number <= self.header_row:
                continue
            if len(values) < width:
                values = values + [None] * (width - len(values))
            elif len(values) > width:
                values = values[:width]
                # Cells under no header are not data of this table; a row of only those is
                # as empty as a blank row.
                if all(is_blank(v) for v in values):
                    continue
            count += 1
            if self.max_rows is not None and count > self.max_rows:
                raise FileTooComplex(f"The file has more than {self.max_rows:,} data rows")
            yield row_number, values

    def close(self) -> None:
        self._raw_rows = None
        while self._cleanup:
            self._cleanup.pop()()

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def size_text(n: int) -> str:
    return f"{n // MB:,} MB" if n >= MB else f"{n:,} bytes"


def human_list(extensions: Collection[str]) -> str:
    items = list(extensions)
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " or " + items[-1]


def read_head(source: str | os.PathLike[str] | IO[bytes], size: int = 8) -> bytes:
    if isinstance(source, str | os.PathLike):
        try:
            with Path(source).open("rb") as fh:
                return fh.read(size)
        except OSError as exc:
            raise FileFormatError("The file could not be read") from exc
    source.seek(0)
    head = source.read(size)
    source.seek(0)
    return head


@contextlib.contextmanager
def binary(source: str | os.PathLike[str] | IO[bytes]) -> Iterator[IO[bytes]]:
    """A binary handle at offset 0; a path is opened and closed, a file object only rewound."""
    if isinstance(source, str | os.PathLike):
        with Path(source).open("rb") as fh:
            yield fh
    else:
        source.seek(0)
        yield source


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _header_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def make_headers(values: list[Any], limits: ReaderLimits) -> list[str]:
    headers = [_header_text(v) for v in values]
    while headers and not headers[-1].strip():
        headers.pop()
    if len(headers) > limits.max_columns:
        raise FileTooComplex(f"The header row has more than {limits.max_columns:,} columns")
    return headers


def first_row(raw_rows: Iterator[Row]) -> Row:
    for row in raw_rows:
        return row
    raise FileFormatError("The file has no header row")


def looks_like(head: bytes) -> str | None:
    if head.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
        return "an .xlsx workbook"
    if head.startswith(OLE_MAGIC):
        return "an .xls workbook"
    return None


def sheet_rows(rows: Iterable[list[Any]]) -> Iterator[Row]:
    """calamine's rows of a sheet, numbered from sheet row 1, empty cells as None, blank rows
    left out."""
    for row_number, values in enumerate(rows, start=1):
        cells = [None if v == "" else v for v in values]
        if all(is_blank(v) for v in cells):
            continue
        yield row_number, cells


def refuse_other_sheets(loaded: list[str]) -> None:
    """Only the first sheet is imported; data on another sheet (a long export continues on
    'studies_2') must not be dropped without a word."""
    if loaded:
        raise FileFormatError(
            f"The workbook has data on more than one worksheet ({', '.join(loaded)}); only the "
            "first is imported: save each sheet as its own file"
        )


def table_of_rows(
    raw_rows: Callable[[], Iterator[Row]],
    *,
    file_name: str,
    format_name: str,
    limits: ReaderLimits,
    sheet_name: str | None = None,
    sheet_names: Iterable[str] = (),
    cleanup: list[Callable[[], None]] | None = None,
) -> Table:
    """The table whose header is the first row ``raw_rows()`` gives."""
    header_row, header_values = first_row(raw_rows())
    return Table(
        file_name=file_name,
        format=format_name,
        headers=make_headers(header_values, limits),
        header_row=header_row,
        sheet_name=sheet_name,
        other_sheets=[name for name in sheet_names if name != sheet_name],
        _raw_rows=raw_rows,
        _cleanup=cleanup if cleanup is not None else [],
    )
