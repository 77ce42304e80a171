"""Uploaded files → header and rows of plain Python values.

Pure: no Django, no ORM. ``read_table`` checks a file before any parser sees it, then gives
its header row and a lazy, re-iterable stream of ``(row_number, values)``. Values stay what
the format gives (``str``, ``int``, ``float``, ``bool``, ``datetime``/``date``/``time``/
``timedelta`` from Excel); ``ingest.rows`` turns them into field values. Every problem with
the file itself is a ``ReaderError`` whose message can be shown to the person who uploaded it.

Memory, per format:

- ``.csv``: one row at a time (plus one validation pass over the bytes to settle the encoding).
- ``.json``: one list item at a time, in two passes (the first collects the keys that make the
  header), so an item may not exceed ``ReaderLimits.max_json_item_bytes``.
- ``.xlsx``: the first worksheet is streamed, a piece of its XML at a time, into the values
  calamine would give (``_stream_sheet``), plus the shared strings table (in memory up to
  ``ReaderLimits.shared_strings_memory_bytes``, the rest in a temporary file, so that a
  table that expands to 2 GB costs no more memory than a small one);
  about 300 MB for a 1,000,000-row import, most of it the validator's set of keys. A form of
  sheet the stream does not read hands over to calamine (see "streamed" below), which
  parses the whole sheet into a dense Rust grid (rows × columns cells, about 32 bytes each
  plus the text): a 1,000,000 × 15 sheet costs about 1.4 GB. That grid is also why
  ``.xlsx`` files are scanned before calamine loads a sheet (see ``_check_xlsx``): a 5 KB
  workbook with one cell in A1 and one in XFD1048576 makes calamine allocate hundreds of GB
  and abort the whole process, which no ``try`` can catch. The streamed sheet is measured
  the same way as it is read, and refused with the same message.
- ``.xls``: calamine reads the whole sheet. An ``.xls`` cannot be checked so
  cheaply (its cell records address up to 65,536 × 65,536 cells, and a cycle in the compound
  file's sector chains makes calamine grow a buffer without end): it is parsed in a child
  process with a memory cap (``ReaderLimits.xls_memory_bytes``) and a time limit, which sends
  the rows back; a file that makes calamine abort kills only that child.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import os
import pickle
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from operator import itemgetter
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree

import python_calamine

CellValue = str | int | float | bool | datetime | date | time | timedelta | None
Row = tuple[int, list[Any]]

STUDY_EXTENSIONS: tuple[str, ...] = (".xlsx", ".xls", ".csv")
REPORT_EXTENSIONS: tuple[str, ...] = (".xlsx", ".csv", ".json")

_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CHUNK = 1 << 20
_MB = 1024 * 1024


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
    max_uncompressed_bytes: int = 2 * 1024 * _MB
    max_compression_ratio: int = 200
    # Small parts legitimately compress very well (a sheet of empty styled cells), so the
    # ratio is only checked on parts that expand past this.
    ratio_check_min_bytes: int = 8 * _MB
    # The dense grid calamine allocates for a sheet: rows × columns between the outermost
    # cells. 30 M cells is about 1 GB before any text.
    max_cells: int = 30_000_000
    # Header width for every format; more is not an export of a RIS.
    max_columns: int = 1_000
    max_json_item_bytes: int = 16 * _MB
    # The child process that parses an .xls: address space and wall-clock time.
    xls_memory_bytes: int = 2 * 1024 * _MB
    xls_seconds: float = 120.0
    # The text of an .xlsx's shared strings held in memory; the rest waits in a temporary
    # file (``SharedStrings``), and calamine is never given more (``_calamine_copy``).
    shared_strings_memory_bytes: int = 64 * _MB


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
                if all(_is_blank(v) for v in values):
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


def file_extension(file_name: str) -> str:
    """Lower-cased extension with its dot ('' if none); browsers may send a Windows path."""
    base = file_name.replace("\\", "/").rsplit("/", 1)[-1]
    if "." not in base.strip("."):
        return ""
    return "." + base.rsplit(".", 1)[-1].lower()


def check_extension(file_name: str, allowed_extensions: Collection[str]) -> str:
    """The file's extension, or ``UnsupportedFileType`` naming what may be uploaded."""
    extension = file_extension(file_name)
    if extension not in allowed_extensions:
        shown = f"'{extension}'" if extension else "(no extension)"
        raise UnsupportedFileType(
            f"Unsupported file type {shown}: upload {_human_list(allowed_extensions)}"
        )
    return extension


def read_table(
    source: str | os.PathLike[str] | IO[bytes],
    *,
    file_name: str,
    allowed_extensions: Collection[str] = STUDY_EXTENSIONS,
    limits: ReaderLimits = DEFAULT_LIMITS,
    max_rows: int | None = None,
) -> Table:
    """Open an uploaded file and read its header row.

    ``source`` is a path or a seekable binary file; ``file_name`` is the name the user gave
    it, whose extension picks the format. Raises ``UnsupportedFileType`` (415) for an
    extension outside ``allowed_extensions`` and ``FileFormatError`` / ``FileTooComplex``
    (422) for anything wrong with the content. Exceeding ``max_rows`` data rows raises
    ``FileTooComplex`` while iterating ``rows()``.
    """
    extension = check_extension(file_name, allowed_extensions)
    head = _read_head(source)
    if not head:
        raise FileFormatError("The file is empty")
    if extension == ".csv":
        table = _open_csv(source, head, file_name, limits)
    elif extension == ".json":
        table = _open_json(source, head, file_name, limits)
    else:
        table = _open_workbook(source, head, extension, file_name, limits)
    table.max_rows = max_rows
    return table


# --- shared helpers -------------------------------------------------------------------


def _size(n: int) -> str:
    return f"{n // _MB:,} MB" if n >= _MB else f"{n:,} bytes"


def _human_list(extensions: Collection[str]) -> str:
    items = list(extensions)
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " or " + items[-1]


def _read_head(source: str | os.PathLike[str] | IO[bytes], size: int = 8) -> bytes:
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
def _binary(source: str | os.PathLike[str] | IO[bytes]) -> Iterator[IO[bytes]]:
    """A binary handle at offset 0; a path is opened and closed, a file object only rewound."""
    if isinstance(source, str | os.PathLike):
        with Path(source).open("rb") as fh:
            yield fh
    else:
        source.seek(0)
        yield source


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _header_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _make_headers(values: list[Any], limits: ReaderLimits) -> list[str]:
    headers = [_header_text(v) for v in values]
    while headers and not headers[-1].strip():
        headers.pop()
    if len(headers) > limits.max_columns:
        raise FileTooComplex(f"The header row has more than {limits.max_columns:,} columns")
    return headers


def _first_row(raw_rows: Iterator[Row]) -> Row:
    for row in raw_rows:
        return row
    raise FileFormatError("The file has no header row")


def _looks_like(head: bytes) -> str | None:
    if head.startswith((_ZIP_MAGIC, _EMPTY_ZIP_MAGIC)):
        return "an .xlsx workbook"
    if head.startswith(_OLE_MAGIC):
        return "an .xls workbook"
    return None


# --- CSV ------------------------------------------------------------------------------


def _open_csv(
    source: str | os.PathLike[str] | IO[bytes], head: bytes, file_name: str, limits: ReaderLimits
) -> Table:
    kind = _looks_like(head)
    if kind:
        raise FileFormatError(f"The file is not a valid .csv file (it looks like {kind})")
    encoding = _csv_encoding(source, head)
    delimiter = _csv_delimiter(source, encoding)

    def raw_rows() -> Iterator[Row]:
        with _binary(source) as fh:
            text = io.TextIOWrapper(fh, encoding=encoding, newline="")
            try:
                reader = csv.reader(text, delimiter=delimiter)
                # Excel shows one row per record, even when a quoted cell spans lines.
                row_number = 0
                while True:
                    try:
                        record = next(reader)
                    except StopIteration:
                        break
                    except csv.Error as exc:
                        raise FileFormatError(
                            f"The CSV file is malformed at row {row_number + 1}: {exc}"
                        ) from exc
                    row_number += 1
                    values = [v if v != "" else None for v in record]
                    if all(_is_blank(v) for v in values):
                        continue
                    yield row_number, values
            except UnicodeDecodeError as exc:
                raise FileFormatError(
                    f"The CSV file is not valid {_ENCODING_NAMES[encoding]} text"
                ) from exc
            finally:
                # Leave a caller's file object open: the wrapper would close it.
                text.detach()

    header_row, header_values = _first_row(raw_rows())
    return Table(
        file_name=file_name,
        format="csv",
        headers=_make_headers(header_values, limits),
        header_row=header_row,
        _raw_rows=raw_rows,
    )


_ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "utf-16": "UTF-16", "gb18030": "GB18030"}


def _csv_encoding(source: str | os.PathLike[str] | IO[bytes], head: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030.

    Excel on a Chinese Windows saves "CSV" in the ANSI code page, GBK, of which GB18030 is
    the superset. A file is taken as GB18030 only if it is not UTF-8 from its first non-ASCII
    characters on: a UTF-8 file with a damaged byte deep inside is refused, rather than read
    as GB18030 and every Chinese name in it silently garbled.
    """
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8"
    failure = _first_decode_error(source, encoding)
    if failure is None:
        return encoding
    line, multibyte_before = failure
    if encoding != "utf-8":
        raise FileFormatError(
            f"The CSV file is not valid {_ENCODING_NAMES[encoding]} text (bad bytes near line {line})"
        )
    if multibyte_before >= 8:
        raise FileFormatError(f"The CSV file is not valid UTF-8 text (bad bytes near line {line})")
    if _first_decode_error(source, "gb18030") is None:
        return "gb18030"
    raise FileFormatError(
        f"The CSV file is neither UTF-8 nor GB18030 (GBK) text (bad bytes near line {line})"
    )


def _first_decode_error(
    source: str | os.PathLike[str] | IO[bytes], encoding: str
) -> tuple[int, int] | None:
    """None if the whole file decodes; else (line number, extra UTF-8 bytes before the error)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    lines = 1
    multibyte = 0
    with _binary(source) as fh:
        while True:
            chunk = fh.read(_CHUNK)
            final = not chunk
            try:
                text = decoder.decode(chunk, final=final)
            except UnicodeDecodeError as exc:
                good = chunk[: max(exc.start, 0)]
                lines += good.count(b"\n")
                with contextlib.suppress(UnicodeDecodeError):
                    multibyte += len(good) - len(good.decode(encoding, errors="ignore"))
                return lines, multibyte
            lines += chunk.count(b"\n")
            # Bytes beyond one per character: how much non-ASCII text decoded cleanly.
            multibyte += len(chunk) - len(text)
            if final:
                return None


def _csv_delimiter(source: str | os.PathLike[str] | IO[bytes], encoding: str) -> str:
    """Comma unless the first line clearly uses tabs or semicolons (European Excel)."""
    with _binary(source) as fh:
        text = io.TextIOWrapper(fh, encoding=encoding, newline="")
        try:
            first_line = text.readline(64 * 1024)
        finally:
            text.detach()
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


# --- JSON -----------------------------------------------------------------------------


def _open_json(
    source: str | os.PathLike[str] | IO[bytes], head: bytes, file_name: str, limits: ReaderLimits
) -> Table:
    kind = _looks_like(head)
    if kind:
        raise FileFormatError(f"The file is not a valid .json file (it looks like {kind})")

    # First pass: the union of keys in first-seen order is the header.
    seen: dict[str, None] = {}
    count = 0
    for _, item in _json_items(source, limits):
        count += 1
        for key in item:
            if key not in seen:
                seen[key] = None
                if len(seen) > limits.max_columns:
                    raise FileTooComplex(
                        f"The JSON objects have more than {limits.max_columns:,} different keys"
                    )
    if count == 0:
        raise FileFormatError("The JSON list is empty")
    headers = list(seen)

    def raw_rows() -> Iterator[Row]:
        for number, item in _json_items(source, limits):
            values = [item.get(key) for key in headers]
            if all(_is_blank(v) for v in values):
                continue
            yield number, values

    return Table(
        file_name=file_name, format="json", headers=headers, header_row=None, _raw_rows=raw_rows
    )


class _JsonStream:
    """Characters of a UTF-8 JSON file, refilled in chunks, for a streaming list parser."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._fh = fh
        self.buf = ""
        self.pos = 0
        self.eof = False

    def more(self) -> bool:
        if self.eof:
            return False
        chunk = self._fh.read(_CHUNK)
        try:
            text = self._decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            raise FileFormatError("The JSON file is not UTF-8 text") from exc
        if not chunk:
            self.eof = True
        self.buf = self.buf[self.pos :] + text
        self.pos = 0
        return True

    def peek(self) -> str:
        """The next non-whitespace character without consuming it; '' at the end."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return ""


_NOT_A_LIST = "The JSON file must contain a list of objects"


def _json_items(
    source: str | os.PathLike[str] | IO[bytes], limits: ReaderLimits
) -> Iterator[tuple[int, dict[str, Any]]]:
    decoder = json.JSONDecoder()
    with _binary(source) as fh:
        stream = _JsonStream(fh)
        if stream.peek() != "[":
            raise FileFormatError(_NOT_A_LIST)
        stream.pos += 1
        if stream.peek() == "]":
            stream.pos += 1
        else:
            number = 0
            while True:
                if stream.peek() == "":
                    raise FileFormatError("The JSON file is not valid JSON (it ends too early)")
                try:
                    item, end = decoder.raw_decode(stream.buf, stream.pos)
                except RecursionError as exc:
                    raise FileFormatError(
                        f"The JSON file is nested too deeply (item {number + 1})"
                    ) from exc
                except json.JSONDecodeError as exc:
                    # Most often the item only continues in the next chunk.
                    if len(stream.buf) - stream.pos > limits.max_json_item_bytes:
                        raise FileTooComplex(
                            "An item of the JSON list is larger than "
                            f"{_size(limits.max_json_item_bytes)}"
                        ) from exc
                    if stream.more():
                        continue
                    raise FileFormatError(
                        f"The JSON file is not valid JSON (item {number + 1}: {exc.msg})"
                    ) from exc
                except ValueError as exc:
                    # Python refuses to convert integers of more than 4,300 digits.
                    raise FileFormatError(
                        f"The JSON file has a number too long to read (item {number + 1})"
                    ) from exc
                number += 1
                if not isinstance(item, dict):
                    raise FileFormatError(f"{_NOT_A_LIST} (item {number} is not an object)")
                if _has_surrogates(item):
                    # "\ud800" escapes decode to text that no database can store.
                    raise FileFormatError(
                        f"The JSON file has text that is not valid Unicode (item {number})"
                    )
                stream.pos = end
                yield number, item
                separator = stream.peek()
                stream.pos += 1
                if separator == "]":
                    break
                if separator == "":
                    raise FileFormatError("The JSON file is not valid JSON (it ends too early)")
                if separator != ",":
                    raise FileFormatError(f"The JSON file is not valid JSON (after item {number})")
        if stream.peek() != "":
            raise FileFormatError("The JSON file is not valid JSON (text after the list)")


def _has_surrogates(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_surrogates(k) or _has_surrogates(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogates(v) for v in value)
    return False


# --- workbooks ------------------------------------------------------------------------


def _open_workbook(
    source: str | os.PathLike[str] | IO[bytes],
    head: bytes,
    extension: str,
    file_name: str,
    limits: ReaderLimits,
) -> Table:
    if head.startswith((_ZIP_MAGIC, _EMPTY_ZIP_MAGIC)):
        # Some hospital systems save .xlsx content under an .xls name; read it as what it is.
        content = ".xlsx"
    elif head.startswith(_OLE_MAGIC):
        if extension == ".xlsx":
            # Excel wraps a password-protected .xlsx in this container; an old .xls renamed
            # looks the same from outside.
            raise FileFormatError("The workbook is encrypted or not an .xlsx file")
        content = ".xls"
    elif extension == ".xls" and head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        raise FileFormatError(
            "The file is not a valid .xls workbook (it is a web page saved under an .xls "
            "name; open it in Excel and save it as .xlsx)"
        )
    else:
        raise FileFormatError(f"The file is not a valid {extension} workbook")

    cleanup: list[Callable[[], None]] = []
    try:
        path = _path_with_suffix(source, content, cleanup)
        if content == ".xls":
            return _xls_table(path, file_name, limits, cleanup)
        plan = _check_xlsx(path, limits, plan_streaming=True)
        return _calamine_table(path, content, file_name, limits, cleanup, plan=plan)
    except BaseException:
        for step in reversed(cleanup):
            step()
        raise


def _path_with_suffix(
    source: str | os.PathLike[str] | IO[bytes], suffix: str, cleanup: list[Callable[[], None]]
) -> Path:
    """A path ending in ``suffix`` with the file's bytes.

    calamine picks its parser from a path's extension; a path ending in anything else makes
    it guess from the content and possibly pick another format (.ods, .xlsb) that the checks
    here do not cover. A file object is spooled to a temporary file (constant memory).
    """
    if isinstance(source, str | os.PathLike) and Path(source).suffix.lower() == suffix:
        return Path(source)
    directory = tempfile.mkdtemp(prefix="ingest-")
    cleanup.append(lambda: shutil.rmtree(directory, ignore_errors=True))
    target = Path(directory) / f"upload{suffix}"
    if isinstance(source, str | os.PathLike):
        try:
            target.symlink_to(Path(source).resolve())
        except OSError:
            shutil.copyfile(source, target)
    else:
        source.seek(0)
        with target.open("wb") as out:
            shutil.copyfileobj(source, out, _CHUNK)
        source.seek(0)
    return target


def _calamine_table(
    path: Path,
    content: str,
    file_name: str,
    limits: ReaderLimits,
    cleanup: list[Callable[[], None]],
    *,
    plan: _XlsxPlan | None = None,
) -> Table:
    """The workbook's first worksheet as a Table.

    With a ``plan`` (see ``_check_xlsx``) calamine only answers the workbook's metadata and the
    first sheet is streamed (``_stream_sheet``); its span has not been checked, so calamine must
    not load it unless ``_check_sheet_part`` passes first (which ``_fallback_rows`` does).
    """
    big_strings = _shared_strings_size(path) > limits.shared_strings_memory_bytes
    shared: SharedStrings | None = None
    opened = path
    if big_strings:
        if plan is None or plan.shared_strings_part is None:
            raise FileTooComplex(_TOO_MANY_STRINGS)
        # calamine reads every shared string when it opens a workbook. It only answers the
        # metadata here (the first sheet is streamed), so it gets a copy without their text.
        try:
            shared = _load_shared_strings(path, plan.shared_strings_part, limits)
        except _NotStreamable:
            raise FileTooComplex(_TOO_MANY_STRINGS) from None
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
                raise FileTooComplex(_TOO_MANY_STRINGS)
            _check_sheet_part(path, plan.sheet_part, limits)
            plan = None
        sheet = None
        if plan is None:
            sheet = workbook.get_sheet_by_index(workbook.sheet_names.index(sheets[0]))
        # Only the first sheet is imported; data on another sheet (a long export continues
        # on 'studies_2') must not be dropped without a word.
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
    if loaded:
        raise FileFormatError(
            f"The workbook has data on more than one worksheet ({', '.join(loaded)}); only the "
            "first is imported: save each sheet as its own file"
        )

    if plan is not None:
        return _streamed_table(
            path, plan, file_name, sheets[0], sheet_names, limits, cleanup, shared=shared
        )

    def raw_rows() -> Iterator[Row]:
        # iter_rows() starts at sheet row 1 (padding leading empty rows) but at the first
        # used column; both are fine here because columns are matched by header text.
        for row_number, values in enumerate(sheet.iter_rows(), start=1):
            cells = [None if v == "" else v for v in values]
            if all(_is_blank(v) for v in cells):
                continue
            yield row_number, cells

    header_row, header_values = _first_row(raw_rows())
    return Table(
        file_name=file_name,
        format=content.lstrip("."),
        headers=_make_headers(header_values, limits),
        header_row=header_row,
        sheet_name=sheets[0],
        other_sheets=[name for name in sheet_names if name != sheets[0]],
        _raw_rows=raw_rows,
        _cleanup=cleanup,
    )


# --- .xls, in a child process ---------------------------------------------------------

# Runs in a fresh interpreter: caps its own address space, parses the first worksheet with
# calamine and pickles what the parent needs to a file, one row at a time. Exit 3: password.
_XLS_CHILD = """
import pickle, resource, sys
limit = int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import python_calamine
try:
    book = python_calamine.CalamineWorkbook.from_path(sys.argv[1])
except python_calamine.PasswordError:
    sys.exit(3)
kinds = {meta.name: meta.typ for meta in book.sheets_metadata}
sheets = [n for n in book.sheet_names if kinds.get(n) == python_calamine.SheetTypeEnum.WorkSheet]
with open(sys.argv[2], "wb") as out:
    if not sheets:
        pickle.dump(None, out)
        sys.exit(0)
    loaded = [n for n in sheets[1:] if book.get_sheet_by_name(n).height > 1]
    pickle.dump((sheets[0], book.sheet_names, loaded), out)
    for row in book.get_sheet_by_name(sheets[0]).iter_rows():
        pickle.dump(row, out)
"""


def _xls_table(
    path: Path, file_name: str, limits: ReaderLimits, cleanup: list[Callable[[], None]]
) -> Table:
    """Parse an .xls in a memory-capped child process; its rows come back through a file."""
    directory = tempfile.mkdtemp(prefix="ingest-xls-")
    cleanup.append(lambda: shutil.rmtree(directory, ignore_errors=True))
    rows_path = Path(directory) / "rows.pickle"
    command = [sys.executable, "-c", _XLS_CHILD, str(path), str(rows_path)]
    try:
        done = subprocess.run(
            [*command, str(limits.xls_memory_bytes)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=limits.xls_seconds,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise FileTooComplex("The .xls workbook takes too long to read; refusing it") from exc
    if done.returncode == 3:
        raise FileFormatError("The workbook is password-protected")
    if done.returncode != 0:
        if b"memory allocation" in done.stderr or b"MemoryError" in done.stderr:
            raise FileTooComplex(
                "The .xls workbook is bigger inside than this importer reads; open it in "
                "Excel and save it as .xlsx"
            )
        raise FileFormatError("The file is not a valid .xls workbook")

    def unpickled() -> Iterator[Any]:
        with rows_path.open("rb") as fh:
            while True:
                try:
                    # Trusted: written by our own child process above.
                    yield pickle.load(fh)
                except EOFError:
                    return

    items = unpickled()
    meta = next(items, None)
    items.close()
    if meta is None:
        raise FileFormatError("The workbook has no worksheet")
    sheet_name, sheet_names, loaded = meta
    if loaded:
        raise FileFormatError(
            f"The workbook has data on more than one worksheet ({', '.join(loaded)}); only the "
            "first is imported: save each sheet as its own file"
        )

    def raw_rows() -> Iterator[Row]:
        rows = unpickled()
        next(rows)
        for row_number, values in enumerate(rows, start=1):
            cells = [None if v == "" else v for v in values]
            if all(_is_blank(v) for v in cells):
                continue
            yield row_number, cells

    header_row, header_values = _first_row(raw_rows())
    return Table(
        file_name=file_name,
        format="xls",
        headers=_make_headers(header_values, limits),
        header_row=header_row,
        sheet_name=sheet_name,
        other_sheets=[name for name in sheet_names if name != sheet_name],
        _raw_rows=raw_rows,
        _cleanup=cleanup,
    )


# --- .xlsx safety checks --------------------------------------------------------------


def _check_xlsx(
    path: Path, limits: ReaderLimits, *, plan_streaming: bool = False
) -> _XlsxPlan | None:
    """Refuse an .xlsx that would make calamine exhaust memory, before calamine opens it.

    First the zip directory alone (no inflating): entry count, declared total size and
    compression ratio. The declared sizes can be trusted because calamine's zip reader stops
    with an error when an entry inflates past its declared size. Then the parts calamine
    sizes its memory by are read as a stream: the sheets, for the span of their cells, and
    the shared strings table, whose declared ``uniqueCount`` calamine reserves up front.

    With ``plan_streaming``, the first worksheet is left out of the span check when it can be
    streamed (the returned plan): calamine will not load it, and the stream measures the
    span itself. Otherwise None is returned and every sheet has been checked.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        raise FileFormatError("The .xlsx workbook is damaged or truncated") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_zip_entries:
            raise FileTooComplex(
                f"The workbook has more than {limits.max_zip_entries:,} parts; refusing to read it"
            )
        total = 0
        for info in infos:
            if info.flag_bits & 0x1:
                raise FileFormatError("The workbook is encrypted or not an .xlsx file")
            total += info.file_size
            if total > limits.max_uncompressed_bytes:
                raise FileTooComplex(
                    f"The file expands to more than {_size(limits.max_uncompressed_bytes)}; "
                    "refusing to read it"
                )
            if (
                info.file_size > limits.ratio_check_min_bytes
                and info.file_size > limits.max_compression_ratio * max(info.compress_size, 1)
            ):
                raise FileTooComplex(
                    f"The file is compressed more than {limits.max_compression_ratio}:1 "
                    "(a zip bomb?); refusing to read it"
                )
        names = {_part_name(info.filename) for info in infos}
        if "xl/workbook.xml" not in names:
            raise FileFormatError("The file is not a valid .xlsx workbook")
        plan = _plan_stream(archive) if plan_streaming else None
        for info in infos:
            name = _part_name(info.filename)
            if name == "xl/sharedstrings.xml":
                _check_shared_strings(archive, info, limits)
            elif _SHEET_PART.match(name) and not name.endswith(".rels"):
                if plan is not None and name == plan.sheet_part:
                    continue
                _check_sheet_span(archive, info, limits)
    return plan


def _part_name(filename: str) -> str:
    # calamine finds parts case-insensitively; normalise the same way, and more.
    return filename.replace("\\", "/").lstrip("/").lower()


_SHEET_PART = re.compile(r"xl/(?:worksheets|chartsheets|dialogsheets)/")
_UNUSUAL_SHEET = (
    "The worksheet is written in a form this importer cannot check safely; "
    "open it in Excel and save it again as .xlsx"
)


def _inflated_chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    try:
        with archive.open(info) as fh:
            while chunk := fh.read(4 * _MB):
                yield chunk
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
        # Includes a CRC mismatch: the part inflates to something else than it declares.
        raise FileFormatError("The .xlsx workbook is damaged or truncated") from exc


def _tag_bodies(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Re-cut a stream of XML so that no tag straddles two pieces."""
    tail = b""
    for chunk in chunks:
        buf = tail + chunk
        cut = buf.rfind(b"<")
        # Tags are short; a long run after the last '<' is text, not a tag being cut.
        if cut == -1 or len(buf) - cut > 64 * 1024:
            yield buf
            tail = b""
        else:
            yield buf[:cut]
            tail = buf[cut:]
    if tail:
        yield tail


_PREFIXED_C = re.compile(rb"<([A-Za-z_][\w.\-]*):c[\s>/]")
_ROOT = re.compile(rb"<(?:([A-Za-z_][\w.\-]*):)?worksheet[\s>/]")


def _check_sheet_span(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ReaderLimits
) -> None:
    """Bound the grid calamine will allocate for this sheet.

    calamine places a cell by its ``r="B7"`` reference, or, lacking one, by counting cells and
    rows, and allocates (last row - first row + 1) × (last column - first column + 1) cells.
    Every writer we know of (Excel, WPS, POI/EasyExcel, NPOI, openpyxl, xlsxwriter) puts
    ``r`` first on every cell. The check relies on that: every cell tag must start
    ``<c r="..."``, and the span of those references is what calamine allocates. A sheet
    written otherwise is refused rather than guessed at; re-saving it in Excel fixes it.
    Cost: one inflate and one regex pass, about 8 s for a 1,000,000-row sheet.
    Self-closing ``<c r="Z9"/>`` (a formatted empty cell) is counted although calamine
    ignores it, so the estimate only errs on the large side.
    """
    prefix: bytes | None = None
    pattern: re.Pattern[bytes] | None = None
    tag_start = b"<c"
    columns: set[bytes] = set()
    low_row: int | None = None
    high_row = 0
    first_col, first_row = itemgetter(0), itemgetter(1)
    for body in _tag_bodies(_inflated_chunks(archive, info)):
        if pattern is None:
            # Every writer uses UTF-8; the byte patterns here would not see UTF-16 tags.
            if (
                body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
                or b"\x00" in body[:1024]
            ):
                raise FileFormatError(_UNUSUAL_SHEET)
            root = _ROOT.search(body)
            if root is None:
                if b"<sheetData" in body or b":sheetData" in body:
                    raise FileFormatError(_UNUSUAL_SHEET)
                continue  # not a worksheet part, or its root is further on
            prefix = root.group(1) + b":" if root.group(1) else b""
            tag_start = b"<" + prefix + b"c"
            pattern = re.compile(re.escape(tag_start) + rb' r="([A-Z]{1,3})([0-9]{1,10})"')
        refs = pattern.findall(body)
        # '<c' also begins <cols>, <cfRule>, <c/>…; only when the quick count disagrees are
        # the tags told apart, which happens in the few pieces holding those elements.
        if body.count(tag_start) != len(refs) and _cell_tags(body, tag_start) != len(refs):
            raise FileFormatError(_UNUSUAL_SHEET)
        # calamine matches the local name: cells under another prefix, or none, count too.
        if prefix and _cell_tags(body, b"<c"):
            raise FileFormatError(_UNUSUAL_SHEET)
        if b":c" in body and any(m.group(1) + b":" != prefix for m in _PREFIXED_C.finditer(body)):
            raise FileFormatError(_UNUSUAL_SHEET)
        if not refs:
            continue
        columns.update(map(first_col, refs))
        rows = {int(r) for r in set(map(first_row, refs))}
        high_row = max(high_row, max(rows))
        low = min(rows)
        low_row = low if low_row is None else min(low_row, low)
    if low_row is None:
        return
    indexes = [_column_index(c) for c in columns]
    height = high_row - low_row + 1
    width = max(indexes) - min(indexes) + 1
    if height * width > limits.max_cells:
        raise FileTooComplex(
            f"The worksheet spans {height:,} rows × {width:,} columns, more than the "
            f"{limits.max_cells:,} cells this importer reads; delete stray cells far below "
            "or to the right of the data"
        )


def _cell_tags(body: bytes, tag_start: bytes) -> int:
    """Start tags of cells that can hold a value: ``<c`` then a space or '>', not ``<c/>``."""
    pattern = re.compile(re.escape(tag_start) + rb"[\s>]")
    return len(pattern.findall(body))


def _column_index(letters: bytes) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + (letter - 64)
    return index


_SST_TAG = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?sst[\s>/][^>]*>")
_UNIQUE_COUNT = re.compile(rb"\suniqueCount\s*=\s*[\"']\s*([0-9]+)")


def _check_shared_strings(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ReaderLimits
) -> None:
    """calamine reserves ``uniqueCount`` strings before reading any: a lie aborts the process."""
    seen = b""
    for chunk in _inflated_chunks(archive, info):
        seen += chunk
        tag = _SST_TAG.search(seen)
        if tag:
            declared = _UNIQUE_COUNT.search(tag.group(0))
            # Each <si> takes at least five bytes, so a true count cannot exceed this.
            if declared and int(declared.group(1)) > min(info.file_size // 5 + 1, limits.max_cells):
                raise FileTooComplex(
                    "The workbook's shared strings table is too large or malformed; "
                    "refusing to read it"
                )
            return
        if len(seen) > _MB:
            break
    raise FileFormatError("The .xlsx workbook is damaged (no shared strings table)")


def _check_sheet_part(path: Path, part: str, limits: ReaderLimits) -> None:
    """The span check of one sheet part (by its lower-cased name), before calamine loads it."""
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if _part_name(info.filename) == part:
                _check_sheet_span(archive, info, limits)


# --- .xlsx, streamed ------------------------------------------------------------------
#
# calamine holds a whole sheet in memory (1.4 GB for a 1,000,000-row export), so the first
# worksheet is read here instead, a piece of XML at a time, into the values calamine would
# give. Only the forms that the exporters we know write are read this way: cells placed by
# reference in row order, numbers, shared strings (plain or rich text), inline strings, and
# numbers under date formats. Anything else (formulas, booleans, errors, phonetic runs,
# '_x000D_' escapes, rows out of order, a 1904 workbook, namespace prefixes…) raises
# _NotStreamable, and calamine reads the sheet from there on, after the span check: such a
# file costs what it did before, and reads the same. tests/ingest/test_xlsx_stream.py keeps
# calamine as the reference.


class _NotStreamable(Exception):
    """The sheet holds a form the streaming reader does not read; calamine takes over."""


@dataclass(frozen=True)
class _XlsxPlan:
    """Where the first worksheet and its context live, for the streaming reader."""

    sheet_name: str
    sheet_part: str  # lower-cased, as _part_name gives it
    shared_strings_part: str | None
    # Style indexes (the cell's s="…") whose number format is a date or time.
    date_styles: frozenset[str]


_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_PLAN_PART_BYTES = 8 * _MB


def _small_xml(archive: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo], part: str) -> Any:
    info = names.get(part)
    if info is None or info.file_size > _PLAN_PART_BYTES:
        return None
    try:
        return ElementTree.fromstring(archive.read(info))
    except (ElementTree.ParseError, zipfile.BadZipFile, EOFError, OSError, ValueError):
        return None


def _relationships(
    archive: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo], part: str
) -> dict[str, tuple[str, str]]:
    """Relationship id → (type, target part name) of a part in xl/."""
    root = _small_xml(archive, names, part)
    if root is None:
        return {}
    found = {}
    for rel in root.iter(f"{{{_REL_NS}}}Relationship"):
        target = rel.get("Target", "").replace("\\", "/")
        if rel.get("TargetMode") == "External" or not target:
            continue
        resolved = target.lstrip("/") if target.startswith("/") else "xl/" + target
        found[rel.get("Id", "")] = (rel.get("Type", ""), os.path.normpath(resolved).lower())
    return found


def _plan_stream(archive: zipfile.ZipFile) -> _XlsxPlan | None:
    """A plan to stream the first worksheet, or None to leave the workbook to calamine.

    Read from the workbook's small parts only (workbook, relationships, styles).
    """
    names = {_part_name(info.filename): info for info in archive.infolist()}
    workbook = _small_xml(archive, names, "xl/workbook.xml")
    if workbook is None or workbook.tag != f"{{{_MAIN_NS}}}workbook":
        return None  # also the 'strict' OOXML namespace: calamine reads those
    properties = workbook.find(f"{{{_MAIN_NS}}}workbookPr")
    if properties is not None and properties.get("date1904", "0").lower() in ("1", "true"):
        return None
    rels = _relationships(archive, names, "xl/_rels/workbook.xml.rels")
    first = None
    for sheet in workbook.iter(f"{{{_MAIN_NS}}}sheet"):
        kind, target = rels.get(sheet.get(f"{{{_DOC_REL_NS}}}id", ""), ("", ""))
        if kind.endswith("/worksheet"):
            first = (sheet.get("name", ""), target)
            break
    if first is None or first[1] not in names:
        return None
    strings = next((t for k, t in rels.values() if k.endswith("/sharedStrings")), None)
    styles = next((t for k, t in rels.values() if k.endswith("/styles")), None)
    date_styles = _date_styles(_small_xml(archive, names, styles) if styles else None)
    if date_styles is None:
        return None
    return _XlsxPlan(
        sheet_name=first[0],
        sheet_part=first[1],
        shared_strings_part=strings if strings in names else None,
        date_styles=date_styles,
    )


def _date_styles(styles: Any) -> frozenset[str] | None:
    """Indexes of cellXfs whose number format calamine reads as a date; None if unsure."""
    if styles is None:
        return frozenset()
    if styles.tag != f"{{{_MAIN_NS}}}styleSheet":
        return None
    custom = {
        fmt.get("numFmtId", ""): fmt.get("formatCode", "")
        for fmt in styles.iter(f"{{{_MAIN_NS}}}numFmt")
    }
    cell_xfs = styles.find(f"{{{_MAIN_NS}}}cellXfs")
    dates = set()
    for index, xf in enumerate([] if cell_xfs is None else cell_xfs.findall(f"{{{_MAIN_NS}}}xf")):
        number_format = xf.get("numFmtId", "0")
        kind = (
            _custom_format_kind(custom[number_format])
            if number_format in custom
            else _builtin_format_kind(number_format)
        )
        if kind == "duration":
            return None  # calamine gives a timedelta; not a form a RIS exports
        if kind == "date":
            dates.add(str(index))
    return frozenset(dates)


def _builtin_format_kind(format_id: str) -> str:
    # Excel's built-in number formats 14–22, 45 and 47 are dates and times, 46 a duration.
    if format_id in ("14", "15", "16", "17", "18", "19", "20", "21", "22", "45", "47"):
        return "date"
    return "duration" if format_id == "46" else "other"


def _custom_format_kind(code: str) -> str:
    """calamine's reading of a custom number format (formats.rs), character by character."""
    escaped = quoted = am_pm = hms = False
    brackets = 0
    previous = " "
    for char in code:
        if escaped:
            escaped = False
        elif char in "_\\*":
            escaped = True
        elif quoted:
            if char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char == ";":
            return "other"
        elif char == "[":
            brackets += 1
        elif char == "]" and brackets == 1 and hms:
            return "duration"
        elif char == "]":
            brackets = max(brackets - 1, 0)
        elif char in "aA" and not am_pm and brackets == 0:
            am_pm = True
        elif brackets == 0 and char in ("pm/PM" if am_pm else "dmhysDMHYS"):
            return "date"
        elif not (hms and char.lower() == previous.lower()):
            hms = previous == "[" and char in "mhsMHS"
        previous = char
    return "other"


def _streamed_table(
    path: Path,
    plan: _XlsxPlan,
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
                shared = _load_shared_strings(path, plan.shared_strings_part, limits)
                cleanup.append(shared.close)
            for row_number, values in _stream_sheet(path, plan, shared or [], limits):
                last = row_number
                yield row_number, values
            return
        except _NotStreamable:
            pass
        yield from _fallback_rows(path, plan, sheet_name, limits, after=last)

    header_row, header_values = _first_row(absolute_rows())
    # Columns are counted from A here; calamine counts from the sheet's first used column.
    # Dropping the blank columns before the header's first keeps the headers (and every
    # imported value) what calamine gives.
    offset = next(i for i, v in enumerate(header_values) if not _is_blank(v))
    headers = _make_headers(header_values[offset:], limits)
    width = len(headers)

    def raw_rows() -> Iterator[Row]:
        for row_number, values in absolute_rows():
            if offset and any(not _is_blank(v) for v in values[:offset]):
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


def _fallback_rows(
    path: Path, plan: _XlsxPlan, sheet_name: str, limits: ReaderLimits, *, after: int
) -> Iterator[Row]:
    """calamine's rows after row ``after``, with columns counted from A like the stream's."""
    if _shared_strings_size(path) > limits.shared_strings_memory_bytes:
        raise FileTooComplex(_TOO_MANY_STRINGS)
    _check_sheet_part(path, plan.sheet_part, limits)
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
        for row_number, values in enumerate(sheet.iter_rows(), start=1):
            if row_number <= after:
                continue
            cells = [None if v == "" else v for v in values]
            if all(_is_blank(v) for v in cells):
                continue
            yield row_number, pad + cells
    finally:
        workbook.close()


_XML_WHITESPACE = " \t\n\r"
_ENTITY = re.compile(r"&(#[0-9]+|#x[0-9A-Fa-f]+|lt|gt|amp|quot|apos);|&")
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def _unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            raise _NotStreamable  # a bare '&' is not XML
        if name in _ENTITIES:
            return _ENTITIES[name]
        try:
            return chr(int(name[2:], 16) if name[1] == "x" else int(name[1:]))
        except (ValueError, OverflowError):
            raise _NotStreamable from None

    return _ENTITY.sub(replace, text)


def _xml_text(raw: str, preserve: bool) -> str:
    """A <t> element's text as calamine gives it: trimmed unless xml:space="preserve"."""
    if "\r" in raw or "_x" in raw or "_X" in raw:
        raise _NotStreamable  # line-end normalisation and OOXML escapes: calamine's business
    text = raw if preserve else raw.strip(_XML_WHITESPACE)
    return _unescape(text) if "&" in text else text


def _xml_pieces(inflated: Iterator[bytes], end_tag: bytes) -> Iterator[str]:
    """UTF-8 text cut after the last ``end_tag`` of each piece, so no element straddles two."""
    tail = b""
    for chunk in inflated:
        buf = tail + chunk
        cut = buf.rfind(end_tag)
        if cut == -1:
            if len(buf) > 64 * _MB:
                raise _NotStreamable  # no sane export has a row or string this long
            tail = buf
            continue
        cut += len(end_tag)
        tail = buf[cut:]
        try:
            yield buf[:cut].decode("utf-8")
        except UnicodeDecodeError:
            raise _NotStreamable from None
    try:
        yield tail.decode("utf-8")
    except UnicodeDecodeError:
        raise _NotStreamable from None


def _open_part(path: Path, part: str) -> Iterator[bytes]:
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if _part_name(info.filename) == part:
                yield from _inflated_chunks(archive, info)
                return
    raise _NotStreamable


_SHARED_ITEM = re.compile(r"<si>(.*?)</si>|<si/>", re.S)
_PLAIN_TEXT = re.compile(r'<t( xml:space="preserve")?>([^<]*)</t>|<t/>')
_RICH_NOISE = re.compile(r"<rPr>.*?</rPr>|<rPr/>|<rPh\b[^>]*>.*?</rPh>|<phoneticPr\b[^>]*/>", re.S)
_RICH_RUN = re.compile(r'<r><t( xml:space="preserve")?>([^<]*)</t></r>|<r><t/></r>')


class SharedStrings:
    """The shared strings table: a list while it takes less than ``limit`` bytes, then a file.

    Past the limit every string goes to an anonymous temporary file (UTF-8) and its end
    offset to a second one, so that memory stays bounded whatever the table's size; a lookup
    reads both with ``os.pread``, behind a small cache (a sheet repeats its common strings).
    """

    _OFFSET = struct.Struct("<Q")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._held: list[str] | None = []
        self._held_bytes = 0
        self._count = 0
        self._text: IO[bytes] | None = None
        self._ends: IO[bytes] | None = None
        self._written = 0
        self._cache: dict[int, str] = {}

    def append(self, value: str) -> None:
        if self._held is not None:
            self._held.append(value)
            self._held_bytes += sys.getsizeof(value) + 8  # the object and the list's pointer
            self._count += 1
            if self._held_bytes > self._limit:
                self._spill()
            return
        data = value.encode("utf-8", "surrogatepass")
        self._text.write(data)
        self._written += len(data)
        self._ends.write(self._OFFSET.pack(self._written))
        self._count += 1

    def _spill(self) -> None:
        held, self._held = self._held, None
        # Closed by close(), which the table's cleanup calls.
        self._text = tempfile.TemporaryFile(prefix="ingest-sst-")  # noqa: SIM115
        self._ends = tempfile.TemporaryFile(prefix="ingest-sst-")  # noqa: SIM115
        self._count = 0
        for value in held:
            self.append(value)

    def finish(self) -> SharedStrings:
        if self._text is not None:
            self._text.flush()
            self._ends.flush()
        return self

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: int) -> str:
        if self._held is not None:
            return self._held[index]
        if not 0 <= index < self._count:
            raise IndexError(index)
        value = self._cache.get(index)
        if value is None:
            if index:
                pair = os.pread(self._ends.fileno(), 16, (index - 1) * 8)
                start, end = self._OFFSET.unpack(pair[:8])[0], self._OFFSET.unpack(pair[8:])[0]
            else:
                start, end = 0, self._OFFSET.unpack(os.pread(self._ends.fileno(), 8, 0))[0]
            value = os.pread(self._text.fileno(), end - start, start).decode(
                "utf-8", "surrogatepass"
            )
            if len(self._cache) >= 65_536:
                self._cache.clear()
            self._cache[index] = value
        return value

    def close(self) -> None:
        self._held, self._cache = [], {}
        for fh in (self._text, self._ends):
            if fh is not None:
                fh.close()
        self._text = self._ends = None
        self._count = 0


def _load_shared_strings(path: Path, part: str, limits: ReaderLimits) -> SharedStrings:
    """The shared strings table, read the way calamine reads it (runs joined, phonetics not)."""
    strings = SharedStrings(limits.shared_strings_memory_bytes)
    try:
        _read_shared_strings(path, part, strings)
    except BaseException:
        strings.close()
        raise
    return strings.finish()


def _read_shared_strings(path: Path, part: str, strings: SharedStrings) -> None:
    started = False
    for piece in _xml_pieces(_open_part(path, part), b"</si>"):
        if not started:
            if re.search(r"<[A-Za-z_][\w.\-]*:sst[\s>]", piece):
                raise _NotStreamable
            started = True
        for item in _SHARED_ITEM.finditer(piece):
            content = item.group(1) or ""
            plain = _PLAIN_TEXT.fullmatch(content)
            if plain is not None:
                strings.append(_xml_text(plain.group(2) or "", bool(plain.group(1))))
                continue
            if not content:
                strings.append("")
                continue
            rest = _RICH_NOISE.sub("", content)
            plain = _PLAIN_TEXT.fullmatch(rest)
            if plain is not None:
                strings.append(_xml_text(plain.group(2) or "", bool(plain.group(1))))
                continue
            runs = list(_RICH_RUN.finditer(rest))
            if sum(len(run.group(0)) for run in runs) != len(rest) or not runs:
                raise _NotStreamable
            strings.append("".join(_xml_text(r.group(2) or "", bool(r.group(1))) for r in runs))


_TOO_MANY_STRINGS = (
    "The workbook's shared strings table is too large to read in the form this workbook "
    "is written in; open it in Excel and save it again as .xlsx"
)


def _shared_strings_size(path: Path) -> int:
    """The declared inflated size of the shared strings part (0 without one)."""
    with zipfile.ZipFile(path) as archive:
        return sum(
            info.file_size
            for info in archive.infolist()
            if _part_name(info.filename) == "xl/sharedstrings.xml"
        )


_EMPTY_SHEET = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b"<sheetData/></worksheet>"
)


def _calamine_copy(path: Path, plan: _XlsxPlan, count: int, cleanup: list) -> Path:
    """The workbook for calamine's metadata: ``count`` empty shared strings (the indexes of
    the other sheets stay valid), and an empty first sheet (which is streamed, not read by
    calamine). Every other part is copied as it is; the checks of ``_check_xlsx`` hold."""
    directory = tempfile.mkdtemp(prefix="ingest-")
    cleanup.append(lambda: shutil.rmtree(directory, ignore_errors=True))
    target = Path(directory) / "metadata.xlsx"
    with (
        zipfile.ZipFile(path) as source,
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as copy,
    ):
        for info in source.infolist():
            name = _part_name(info.filename)
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
                    shutil.copyfileobj(part, out, _CHUNK)
    return target


# One cell: reference, then the common forms (style, type, and an inline string or a <v>),
# else the rest of the cell in the last group, which the stream does not read.
_CELL = re.compile(
    r'<c r="([A-Z]{1,3})([0-9]{1,10})"'
    r'(?:(?: s="([0-9]+)")?(?: t="(s|n|inlineStr)")?'
    r"(?:\s*/>|>(?:<is><t>([^<]*)</t></is>|<is><t xml:space=\"preserve\">([^<]*)</t></is>"
    r"|<v>([^<]*)</v>|)</c>)"
    r"|([^>]*?(?:/>|>.*?</c>)))",
    re.S,
)
_NUMBER = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_CELL_START = re.compile(r"<c[\s>]")
_PREFIXED_CELL = re.compile(r"<[A-Za-z_][\w.\-]*:c[\s>/]")
_EXCEL_EPOCH = datetime(1899, 12, 30)


def _excel_date(serial: float) -> datetime | date:
    """calamine's reading of a serial under a date format: whole days a date, else a datetime
    to the millisecond (rounded half away from zero)."""
    if not 61 <= serial < 2_958_466:
        raise _NotStreamable  # times of day, the 1900 leap-year bug, the far future
    moment = _EXCEL_EPOCH + timedelta(milliseconds=int(serial * 86_400_000 + 0.5))
    return moment.date() if serial == int(serial) else moment


def _stream_sheet(
    path: Path, plan: _XlsxPlan, shared: list[str], limits: ReaderLimits
) -> Iterator[Row]:
    """``(row_number, values)`` of the sheet's non-empty rows, columns counted from A.

    Also measures the span of the cells the way ``_check_sheet_span`` does, and refuses with
    its message, at the end, a sheet that calamine would have refused. The loop runs once per
    cell (15 million times for a RIS export), hence its flat shape.
    """
    column_index: dict[str, int] = {}
    date_styles = plan.date_styles
    strings = len(shared)
    row_key = ""
    row_number = 0
    values: list[Any] = []
    low_row: int | None = None
    high_row = 0
    low_col = 1 << 30
    high_col = -1
    first_col = last_col = -1
    blank_row = True
    finished = False
    first = True
    for piece in _xml_pieces(_open_part(path, plan.sheet_part), b"</row>"):
        if first:
            first = False
            if re.search(r"<[A-Za-z_][\w.\-]*:(?:worksheet|sheetData)[\s>/]", piece):
                raise _NotStreamable
        cells = _CELL.findall(piece)
        # Every '<c ' or '<c>' must be a cell this pattern read (cells without a reference are
        # placed by counting, which calamine does and the span check refuses).
        if piece.count("<c") != len(cells) and len(_CELL_START.findall(piece)) != len(cells):
            raise _NotStreamable
        # calamine matches cells by local name: one under a prefix would be read there.
        if ":c" in piece and _PREFIXED_CELL.search(piece):
            raise _NotStreamable
        if "</sheetData>" in piece:
            finished = True
        for letters, row_text, style, kind, inline, kept, number, other in cells:
            if row_text != row_key:
                current = int(row_text)
                if current <= row_number:
                    raise _NotStreamable  # rows out of order: calamine sorts them
                if first_col >= 0:
                    low_col = min(low_col, first_col)
                    high_col = max(high_col, last_col)
                if values and not blank_row:
                    yield row_number, values
                values = []
                blank_row = True
                row_key = row_text
                row_number = current
                first_col = last_col = -1
                if low_row is None:
                    low_row = current
                high_row = current
            column = column_index.get(letters)
            if column is None:
                column = _column_index(letters.encode()) - 1
                column_index[letters] = column
            if column <= last_col:
                raise _NotStreamable
            if first_col < 0:
                first_col = column
            last_col = column
            if inline:
                if kind != "inlineStr":
                    raise _NotStreamable
                if (
                    inline[0] in _XML_WHITESPACE
                    or inline[-1] in _XML_WHITESPACE
                    or "&" in inline
                    or "_" in inline
                    or "\r" in inline
                ):
                    value: Any = _xml_text(inline, False)
                    if not value:
                        continue
                else:
                    value = inline
            elif number:
                if kind == "s":
                    if not number.isdigit() or int(number) >= strings:
                        raise _NotStreamable
                    value = shared[int(number)]
                    if not value:
                        continue
                elif kind == "inlineStr" or not _NUMBER.fullmatch(number):
                    raise _NotStreamable
                elif style in date_styles:
                    value = _excel_date(float(number))
                else:
                    value = float(number)
            elif kept:
                if kind != "inlineStr":
                    raise _NotStreamable
                value = _xml_text(kept, True)
            elif other:
                raise _NotStreamable
            else:
                continue  # no value: an empty or a formatted-only cell
            if blank_row and (value.strip() if type(value) is str else True):
                blank_row = False
            if column > len(values):
                values.extend([None] * (column - len(values)))
            values.append(value)
    if not finished:
        raise _NotStreamable  # truncated or not a worksheet: calamine says what it is
    if values and not blank_row:
        yield row_number, values
    if low_row is not None:
        height = high_row - low_row + 1
        width = max(high_col, last_col) - min(low_col, first_col) + 1
        if height * width > limits.max_cells:
            raise FileTooComplex(
                f"The worksheet spans {height:,} rows × {width:,} columns, more than the "
                f"{limits.max_cells:,} cells this importer reads; delete stray cells far below "
                "or to the right of the data"
            )
