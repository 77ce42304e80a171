"""The ``.xlsx`` zip-bomb scanner and the streaming plan: what a workbook holds, read from its
zip directory and small parts before any parser sees it.

calamine parses a sheet into a dense grid (rows × columns between the outermost cells, about
32 bytes each plus the text): a 5 KB workbook with one cell in A1 and one in XFD1048576 makes
it allocate hundreds of GB and abort the whole process, which no ``try`` can catch. So the
container (entries, declared sizes, compression ratio), the span of every sheet and the
shared strings' declared count are checked first (``check_xlsx``).
"""

from __future__ import annotations

import codecs
import os
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from ingest.readers.table import MB, FileFormatError, FileTooComplex, ReaderLimits, size_text


def check_xlsx(
    path: Path, limits: ReaderLimits, *, plan_streaming: bool = False
) -> XlsxPlan | None:
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
                    f"The file expands to more than {size_text(limits.max_uncompressed_bytes)}; "
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
        names = {part_name(info.filename) for info in infos}
        if "xl/workbook.xml" not in names:
            raise FileFormatError("The file is not a valid .xlsx workbook")
        plan = plan_stream(archive) if plan_streaming else None
        for info in infos:
            name = part_name(info.filename)
            if name == "xl/sharedstrings.xml":
                _check_shared_strings(archive, info, limits)
            elif _SHEET_PART.match(name) and not name.endswith(".rels"):
                if plan is not None and name == plan.sheet_part:
                    continue
                _check_sheet_span(archive, info, limits)
    return plan


def part_name(filename: str) -> str:
    # calamine finds parts case-insensitively; normalise the same way, and more.
    return filename.replace("\\", "/").lstrip("/").lower()


_SHEET_PART = re.compile(r"xl/(?:worksheets|chartsheets|dialogsheets)/")
_UNUSUAL_SHEET = (
    "The worksheet is written in a form this importer cannot check safely; "
    "open it in Excel and save it again as .xlsx"
)


def inflated_chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    try:
        with archive.open(info) as fh:
            while chunk := fh.read(4 * MB):
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
    for body in _tag_bodies(inflated_chunks(archive, info)):
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
    indexes = [column_index(c) for c in columns]
    height = high_row - low_row + 1
    width = max(indexes) - min(indexes) + 1
    check_span(height, width, limits)


def check_span(height: int, width: int, limits: ReaderLimits) -> None:
    """Refuse a sheet whose grid (``height`` rows × ``width`` columns between its outermost
    cells) is larger than ``limits.max_cells``."""
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


def column_index(letters: bytes) -> int:
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
    for chunk in inflated_chunks(archive, info):
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
        if len(seen) > MB:
            break
    raise FileFormatError("The .xlsx workbook is damaged (no shared strings table)")


def check_sheet_part(path: Path, part: str, limits: ReaderLimits) -> None:
    """The span check of one sheet part (by its lower-cased name), before calamine loads it."""
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if part_name(info.filename) == part:
                _check_sheet_span(archive, info, limits)


@dataclass(frozen=True)
class XlsxPlan:
    """Where the first worksheet and its context live, for the streaming reader."""

    sheet_name: str
    sheet_part: str  # lower-cased, as part_name gives it
    shared_strings_part: str | None
    # Style indexes (the cell's s="…") whose number format is a date or time.
    date_styles: frozenset[str]


_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_PLAN_PART_BYTES = 8 * MB


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


def plan_stream(archive: zipfile.ZipFile) -> XlsxPlan | None:
    """A plan to stream the first worksheet, or None to leave the workbook to calamine.

    Read from the workbook's small parts only (workbook, relationships, styles).
    """
    names = {part_name(info.filename): info for info in archive.infolist()}
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
    return XlsxPlan(
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
            custom_format_kind(custom[number_format])
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


def custom_format_kind(code: str) -> str:
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


TOO_MANY_STRINGS = (
    "The workbook's shared strings table is too large to read in the form this workbook "
    "is written in; open it in Excel and save it again as .xlsx"
)


def shared_strings_size(path: Path) -> int:
    """The declared inflated size of the shared strings part (0 without one)."""
    with zipfile.ZipFile(path) as archive:
        return sum(
            info.file_size
            for info in archive.infolist()
            if part_name(info.filename) == "xl/sharedstrings.xml"
        )
