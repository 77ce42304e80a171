"""Exports of a search to .xlsx and CSV, streamed in constant memory: the studies' here, and
the machinery that the reports' (reports.exports) shares, given its own ``Columns``.

The studies' headers and values are the RIS's (gender as 男/女/未知), which the importer maps
back, so an export imports again unchanged. A workbook opens ready to work in: the header row
frozen, columns as wide as their contents usually are, an autofilter on the header.

Both formats are produced while they are sent: nothing waits for the last row. On PostgreSQL
the database formats every row itself inside a ``COPY ... TO STDOUT`` (CSV fields, or a
worksheet's ``<row>`` XML) and Python only passes bytes on, because per-value Python code was
what made a million-row export take minutes. Elsewhere (SQLite) the same bytes are made in
Python from the selector's rows. The .xlsx is zipped on the fly by ``stream-zip``.
"""

import csv
import io
import re
import tempfile
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any

from django.conf import settings
from django.db import connections, transaction
from django.db.models import DateTimeField, Field, IntegerField, Model, QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from psycopg import ClientCursor, Copy, DatabaseError, pq
from stream_zip import ZIP_32, stream_zip

from audit.services import audit_note
from studies.models import DETAIL_FIELDS, Study
from studies.ris import RIS_HEADERS

EXPORT_HEADERS = RIS_HEADERS
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A spreadsheet treats a cell starting with one of these as a formula (OWASP CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
XLSX_MAX_CELL = 32767
XLSX_MAX_ROWS = 1_048_576
# Worksheets are plain (32-bit) zip members: Excel and LibreOffice mishandle Zip64 ones. A
# member holds at most 4 GiB, so a sheet this large continues on the next one.
XLSX_MAX_SHEET_BYTES = 4_000_000_000
# Level 1 deflates the very repetitive sheet XML about as well as 6 at several times the speed.
ZIP_LEVEL = 1
CHUNK_BYTES = 256 * 1024

_TEXT, _NUMBER, _DATETIME = "text", "number", "datetime"
# Where a row's number goes in its XML; XML text never holds this control character (below).
_ROW_NUMBER = "\x01"
_EXCEL_EPOCH = datetime(1899, 12, 30)
# Gender as the RIS writes it (SPEC §2: the import maps these back to M/F/U).
RIS_GENDER = {"M": "男", "F": "女", "U": "未知"}
# XML 1.0 forbids these (escaped as _xHHHH_, which Excel and calamine read back as the
# character), and a literal "_xHHHH_" gets its underscore escaped so that it stays literal.
_OOXML_ESCAPED = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)|[\x00-\x08\x0b-\x1f\ufffe\uffff\ud800-\udfff]")
# A newline is a character reference so that one row of sheet XML is one line.
_XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\n": "&#10;"})
_XLSX_DATE_STYLE = 2
# Without it Excel may drop a cell's leading and trailing spaces. Testing for them cost the
# database more than the bytes cost the zip.
_PRESERVE = ' xml:space="preserve"'
_XLSX_HEADER_STYLE = 1


def _column_letter(number: int) -> str:
    """The letters of the ``number``-th column (from 0): A ... Z, AA, AB ..."""
    letters = ""
    number += 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _model_field(model: type[Model], path: str) -> Field:
    """The field a ``values_list`` name reads (``study__patient_name`` through the relation)."""
    *relations, name = path.split("__")
    for relation in relations:
        model = model._meta.get_field(relation).related_model
    return model._meta.get_field(name)


@dataclass(frozen=True)
class Columns:
    """What an export writes: the queryset's ``fields`` (``values_list`` names, in column
    order), each under its header, at its width in characters (a Chinese character counts
    two: room for the usual value and for the header with its filter button); ``codes``
    replaces a field's stored codes by the text its readers know. ``name`` names the files
    and the worksheets."""

    model: type[Model]
    fields: tuple[str, ...]
    headers: Mapping[str, str]
    widths: Mapping[str, int]
    name: str
    codes: Mapping[str, Mapping[str, str]]

    @property
    def letters(self) -> list[str]:
        return [_column_letter(n) for n in range(len(self.fields))]

    @property
    def kinds(self) -> list[str]:
        kinds = []
        for path in self.fields:
            field = _model_field(self.model, path)
            if isinstance(field, DateTimeField):
                kinds.append(_DATETIME)
            elif isinstance(field, IntegerField):
                kinds.append(_NUMBER)
            else:
                kinds.append(_TEXT)
        return kinds

    def max_length(self, path: str) -> int | None:
        return _model_field(self.model, path).max_length

    def coded(self) -> dict[int, Mapping[str, str]]:
        """The columns whose codes are replaced, by position."""
        return {self.fields.index(name): codes for name, codes in self.codes.items()}


STUDY_COLUMNS = Columns(
    model=Study,
    fields=DETAIL_FIELDS,
    headers=EXPORT_HEADERS,
    widths={
        "exam_id": 16, "medical_record_no": 14, "application_order_no": 16, "patient_name": 12,
        "patient_gender": 8, "patient_age": 8, "exam_status": 12, "exam_source": 12,
        "exam_item": 22, "equipment_type": 12, "exam_description": 50, "order_datetime": 20,
        "check_in_datetime": 20, "report_certification_datetime": 20, "certified_physician": 12,
    },
    name="studies",
    codes={"patient_gender": RIS_GENDER},
)  # fmt: skip


def export_filename(extension: str, columns: Columns = STUDY_COLUMNS) -> str:
    return timezone.localtime().strftime(f"{columns.name}_%Y%m%d_%H%M%S.{extension}")


def _rows(queryset: QuerySet, columns: Columns) -> Iterator[tuple]:
    rows = queryset.values_list(*columns.fields)
    yield from rows.iterator(chunk_size=settings.EXPORT_BATCH_SIZE)


def _decoded(row: tuple, coded: dict[int, Mapping[str, str]]) -> list:
    """A row with its coded values as their readers know them (the RIS's gender)."""
    values = list(row)
    for n, codes in coded.items():
        values[n] = codes.get(values[n], values[n])
    return values


def _column_sql(n: int, coded: dict[int, Mapping[str, str]]) -> str:
    """Column ``c<n>`` of ``_copy_out``, with the same mapping of codes in SQL."""
    column = f"c{n}"
    if n not in coded:
        return column
    cases = " ".join(f"WHEN '{code}' THEN '{text}'" for code, text in coded[n].items())
    return f"(CASE {column} {cases} ELSE {column} END)"


def _on_postgresql(queryset: QuerySet) -> bool:
    return connections[queryset.db].vendor == "postgresql"


def _local(value: datetime) -> datetime:
    return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value


def inert_csv_text(value: str) -> str:
    """Prefix a quote so that no spreadsheet evaluates the cell; the importer strips it again."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def _copy_out(
    queryset: QuerySet, columns: Columns, select: Iterable[tuple[str, list]], options: str
) -> Iterator:
    """The rows of ``COPY (SELECT <select> FROM <the queryset>) TO STDOUT``, as sent.

    ``select`` gives one SQL expression (and its parameters) per column, which it reads as
    c0, c1, ... The queryset's ORDER BY stays inside: PostgreSQL never pulls a sorted
    subquery up into its parent, so the rows come out in the selector's order.
    """
    inner, inner_params = queryset.values_list(*columns.fields).query.sql_with_params()
    expressions, params = [], []
    for sql, sql_params in select:
        expressions.append(sql)
        params.extend(sql_params)
    names = ", ".join(f"c{n}" for n in range(len(columns.fields)))
    query = f"SELECT {', '.join(expressions)} FROM ({inner}) AS s({names})"
    connection = connections[queryset.db]
    # The settings below hold for this transaction only (one query: set_config(..., true)).
    with transaction.atomic(using=queryset.db, savepoint=False), connection.cursor() as cursor:
        # The row expressions are costly enough that the planner would rather sort every
        # row in parallel (its row estimate for that plan is lower) than read the index in
        # order, and JIT-compiling them delays the first row by about a second. DateStyle
        # makes timestamps print as YYYY-MM-DD HH:MM:SS whatever the server's default.
        cursor.execute(
            "SELECT set_config('max_parallel_workers_per_gather', '0', true), "
            "set_config('jit', 'off', true), set_config('DateStyle', 'ISO, YMD', true)"
        )
        raw = cursor.cursor
        # COPY takes no bound parameters, so they are merged in client-side, as Django does.
        statement = ClientCursor(raw.connection).mogrify(query, [*params, *inner_params])
        with raw.copy(f"COPY ({statement}) TO STDOUT {options}") as copy:
            yield from _copy_rows(copy)


def _copy_rows(copy: Copy) -> Iterator[memoryview]:
    """The rows of a COPY TO, read straight from libpq while it holds them.

    ``Copy.read()`` costs a few microseconds per row in its wait machinery, seconds over a
    million rows, so it is used only when nothing is buffered. libpq's documented end of a
    COPY: ``PQgetCopyData`` gives -1, then ``PQgetResult`` the outcome, until it gives none.
    """
    pgconn = copy.connection.pgconn
    while True:
        size, data = pgconn.get_copy_data(1)
        if size > 0:
            yield data
        elif size == 0:
            data = copy.read()
            if not data:
                return
            yield data
        else:
            failure = None
            while (result := pgconn.get_result()) is not None:
                if result.status != pq.ExecStatus.COMMAND_OK:
                    message = result.error_message.decode(errors="replace").strip()
                    failure = DatabaseError(message)
            if failure is not None:
                raise failure
            return


def _buffered(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """Pieces joined into chunks of about CHUNK_BYTES: a write per row would be slow."""
    buffer = bytearray()
    for piece in pieces:
        buffer += piece
        if len(buffer) >= CHUNK_BYTES:
            yield bytes(buffer)
            buffer.clear()
    if buffer:
        yield bytes(buffer)


# ------------------------------------------------------------------------------------- CSV


def _csv_header(columns: Columns) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([columns.headers[f] for f in columns.fields])
    # UTF-8 BOM first so that Excel reads the Chinese headers.
    return ("\ufeff" + out.getvalue()).encode()


def _csv_select_sql(columns: Columns) -> Iterator[tuple[str, list]]:
    # ascii() is the code of the first character: cheaper than comparing strings.
    triggers = ", ".join(str(ord(char)) for char in FORMULA_TRIGGERS)
    coded = columns.coded()
    for n, kind in enumerate(columns.kinds):
        column = _column_sql(n, coded)
        if kind == _DATETIME:
            # Truncated to the second, as strftime does; cheaper than to_char().
            yield f"date_trunc('second', {column} AT TIME ZONE %s)", [settings.TIME_ZONE]
        elif kind == _TEXT:
            yield (
                f"CASE WHEN ascii({column}) IN ({triggers}) THEN '''' || {column} "
                f"ELSE {column} END",
                [],
            )
        else:
            yield column, []


def _csv_python_lines(queryset: QuerySet, columns: Columns) -> Iterator[bytes]:
    # "\r\n" makes the writer quote a field holding either character, as COPY does; each
    # line then ends in "\n" alone, as COPY's do.
    writer = csv.writer(out := io.StringIO(), lineterminator="\r\n")
    coded = columns.coded()
    for row in _rows(queryset, columns):
        cells = []
        for value in _decoded(row, coded):
            if value is None:
                cells.append("")
            elif isinstance(value, datetime):
                cells.append(_local(value).strftime("%Y-%m-%d %H:%M:%S"))
            elif isinstance(value, str):
                cells.append(inert_csv_text(value))
            else:
                cells.append(value)
        writer.writerow(cells)
        yield out.getvalue()[:-2].encode() + b"\n"
        out.seek(0)
        out.truncate()


def csv_stream(queryset: QuerySet, columns: Columns = STUDY_COLUMNS) -> Iterator[bytes]:
    """CSV bytes in chunks: datetimes in local time to the second, NULL as an empty field."""
    yield _csv_header(columns)
    if _on_postgresql(queryset):
        lines = _copy_out(queryset, columns, _csv_select_sql(columns), "(FORMAT csv)")
    else:
        lines = _csv_python_lines(queryset, columns)
    yield from _buffered(lines)


# ------------------------------------------------------------------------------------ .xlsx


def _xlsx_text(value: str) -> str:
    value = _OOXML_ESCAPED.sub(lambda m: f"_x{ord(m.group()):04X}_", value[:XLSX_MAX_CELL])
    return value.translate(_XML_ESCAPES)


def _xlsx_cell(letter: str, value: object) -> str:
    ref = f"{letter}{_ROW_NUMBER}"
    if isinstance(value, datetime):
        serial = (_local(value) - _EXCEL_EPOCH) / timedelta(days=1)
        return f'<c r="{ref}" s="{_XLSX_DATE_STYLE}"><v>{serial!r}</v></c>'
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    # Text is always an inline string, never a formula, whatever it starts with.
    return f'<c r="{ref}" t="inlineStr"><is><t{_PRESERVE}>{_xlsx_text(str(value))}</t></is></c>'


def _xlsx_python_rows(rows: Iterable[tuple], columns: Columns) -> Iterator[bytes]:
    letters, coded = columns.letters, columns.coded()
    for row in rows:
        cells = "".join(
            _xlsx_cell(letter, value)
            for letter, value in zip(letters, _decoded(row, coded), strict=False)
            if value is not None
        )
        yield f'<row r="{_ROW_NUMBER}">{cells}</row>\n'.encode()


def _xlsx_select_sql(columns: Columns) -> Iterator[tuple[str, list]]:
    """One SQL expression: the <row> XML of the row, as _xlsx_python_rows writes it.

    Each test below was picked for its cost over ten million cells: a single bracket
    expression or strpos() is cheap, an alternation or a "$" anchor is not.
    """
    pieces: list[str] = []
    params: list = []
    control = [*range(1, 9), *range(11, 32), 0xFFFE, 0xFFFF]
    coded = columns.coded()
    for n, (kind, letter, name) in enumerate(
        zip(columns.kinds, columns.letters, columns.fields, strict=True)
    ):
        column = _column_sql(n, coded)
        ref = f"{letter}{_ROW_NUMBER}"
        if kind == _DATETIME:
            # date_part() is float8 arithmetic; extract() would be numeric, slower.
            pieces.append(
                f"""'<c r="{ref}" s="{_XLSX_DATE_STYLE}"><v>' || """
                f"(date_part('epoch', {column} AT TIME ZONE %s) / 86400 + 25569) "
                "|| '</v></c>'"
            )
            params.append(settings.TIME_ZONE)
        elif kind == _NUMBER:
            pieces.append(f"""'<c r="{ref}"><v>' || {column} || '</v></c>'""")
        else:
            max_length = columns.max_length(name)
            text = (
                column
                if max_length and max_length <= XLSX_MAX_CELL
                else f"left({column}, {XLSX_MAX_CELL})"
            )
            # Text with nothing to escape, nearly all of it, is passed through untouched.
            rare = f"regexp_replace({text}, '_(?=x[0-9A-Fa-f]{{4}}_)', '_x005F_', 'g')"
            for code in control:
                rare = f"replace({rare}, chr({code}), '_x{code:04X}_')"
            for char, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
                rare = f"replace({rare}, '{char}', '{escaped}')"
            rare = f"replace({rare}, chr(10), '&#10;')"
            text = (
                f"CASE WHEN {column} ~ '[&<>\\n\\x01-\\x08\\x0b-\\x1f\\uFFFE\\uFFFF]' "
                f"OR strpos({column}, '_x') > 0 THEN {rare} ELSE {text} END"
            )
            pieces.append(
                f"""'<c r="{ref}" t="inlineStr"><is><t{_PRESERVE}>' || {text} """
                "|| '</t></is></c>'"
            )
    # A NULL value makes its whole cell NULL, which concat() leaves out.
    yield f"""concat('<row r="{_ROW_NUMBER}">', {", ".join(pieces)}, '</row>')""", params


def _xlsx_postgresql_rows(queryset: QuerySet, columns: Columns) -> Iterator[bytes]:
    # Quote and delimiter are control characters the XML never holds, and it holds no line
    # break, so each line COPY sends is the row's XML exactly.
    yield from _copy_out(
        queryset,
        columns,
        _xlsx_select_sql(columns),
        "(FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x03')",
    )


def _xlsx_rows(queryset: QuerySet, columns: Columns) -> Iterator[bytes]:
    """The <row> XML of every row of the queryset: formatted by PostgreSQL, or in Python."""
    if _on_postgresql(queryset):
        return _xlsx_postgresql_rows(queryset, columns)
    return _xlsx_python_rows(_rows(queryset, columns), columns)


def _sheet_xml_start(columns: Columns) -> bytes:
    header = "".join(
        f'<c r="{letter}1" t="inlineStr" s="{_XLSX_HEADER_STYLE}"><is><t>'
        f"{_xlsx_text(columns.headers[field])}</t></is></c>"
        for letter, field in zip(columns.letters, columns.fields, strict=True)
    )
    widths = "".join(
        f'<col min="{n}" max="{n}" width="{columns.widths[field]}" customWidth="1"/>'
        for n, field in enumerate(columns.fields, start=1)
    )
    # The header row stays in view while scrolling (a frozen pane below row 1).
    view = (
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
        'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" activeCell="A2" '
        'sqref="A2"/></sheetView></sheetViews>'
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'{view}<cols>{widths}</cols><sheetData><row r="1">{header}</row>\n'
    ).encode()


def _filter_range(columns: Columns, last_row: int) -> str:
    return f"A1:{columns.letters[-1]}{last_row}"


def _sheet_xml_end(columns: Columns, last_row: int) -> bytes:
    """The end of a sheet of ``last_row`` rows (the header's included): its autofilter, known
    only now, after the last row."""
    ref = _filter_range(columns, last_row)
    return f'</sheetData><autoFilter ref="{ref}"/></worksheet>'.encode()


_CONTENT_TYPES = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
<Default Extension="xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
<Override PartName="/xl/workbook.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
<Override PartName="/xl/styles.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
</Types>"""
_ROOT_RELS = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
<Relationship Id="rId1" \
Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" \
Target="xl/workbook.xml"/></Relationships>"""
# Styles: 0 default, 1 bold (the header row), 2 date and time.
_STYLES = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd\\ hh:mm:ss"/></numFmts>\
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>\
<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>\
<fills count="2"><fill><patternFill patternType="none"/></fill>\
<fill><patternFill patternType="gray125"/></fill></fills>\
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>\
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
</styleSheet>"""


def _workbook_xml(columns: Columns, last_rows: list[int]) -> bytes:
    sheets = range(1, len(last_rows) + 1)
    entries = "".join(
        f'<sheet name="{_sheet_name(columns, n)}" sheetId="{n}" r:id="rId{n}"/>' for n in sheets
    )
    # Excel keeps each sheet's autofilter range under this hidden name as well.
    names = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n - 1}" hidden="1">'
        f"{_sheet_name(columns, n)}!{_absolute(_filter_range(columns, last_rows[n - 1]))}"
        "</definedName>"
        for n in sheets
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f"<sheets>{entries}</sheets><definedNames>{names}</definedNames></workbook>"
    ).encode()


def _absolute(cells: str) -> str:
    """``A1:O9`` as ``$A$1:$O$9``."""
    return re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", cells)


def _workbook_rels(sheets: int) -> bytes:
    kind = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    entries = "".join(
        f'<Relationship Id="rId{n}" Type="{kind}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, sheets + 1)
    )
    styles = f'<Relationship Id="rId{sheets + 1}" Type="{kind}/styles" Target="styles.xml"/>'
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f"{entries}{styles}</Relationships>"
    ).encode()


def _sheet_name(columns: Columns, number: int) -> str:
    return columns.name if number == 1 else f"{columns.name}_{number}"


class _Sheets:
    """Rows numbered and dealt out to worksheets: a sheet ends at Excel's row limit.

    stream-zip reads one member to its end before asking for the next, so each sheet's
    chunks can be drawn from the one row source in turn.
    """

    def __init__(self, rows: Iterable[bytes], columns: Columns) -> None:
        self.columns = columns
        self._rows = iter(rows)
        self._pending: bytes | None = next(self._rows, None)
        self.sheets = 0
        self.count = 0
        self.last_rows: list[int] = []  # per sheet, for the workbook's filter ranges

    def more(self) -> bool:
        return self._pending is not None or self.sheets == 0

    def next_sheet(self) -> Iterator[bytes]:
        """One worksheet's XML in chunks; this loop runs once per row, so it is kept lean."""
        self.sheets += 1
        limit = XLSX_MAX_ROWS  # read here, so that a test can lower it
        placeholder = _ROW_NUMBER.encode()
        rows, pending = self._rows, self._pending
        number, size = 1, 0
        buffer = bytearray(_sheet_xml_start(self.columns))
        while pending is not None and number < limit:
            row = bytes(pending)
            size += len(row)
            if size > XLSX_MAX_SHEET_BYTES and number > 1:
                break
            number += 1
            buffer += row.replace(placeholder, b"%d" % number)
            if len(buffer) >= CHUNK_BYTES:
                yield bytes(buffer)
                buffer.clear()
            pending = next(rows, None)
        self._pending = pending
        self.count += number - 1
        self.last_rows.append(number)
        buffer += _sheet_xml_end(self.columns, number)
        yield bytes(buffer)


def _xlsx_members(sheets: _Sheets) -> Iterator[tuple]:
    modified = timezone.localtime().replace(tzinfo=None)
    mode = 0o600
    yield "[Content_Types].xml", modified, mode, ZIP_32, [_CONTENT_TYPES]
    yield "_rels/.rels", modified, mode, ZIP_32, [_ROOT_RELS]
    yield "xl/styles.xml", modified, mode, ZIP_32, [_STYLES]
    while sheets.more():
        name = f"xl/worksheets/sheet{sheets.sheets + 1}.xml"
        yield name, modified, mode, ZIP_32, sheets.next_sheet()
    # The sheet list is known only now; readers find every part through the directory.
    workbook = _workbook_xml(sheets.columns, sheets.last_rows)
    yield "xl/workbook.xml", modified, mode, ZIP_32, [workbook]
    yield "xl/_rels/workbook.xml.rels", modified, mode, ZIP_32, [_workbook_rels(sheets.sheets)]


def _xlsx_bytes(
    rows: Iterable[bytes], columns: Columns, sheets_out: list | None = None
) -> Iterator[bytes]:
    sheets = _Sheets(rows, columns)
    if sheets_out is not None:
        sheets_out.append(sheets)
    yield from stream_zip(
        _xlsx_members(sheets),
        chunk_size=CHUNK_BYTES,
        get_compressobj=lambda: zlib.compressobj(wbits=-zlib.MAX_WBITS, level=ZIP_LEVEL),
    )


def xlsx_stream(queryset: QuerySet, columns: Columns = STUDY_COLUMNS) -> Iterator[bytes]:
    """The .xlsx of the queryset, zipped as it is read: text as text, datetimes as dates.

    The header row is bold; more rows than a sheet holds continue on "<name>_2" ("studies_2"), ...
    """
    # A generator, so that the query starts only when the response is sent.
    yield from _xlsx_bytes(_xlsx_rows(queryset, columns), columns)


def export_openapi(description: str) -> dict:
    """The ``openapi_extra`` of an export endpoint: its 200 is an .xlsx or a CSV file."""
    content = {XLSX_CONTENT_TYPE: {}, "text/csv": {}}
    return {"responses": {"200": {"description": description, "content": content}}}


def audited_export(
    request: HttpRequest, queryset: QuerySet, fmt: str, *, object_type: str, **note: Any
) -> StreamingHttpResponse:
    """``export_response`` of ``queryset`` (``columns`` in ``note``, the studies' by default)
    with the request's audit note: the row count, the format and ``note``'s ``action``."""
    columns = note.pop("columns", STUDY_COLUMNS)
    response, count = export_response(queryset, fmt, columns)
    audit_note(request, object_type=object_type, result_count=count, detail={"format": fmt}, **note)
    return response


def export_response(
    queryset: QuerySet, fmt: str, columns: Columns = STUDY_COLUMNS
) -> tuple[StreamingHttpResponse, int]:
    """The streamed attachment of ``queryset`` as "csv" or "xlsx", and its row count.

    Counted first: the rows are read only while the response is sent, after the view returns.
    """
    count = queryset.count()
    if fmt == "csv":
        stream, content_type = csv_stream(queryset, columns), CSV_CONTENT_TYPE
    else:
        stream, content_type = xlsx_stream(queryset, columns), XLSX_CONTENT_TYPE
    response = StreamingHttpResponse(stream, content_type=content_type)
    filename = export_filename(fmt, columns)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response, count


def write_xlsx(queryset: QuerySet, rows: Iterable[tuple] | None = None) -> tuple[IO[bytes], int]:
    """The .xlsx of the queryset (or of ``rows``, DETAIL_FIELDS tuples) in a temporary file.

    For callers that need the whole file or its row count; a response streams xlsx_stream.
    """
    # The caller reads the file and closes it; it is removed from disk when closed.
    target = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115
    columns = STUDY_COLUMNS
    source = _xlsx_rows(queryset, columns) if rows is None else _xlsx_python_rows(rows, columns)
    sheets: list[_Sheets] = []
    for chunk in _xlsx_bytes(source, columns, sheets):
        target.write(chunk)
    target.seek(0)
    return target, sheets[0].count
