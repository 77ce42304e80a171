"""The streaming XML parser of an ``.xlsx``: the first worksheet, a piece of its XML at a
time, and the shared strings table (in memory up to
``ReaderLimits.shared_strings_memory_bytes``, the rest in a temporary file)."""

from __future__ import annotations

import os
import re
import struct
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from ingest.readers.table import MB, ReaderLimits, Row
from ingest.readers.xlsx_scan import (
    XlsxPlan,
    check_span,
    column_index,
    inflated_chunks,
    part_name,
)

# --- .xlsx, streamed ------------------------------------------------------------------
#
# calamine holds a whole sheet in memory (1.4 GB for a 1,000,000-row export), so the first
# worksheet is read here instead, a piece of XML at a time, into the values calamine would
# give. Only the forms that the exporters we know write are read this way: cells placed by
# reference in row order, numbers, shared strings (plain or rich text), inline strings, and
# numbers under date formats. Anything else (formulas, booleans, errors, phonetic runs,
# '_x000D_' escapes, rows out of order, a 1904 workbook, namespace prefixes…) raises
# NotStreamable, and calamine reads the sheet from there on, after the span check: such a
# file costs what it did before, and reads the same. tests/ingest/test_xlsx_stream.py keeps
# calamine as the reference.


class NotStreamable(Exception):
    """The sheet holds a form the streaming reader does not read; calamine takes over."""


_XML_WHITESPACE = " \t\n\r"
_ENTITY = re.compile(r"&(#[0-9]+|#x[0-9A-Fa-f]+|lt|gt|amp|quot|apos);|&")
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def _unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            raise NotStreamable  # a bare '&' is not XML
        if name in _ENTITIES:
            return _ENTITIES[name]
        try:
            return chr(int(name[2:], 16) if name[1] == "x" else int(name[1:]))
        except (ValueError, OverflowError):
            raise NotStreamable from None

    return _ENTITY.sub(replace, text)


def _xml_text(raw: str, preserve: bool) -> str:
    """A <t> element's text as calamine gives it: trimmed unless xml:space="preserve"."""
    if "\r" in raw or "_x" in raw or "_X" in raw:
        raise NotStreamable  # line-end normalisation and OOXML escapes: calamine's business
    text = raw if preserve else raw.strip(_XML_WHITESPACE)
    return _unescape(text) if "&" in text else text


def _xml_pieces(inflated: Iterator[bytes], end_tag: bytes) -> Iterator[str]:
    """UTF-8 text cut after the last ``end_tag`` of each piece, so no element straddles two."""
    tail = b""
    for chunk in inflated:
        buf = tail + chunk
        cut = buf.rfind(end_tag)
        if cut == -1:
            if len(buf) > 64 * MB:
                raise NotStreamable  # no sane export has a row or string this long
            tail = buf
            continue
        cut += len(end_tag)
        tail = buf[cut:]
        try:
            yield buf[:cut].decode("utf-8")
        except UnicodeDecodeError:
            raise NotStreamable from None
    try:
        yield tail.decode("utf-8")
    except UnicodeDecodeError:
        raise NotStreamable from None


def _open_part(path: Path, part: str) -> Iterator[bytes]:
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if part_name(info.filename) == part:
                yield from inflated_chunks(archive, info)
                return
    raise NotStreamable


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


def load_shared_strings(path: Path, part: str, limits: ReaderLimits) -> SharedStrings:
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
                raise NotStreamable
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
                raise NotStreamable
            strings.append("".join(_xml_text(r.group(2) or "", bool(r.group(1))) for r in runs))


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
        raise NotStreamable  # times of day, the 1900 leap-year bug, the far future
    # timedelta's arguments by position (days, seconds, microseconds, milliseconds): quicker
    # than by name, for millions of date cells (docs/performance.md).
    moment = _EXCEL_EPOCH + timedelta(0, 0, 0, int(serial * 86_400_000 + 0.5))
    return moment.date() if serial == int(serial) else moment


def stream_sheet(
    path: Path, plan: XlsxPlan, shared: list[str], limits: ReaderLimits
) -> Iterator[Row]:
    """``(row_number, values)`` of the sheet's non-empty rows, columns counted from A.

    Also measures the span of the cells the way ``_check_sheet_span`` does, and refuses with
    its message, at the end, a sheet that calamine would have refused. The loop runs once per
    cell (15 million times for a RIS export), hence its flat shape.
    """
    columns: dict[str, int] = {}
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
                raise NotStreamable
        cells = _CELL.findall(piece)
        # Every '<c ' or '<c>' must be a cell this pattern read (cells without a reference are
        # placed by counting, which calamine does and the span check refuses).
        if piece.count("<c") != len(cells) and len(_CELL_START.findall(piece)) != len(cells):
            raise NotStreamable
        # calamine matches cells by local name: one under a prefix would be read there.
        if ":c" in piece and _PREFIXED_CELL.search(piece):
            raise NotStreamable
        if "</sheetData>" in piece:
            finished = True
        for letters, row_text, style, kind, inline, kept, number, other in cells:
            if row_text != row_key:
                current = int(row_text)
                if current <= row_number:
                    raise NotStreamable  # rows out of order: calamine sorts them
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
            column = columns.get(letters)
            if column is None:
                column = column_index(letters.encode()) - 1
                columns[letters] = column
            if column <= last_col:
                raise NotStreamable
            if first_col < 0:
                first_col = column
            last_col = column
            if inline:
                if kind != "inlineStr":
                    raise NotStreamable
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
                        raise NotStreamable
                    value = shared[int(number)]
                    if not value:
                        continue
                elif kind == "inlineStr" or not _NUMBER.fullmatch(number):
                    raise NotStreamable
                elif style in date_styles:
                    value = _excel_date(float(number))
                else:
                    value = float(number)
            elif kept:
                if kind != "inlineStr":
                    raise NotStreamable
                value = _xml_text(kept, True)
            elif other:
                raise NotStreamable
            else:
                continue  # no value: an empty or a formatted-only cell
            if blank_row and (value.strip() if type(value) is str else True):
                blank_row = False
            if column > len(values):
                values.extend([None] * (column - len(values)))
            values.append(value)
    if not finished:
        raise NotStreamable  # truncated or not a worksheet: calamine says what it is
    if values and not blank_row:
        yield row_number, values
    if low_row is not None:
        height = high_row - low_row + 1
        width = max(high_col, last_col) - min(low_col, first_col) + 1
        check_span(height, width, limits)
