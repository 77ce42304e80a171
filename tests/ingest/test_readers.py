"""ingest.readers: every file is built here, in tmp_path; no Django involved.

No .xls fixture: writing one needs xlwt, which the project does not install. The .xls path
is calamine's own reader behind the same error handling; the content sniffing in front of it
(an OLE container, HTML saved as .xls, .xlsx content under an .xls name) is covered.
"""

import codecs
import io
import json
import struct
import zipfile
import zlib
from datetime import datetime
from pathlib import Path

import pytest
import xlsxwriter

from ingest.readers import (
    REPORT_EXTENSIONS,
    FileFormatError,
    FileTooComplex,
    ReaderLimits,
    UnsupportedFileType,
    file_extension,
    json_file,
    read_table,
)

HEADERS = ["检查号", "姓名", "年龄", "开单时间"]


def write_xlsx(path: Path, rows: list[list], *, first_row: int = 0, first_col: int = 0) -> Path:
    """An .xlsx with datetime cells written as real Excel dates."""
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("检查")
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, datetime):
                sheet.write_datetime(first_row + r, first_col + c, value, date_format)
            else:
                sheet.write(first_row + r, first_col + c, value)
    workbook.close()
    return path


def read_all(source, file_name: str, **kwargs) -> tuple[list[str], list[tuple[int, list]]]:
    with read_table(source, file_name=file_name, **kwargs) as table:
        return table.headers, list(table.rows())


# --- extensions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file_name", "extension"),
    [
        ("20251029130203.xlsx", ".xlsx"),
        ("EXPORT.XLSX", ".xlsx"),
        ("C:\\fakepath\\检查.csv", ".csv"),
        ("dir/reports.json", ".json"),
        ("noextension", ""),
        (".xlsx", ""),
        ("archive.tar.gz", ".gz"),
    ],
)
def test_file_extension(file_name, extension):
    assert file_extension(file_name) == extension


def test_unsupported_extension_is_refused_before_reading(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("检查号\nE1\n")
    with pytest.raises(UnsupportedFileType) as exc:
        read_table(path, file_name="notes.txt")
    assert exc.value.message == "Unsupported file type '.txt': upload .xlsx, .xls or .csv"
    assert exc.value.status_code == 415


def test_unsupported_extension_message_lists_the_allowed_ones(tmp_path):
    path = tmp_path / "reports.xls"
    path.write_bytes(b"x")
    with pytest.raises(UnsupportedFileType) as exc:
        read_table(path, file_name="reports.xls", allowed_extensions=REPORT_EXTENSIONS)
    assert exc.value.message == "Unsupported file type '.xls': upload .xlsx, .csv or .json"


def test_file_without_extension_is_refused(tmp_path):
    path = tmp_path / "upload"
    path.write_bytes(b"x")
    with pytest.raises(UnsupportedFileType, match=r"^Unsupported file type \(no extension\)"):
        read_table(path, file_name="upload")


@pytest.mark.parametrize("file_name", ["empty.xlsx", "empty.xls", "empty.csv", "empty.json"])
def test_empty_file_is_refused(tmp_path, file_name):
    path = tmp_path / file_name
    path.write_bytes(b"")
    with pytest.raises(FileFormatError) as exc:
        read_table(path, file_name=file_name, allowed_extensions=(".xlsx", ".xls", ".csv", ".json"))
    assert exc.value.message == "The file is empty"
    assert exc.value.status_code == 422


# --- .xlsx ----------------------------------------------------------------------------


def test_xlsx_gives_headers_and_typed_values(tmp_path):
    path = write_xlsx(
        tmp_path / "ris.xlsx",
        [
            HEADERS,
            ["EXAM001", "张伟", 45, datetime(2025, 11, 6, 10, 30)],
            ["EXAM002", "Li Na", "3月", 45967.4375],
        ],
    )
    headers, rows = read_all(path, "ris.xlsx")
    assert headers == HEADERS
    assert rows == [
        (2, ["EXAM001", "张伟", 45.0, datetime(2025, 11, 6, 10, 30)]),
        (3, ["EXAM002", "Li Na", "3月", 45967.4375]),
    ]


def test_xlsx_row_numbers_are_the_spreadsheets_and_empty_rows_are_skipped(tmp_path):
    path = write_xlsx(
        tmp_path / "gaps.xlsx",
        [HEADERS, ["E1", "a", 1, None], [None] * 4, ["E3", "c", 3, None], ["  ", None, None, None]],
    )
    _, rows = read_all(path, "gaps.xlsx")
    assert [number for number, _ in rows] == [2, 4]


def test_xlsx_header_may_start_below_and_right_of_a1(tmp_path):
    path = write_xlsx(
        tmp_path / "offset.xlsx", [HEADERS, ["E1", "a", 1, None]], first_row=2, first_col=1
    )
    with read_table(path, file_name="offset.xlsx") as table:
        assert table.header_row == 3
        assert table.headers == HEADERS
        assert list(table.rows()) == [(4, ["E1", "a", 1.0, None])]
        assert table.sheet_name == "检查"
        assert table.other_sheets == []


def test_xlsx_short_rows_are_padded_and_cells_past_the_header_dropped(tmp_path):
    path = write_xlsx(tmp_path / "ragged.xlsx", [["A", "B"], ["1"], ["1", "2", "stray"]])
    headers, rows = read_all(path, "ragged.xlsx")
    assert headers == ["A", "B"]
    assert rows == [(2, ["1", None]), (3, ["1", "2"])]


def test_xlsx_trailing_blank_headers_are_trimmed(tmp_path):
    path = write_xlsx(tmp_path / "wide.xlsx", [["A", None, "C", None], [None, None, None, "x"]])
    headers, rows = read_all(path, "wide.xlsx")
    assert headers == ["A", "", "C"]
    # A value only under no header at all is not data of this table.
    assert rows == []


def test_xlsx_rows_can_be_read_twice(tmp_path):
    path = write_xlsx(tmp_path / "twice.xlsx", [HEADERS, ["E1", "a", 1, None]])
    with read_table(path, file_name="twice.xlsx") as table:
        assert list(table.rows()) == list(table.rows())


def test_xlsx_from_a_file_object(tmp_path):
    path = write_xlsx(tmp_path / "ris.xlsx", [HEADERS, ["E1", "a", 1, None]])
    upload = io.BytesIO(path.read_bytes())
    headers, rows = read_all(upload, "ris.xlsx")
    assert headers == HEADERS
    assert rows == [(2, ["E1", "a", 1.0, None])]


def test_xlsx_from_a_path_with_another_suffix(tmp_path):
    # Django keeps uploads in files like /tmp/tmpab12.upload.xlsx, but a caller may not.
    source = write_xlsx(tmp_path / "ris.xlsx", [HEADERS, ["E1", "a", 1, None]])
    path = tmp_path / "tmp12345.upload"
    path.write_bytes(source.read_bytes())
    _, rows = read_all(path, "ris.xlsx")
    assert rows == [(2, ["E1", "a", 1.0, None])]


def test_xlsx_content_under_an_xls_name_is_read(tmp_path):
    source = write_xlsx(tmp_path / "ris.xlsx", [HEADERS, ["E1", "a", 1, None]])
    path = tmp_path / "ris.xls"
    path.write_bytes(source.read_bytes())
    with read_table(path, file_name="ris.xls") as table:
        assert table.format == "xlsx"
        assert list(table.rows()) == [(2, ["E1", "a", 1.0, None])]


def test_xlsx_reads_the_first_worksheet_and_names_the_others(tmp_path):
    path = tmp_path / "two.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    workbook.add_worksheet("data").write_row(0, 0, ["A"])
    workbook.add_worksheet("字典").write_row(0, 0, ["B"])
    workbook.close()
    with read_table(path, file_name="two.xlsx") as table:
        assert table.headers == ["A"]
        assert table.sheet_name == "data"
        assert table.other_sheets == ["字典"]


def test_header_only_workbook_has_no_rows(tmp_path):
    path = write_xlsx(tmp_path / "header.xlsx", [HEADERS])
    headers, rows = read_all(path, "header.xlsx")
    assert headers == HEADERS
    assert rows == []


def test_workbook_without_any_cell_has_no_header_row(tmp_path):
    path = write_xlsx(tmp_path / "blank.xlsx", [])
    with pytest.raises(FileFormatError, match="^The file has no header row$"):
        read_table(path, file_name="blank.xlsx")


def test_max_rows_is_enforced_while_reading(tmp_path):
    path = write_xlsx(tmp_path / "many.xlsx", [["A"], *([str(i)] for i in range(5))])
    with read_table(path, file_name="many.xlsx", max_rows=4) as table:
        rows = table.rows()
        for _ in range(4):
            next(rows)
        with pytest.raises(FileTooComplex, match="^The file has more than 4 data rows$"):
            next(rows)


def test_too_many_header_columns_are_refused(tmp_path):
    path = write_xlsx(tmp_path / "wide.xlsx", [[f"c{i}" for i in range(11)]])
    with pytest.raises(FileTooComplex, match="^The header row has more than 10 columns$"):
        read_table(path, file_name="wide.xlsx", limits=ReaderLimits(max_columns=10))


# --- files that are not what their name says ------------------------------------------


def test_text_renamed_xlsx_is_refused(tmp_path):
    path = tmp_path / "notes.xlsx"
    path.write_text("检查号,姓名\nE1,张三\n", encoding="utf-8")
    with pytest.raises(FileFormatError) as exc:
        read_table(path, file_name="notes.xlsx")
    assert exc.value.message == "The file is not a valid .xlsx workbook"


def test_truncated_xlsx_is_refused(tmp_path):
    source = write_xlsx(tmp_path / "full.xlsx", [HEADERS, ["E1", "a", 1, None]])
    data = source.read_bytes()
    path = tmp_path / "half.xlsx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FileFormatError) as exc:
        read_table(path, file_name="half.xlsx")
    assert exc.value.message == "The .xlsx workbook is damaged or truncated"


def test_zip_that_is_not_a_workbook_is_refused(tmp_path):
    path = tmp_path / "letter.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    with pytest.raises(FileFormatError, match=r"^The file is not a valid \.xlsx workbook$"):
        read_table(path, file_name="letter.xlsx")


def test_ole_container_named_xlsx_is_refused(tmp_path):
    # What Excel writes for a password-protected .xlsx (and what an old .xls looks like).
    path = tmp_path / "locked.xlsx"
    path.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504))
    with pytest.raises(FileFormatError) as exc:
        read_table(path, file_name="locked.xlsx")
    assert exc.value.message == "The workbook is encrypted or not an .xlsx file"


def test_damaged_ole_container_named_xls_is_refused(tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504))
    with pytest.raises(FileFormatError, match=r"^The file is not a valid \.xls workbook$"):
        read_table(path, file_name="old.xls")


def test_web_page_saved_as_xls_gets_a_hint(tmp_path):
    path = tmp_path / "his_export.xls"
    path.write_text("<html><table><tr><td>检查号</td></tr></table></html>", encoding="utf-8")
    with pytest.raises(FileFormatError, match=r"it is a web page saved under an \.xls name"):
        read_table(path, file_name="his_export.xls")


def test_workbook_named_csv_is_refused(tmp_path):
    source = write_xlsx(tmp_path / "ris.xlsx", [HEADERS])
    path = tmp_path / "ris.csv"
    path.write_bytes(source.read_bytes())
    with pytest.raises(FileFormatError) as exc:
        read_table(path, file_name="ris.csv")
    assert (
        exc.value.message == "The file is not a valid .csv file (it looks like an .xlsx workbook)"
    )


# --- .xlsx safety checks --------------------------------------------------------------

CONTENT_TYPES = '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def write_raw_xlsx(
    path: Path, sheet_data: str, shared_strings: str | None = None, *, sheet_xml: str | None = None
) -> Path:
    """A minimal hand-written workbook, to control exactly what the sheet part contains."""
    rels_ns = "http://schemas.openxmlformats.org/package/2006/relationships"
    doc_ns = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{rels_ns}"><Relationship Id="rId1" '
            f'Type="{doc_ns}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{MAIN_NS}" xmlns:r="{doc_ns}"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        strings_rel = (
            f'<Relationship Id="rId2" Type="{doc_ns}/sharedStrings" Target="sharedStrings.xml"/>'
            if shared_strings
            else ""
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{rels_ns}"><Relationship Id="rId1" Type="{doc_ns}/worksheet" '
            f'Target="worksheets/sheet1.xml"/>{strings_rel}</Relationships>',
        )
        archive.writestr(
            "xl/worksheets/sheet1.xml",
            sheet_xml
            or f'<?xml version="1.0"?><worksheet xmlns="{MAIN_NS}"><sheetData>{sheet_data}'
            "</sheetData></worksheet>",
        )
        if shared_strings:
            archive.writestr("xl/sharedStrings.xml", shared_strings)
    return path


def inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def test_hand_written_workbook_is_read(tmp_path):
    path = write_raw_xlsx(
        tmp_path / "raw.xlsx",
        f'<row r="1">{inline("A1", "检查号")}{inline("B1", "姓名")}</row>'
        f'<row r="2">{inline("A2", "E1")}<c r="B2" s="0"/></row>',
    )
    assert read_all(path, "raw.xlsx") == (["检查号", "姓名"], [(2, ["E1", None])])


def test_sheet_with_namespace_prefixes_is_read(tmp_path):
    # The .NET Open XML SDK writes <x:worksheet>, <x:c> …
    sheet = (
        f'<x:worksheet xmlns:x="{MAIN_NS}"><x:sheetData><x:row r="1">'
        '<x:c r="A1" t="inlineStr"><x:is><x:t>检查号</x:t></x:is></x:c></x:row><x:row r="2">'
        '<x:c r="A2" t="inlineStr"><x:is><x:t>E1</x:t></x:is></x:c></x:row>'
        "</x:sheetData></x:worksheet>"
    )
    path = write_raw_xlsx(tmp_path / "sdk.xlsx", "", sheet_xml=sheet)
    assert read_all(path, "sdk.xlsx") == (["检查号"], [(2, ["E1"])])


def test_prefixed_sheet_with_an_unprefixed_far_cell_is_refused(tmp_path):
    sheet = (
        f'<x:worksheet xmlns:x="{MAIN_NS}"><x:sheetData><x:row r="1">'
        '<x:c r="A1" t="inlineStr"><x:is><x:t>h</x:t></x:is></x:c>'
        '<c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></x:row>'
        "</x:sheetData></x:worksheet>"
    )
    path = write_raw_xlsx(tmp_path / "mixed.xlsx", "", sheet_xml=sheet)
    with pytest.raises(FileFormatError, match="^The worksheet is written in a form"):
        read_table(path, file_name="mixed.xlsx")


@pytest.mark.parametrize(
    "far_cell",
    [
        "XFD1048576",  # calamine would allocate ~550 GB for this 5 KB file and abort
        "GS1048576",  # ~6.7 GB
    ],
)
def test_sheet_spanning_a_huge_range_is_refused_before_calamine_sees_it(tmp_path, far_cell):
    path = write_raw_xlsx(
        tmp_path / "sparse.xlsx",
        f'<row r="1">{inline("A1", "h")}</row><row r="1048576">{inline(far_cell, "x")}</row>',
    )
    # The first sheet is streamed, so its span is known (and refused) once it has been read.
    with pytest.raises(FileTooComplex) as exc:
        read_all(path, "sparse.xlsx")
    assert exc.value.message.startswith("The worksheet spans 1,048,576 rows × ")
    assert exc.value.message.endswith(
        "more than the 30,000,000 cells this importer reads; "
        "delete stray cells far below or to the right of the data"
    )


def test_stray_cell_is_measured_even_out_of_row_order(tmp_path):
    path = write_raw_xlsx(
        tmp_path / "disorder.xlsx",
        f'<row r="1">{inline("A1", "h")}</row><row r="2">{inline("ZZ900", "x")}</row>'
        f'<row r="3">{inline("A3", "y")}</row>',
    )
    with pytest.raises(FileTooComplex, match=r"^The worksheet spans 900 rows × 702 columns"):
        read_all(path, "disorder.xlsx", limits=ReaderLimits(max_cells=100_000))


@pytest.mark.parametrize(
    "sheet_data",
    [
        # Cells placed by counting, not by reference.
        '<row><c t="inlineStr"><is><t>h</t></is></c></row>',
        # The reference not first among the attributes.
        '<row r="1"><c t="inlineStr" r="A1"><is><t>h</t></is></c></row>',
        # Cells under a namespace prefix in an unprefixed sheet.
        f'<row r="1"><x:c xmlns:x="{MAIN_NS}" r="XFD1" t="inlineStr"><x:is><x:t>h</x:t></x:is></x:c></row>',
    ],
)
def test_sheet_written_in_an_unusual_form_is_refused(tmp_path, sheet_data):
    path = write_raw_xlsx(tmp_path / "odd.xlsx", sheet_data)
    with pytest.raises(FileFormatError) as exc:
        read_table(path, file_name="odd.xlsx")
    assert exc.value.message == (
        "The worksheet is written in a form this importer cannot check safely; "
        "open it in Excel and save it again as .xlsx"
    )


def test_sheet_part_in_utf16_is_refused(tmp_path):
    path = write_raw_xlsx(tmp_path / "utf16.xlsx", "")
    sheet = (
        f'<?xml version="1.0" encoding="UTF-16"?><worksheet xmlns="{MAIN_NS}"><sheetData>'
        f'<row r="1">{inline("A1", "h")}</row></sheetData></worksheet>'
    )
    rebuilt = tmp_path / "rebuilt.xlsx"
    with zipfile.ZipFile(path) as old, zipfile.ZipFile(rebuilt, "w") as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = codecs.BOM_UTF16_LE + sheet.encode("utf-16-le")
            new.writestr(info.filename, data)
    with pytest.raises(FileFormatError, match="^The worksheet is written in a form"):
        read_table(rebuilt, file_name="utf16.xlsx")


def test_shared_strings_table_declaring_too_many_strings_is_refused(tmp_path):
    # calamine reserves uniqueCount strings up front: 4e9 of them abort the process.
    path = write_raw_xlsx(
        tmp_path / "sst.xlsx",
        '<row r="1"><c r="A1" t="s"><v>0</v></c></row>',
        shared_strings=f'<sst xmlns="{MAIN_NS}" count="1" uniqueCount="4000000000"><si><t>h</t></si></sst>',
    )
    with pytest.raises(FileTooComplex) as exc:
        read_table(path, file_name="sst.xlsx")
    assert exc.value.message == (
        "The workbook's shared strings table is too large or malformed; refusing to read it"
    )


def test_shared_strings_are_read(tmp_path):
    path = write_raw_xlsx(
        tmp_path / "sst.xlsx",
        '<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row>',
        shared_strings=f'<sst xmlns="{MAIN_NS}" count="2" uniqueCount="2"><si><t>检查号</t></si>'
        "<si><t>E1</t></si></sst>",
    )
    assert read_all(path, "sst.xlsx") == (["检查号"], [(2, ["E1"])])


def write_zip_bomb(path: Path, uncompressed_mb: int = 1024) -> Path:
    """An .xlsx-like zip whose sheet part inflates to ``uncompressed_mb`` of zeros.

    One megabyte of zeros is deflated once with a full flush, which makes the block
    self-contained, and repeated: the file is about 1 MB and takes well under a second.
    """
    megabyte = bytes(1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(megabyte) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(uncompressed_mb):
        crc = zlib.crc32(megabyte, crc)
    finish = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    compressed_size = len(block) * uncompressed_mb + len(finish)
    size = uncompressed_mb << 20

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("xl/workbook.xml", f'<workbook xmlns="{MAIN_NS}"/>')
    data = path.read_bytes()
    central = data.index(b"PK\x01\x02")
    end = data.index(b"PK\x05\x06")
    entries, directory, eocd = data[:central], data[central:end], data[end:]

    name = b"xl/worksheets/sheet1.xml"
    offset = len(entries)
    local = struct.pack(
        "<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, compressed_size, size, len(name), 0
    )
    record = struct.pack(
        "<4sHHHHHHIIIHHHHHII",
        b"PK\x01\x02",
        20,
        20,
        0,
        8,
        0,
        0x21,
        crc,
        compressed_size,
        size,
        len(name),
        0,
        0,
        0,
        0,
        0,
        offset,
    )
    with path.open("wb") as out:
        out.write(entries)
        out.write(local + name)
        for _ in range(uncompressed_mb):
            out.write(block)
        out.write(finish)
        directory_offset = out.tell()
        out.write(directory + record + name)
        count, directory_size = (
            struct.unpack("<H", eocd[10:12])[0] + 1,
            len(directory) + 46 + len(name),
        )
        out.write(
            struct.pack(
                "<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, directory_size, directory_offset, 0
            )
        )
    return path


@pytest.fixture
def no_inflating(monkeypatch):
    """Fail the test if anything opens a zip entry for reading (writing is fine)."""
    original = zipfile.ZipFile.open

    def guarded(self, name, mode="r", *args, **kwargs):
        if mode == "r":
            raise AssertionError(f"{name} was inflated")
        return original(self, name, mode, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", guarded)


def test_zip_bomb_is_a_valid_zip(tmp_path):
    path = write_zip_bomb(tmp_path / "bomb.xlsx", uncompressed_mb=16)
    assert path.stat().st_size < 32 * 1024
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size == 16 << 20


def test_zip_bomb_is_refused_without_inflating(tmp_path, no_inflating):
    path = write_zip_bomb(tmp_path / "bomb.xlsx")
    assert path.stat().st_size < 2 * 1024 * 1024
    with pytest.raises(FileTooComplex) as exc:
        read_table(path, file_name="bomb.xlsx")
    assert exc.value.message == (
        "The file is compressed more than 200:1 (a zip bomb?); refusing to read it"
    )


def test_total_expanded_size_is_capped_without_inflating(tmp_path, no_inflating):
    path = write_zip_bomb(tmp_path / "big.xlsx", uncompressed_mb=16)
    limits = ReaderLimits(max_uncompressed_bytes=8 * 1024 * 1024)
    with pytest.raises(FileTooComplex) as exc:
        read_table(path, file_name="big.xlsx", limits=limits)
    assert exc.value.message == "The file expands to more than 8 MB; refusing to read it"


def test_too_many_zip_entries_are_refused(tmp_path, no_inflating):
    path = tmp_path / "parts.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(12):
            archive.writestr(f"xl/media/{i}.bin", b"")
    with pytest.raises(FileTooComplex) as exc:
        read_table(path, file_name="parts.xlsx", limits=ReaderLimits(max_zip_entries=10))
    assert exc.value.message == "The workbook has more than 10 parts; refusing to read it"


def test_entry_that_inflates_past_its_declared_size_is_refused(tmp_path):
    path = write_raw_xlsx(
        tmp_path / "liar.xlsx",
        f'<row r="1">{inline("A1", "h")}</row>'
        + "".join(f'<row r="{i}">{inline(f"A{i}", "x" * 40)}</row>' for i in range(2, 500)),
    )
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    # Declare a tenth of the real size, in the local header and in the central directory.
    struct.pack_into("<I", data, info.header_offset + 22, info.file_size // 10)
    record = data.index(b"xl/worksheets/sheet1.xml", data.index(b"PK\x01\x02")) - 46
    struct.pack_into("<I", data, record + 24, info.file_size // 10)
    path.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match="^The .xlsx workbook is damaged or truncated$"):
        read_table(path, file_name="liar.xlsx")


# --- .csv -----------------------------------------------------------------------------


def test_csv_with_utf8_bom(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(codecs.BOM_UTF8 + "检查号,姓名\r\nE1,张三\r\n".encode())
    assert read_all(path, "excel.csv") == (["检查号", "姓名"], [(2, ["E1", "张三"])])


def test_csv_without_bom(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("exam_id,patient_name\nE1,Zhang Wei\n", encoding="utf-8")
    assert read_all(path, "plain.csv") == (["exam_id", "patient_name"], [(2, ["E1", "Zhang Wei"])])


def test_csv_in_gbk_as_chinese_excel_saves_it(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("检查号,姓名,检查项目\r\nE1,张三,胸部CT平扫\r\n".encode("gbk"))
    assert read_all(path, "gbk.csv") == (
        ["检查号", "姓名", "检查项目"],
        [(2, ["E1", "张三", "胸部CT平扫"])],
    )


def test_csv_in_utf16_with_bom_and_tabs(tmp_path):
    # Excel's "Unicode Text" export.
    path = tmp_path / "unicode.csv"
    path.write_bytes("检查号\t姓名\r\nE1\t张三\r\n".encode("utf-16"))
    assert read_all(path, "unicode.csv") == (["检查号", "姓名"], [(2, ["E1", "张三"])])


def test_csv_with_semicolons(tmp_path):
    path = tmp_path / "eu.csv"
    path.write_text("exam_id;patient_name\nE1;Müller, Anna\n", encoding="utf-8")
    assert read_all(path, "eu.csv") == (["exam_id", "patient_name"], [(2, ["E1", "Müller, Anna"])])


def test_utf8_csv_with_a_damaged_byte_is_refused_not_read_as_gbk(tmp_path):
    path = tmp_path / "damaged.csv"
    good = "检查号,姓名\n" + "".join(f"E{i},张三丰\n" for i in range(50))
    path.write_bytes(good.encode() + b"E99,\xff\xfe\n")
    with pytest.raises(FileFormatError) as exc:
        read_table(path, file_name="damaged.csv")
    assert exc.value.message == "The CSV file is not valid UTF-8 text (bad bytes near line 52)"


def test_csv_that_is_no_known_text_encoding_is_refused(tmp_path):
    path = tmp_path / "binary.csv"
    path.write_bytes(b"a,b\n\x80\x80\xff\xff\n")
    with pytest.raises(FileFormatError, match="^The CSV file is neither UTF-8 nor GB18030"):
        read_table(path, file_name="binary.csv")


def test_csv_record_spanning_lines_is_one_row(tmp_path):
    path = tmp_path / "multiline.csv"
    path.write_text('id,text\nE1,"line one\nline two"\nE2,x\n', encoding="utf-8")
    assert read_all(path, "multiline.csv") == (
        ["id", "text"],
        [(2, ["E1", "line one\nline two"]), (3, ["E2", "x"])],
    )


def test_csv_blank_lines_are_skipped_but_counted(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("\nid,name\nE1,a\n\n,\nE2,b\n", encoding="utf-8")
    with read_table(path, file_name="blank.csv") as table:
        assert table.header_row == 2
        assert list(table.rows()) == [(3, ["E1", "a"]), (6, ["E2", "b"])]


def test_csv_empty_cells_are_none(tmp_path):
    path = tmp_path / "empty_cells.csv"
    path.write_text("a,b,c\n1,,3\n", encoding="utf-8")
    assert read_all(path, "empty_cells.csv")[1] == [(2, ["1", None, "3"])]


def test_header_only_csv_has_no_rows(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("检查号,姓名\n", encoding="utf-8")
    assert read_all(path, "header.csv") == (["检查号", "姓名"], [])


def test_csv_with_only_a_bom_has_no_header_row(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(codecs.BOM_UTF8 + b"\r\n")
    with pytest.raises(FileFormatError, match="^The file has no header row$"):
        read_table(path, file_name="bom.csv")


def test_csv_with_a_giant_field_is_malformed(tmp_path):
    path = tmp_path / "giant.csv"
    path.write_text("a,b\n1,2\n3," + "x" * 200_000 + "\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match="^The CSV file is malformed at row 3: field larger"):
        read_all(path, "giant.csv")


def test_csv_from_a_file_object_leaves_it_open(tmp_path):
    upload = io.BytesIO("检查号\nE1\n".encode())
    assert read_all(upload, "upload.csv") == (["检查号"], [(2, ["E1"])])
    assert not upload.closed


# --- .json ----------------------------------------------------------------------------


def read_json(tmp_path, payload: str | bytes, **kwargs):
    path = tmp_path / "reports.json"
    path.write_bytes(payload.encode() if isinstance(payload, str) else payload)
    return read_all(path, "reports.json", allowed_extensions=REPORT_EXTENSIONS, **kwargs)


def test_json_headers_are_the_union_of_keys_in_first_seen_order(tmp_path):
    payload = json.dumps(
        [
            {"report_id": "R1", "exam_id": "E1", "content": "正常"},
            {"report_id": "R2", "status": "draft", "exam_id": "E2"},
            {},
            {"report_id": "R4", "created_at": "2025-11-06T10:30:00", "nested": {"a": 1}},
        ],
        ensure_ascii=False,
    )
    headers, rows = read_json(tmp_path, payload)
    assert headers == ["report_id", "exam_id", "content", "status", "created_at", "nested"]
    assert rows == [
        (1, ["R1", "E1", "正常", None, None, None]),
        (2, ["R2", "E2", None, "draft", None, None]),
        (4, ["R4", None, None, None, "2025-11-06T10:30:00", {"a": 1}]),
    ]


def test_json_is_streamed_across_chunk_boundaries(tmp_path, monkeypatch):
    monkeypatch.setattr(json_file, "CHUNK", 7)
    items = [{"report_id": f"R{i}", "content": "肺纹理清晰 " * (i % 5)} for i in range(40)]
    payload = codecs.BOM_UTF8 + json.dumps(items, ensure_ascii=False, indent=2).encode()
    headers, rows = read_json(tmp_path, payload)
    assert headers == ["report_id", "content"]
    assert [values for _, values in rows] == [[i["report_id"], i["content"]] for i in items]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ('{"report_id": "R1"}', "The JSON file must contain a list of objects"),
        (
            '[{"report_id": "R1"}, 5]',
            "The JSON file must contain a list of objects (item 2 is not an object)",
        ),
        ("[]", "The JSON list is empty"),
        ('[{"report_id": "R1"}', "The JSON file is not valid JSON (it ends too early)"),
        ('[{"report_id": "R1"} {"a": 1}]', "The JSON file is not valid JSON (after item 1)"),
        ('[{"report_id": "R1"}] trailing', "The JSON file is not valid JSON (text after the list)"),
        ('[{"report_id": R1}]', "The JSON file is not valid JSON (item 1: Expecting value)"),
        (b'[{"a": "\xff"}]', "The JSON file is not UTF-8 text"),
    ],
)
def test_json_that_is_not_a_list_of_objects_is_refused(tmp_path, payload, message):
    with pytest.raises(FileFormatError) as exc:
        read_json(tmp_path, payload)
    assert exc.value.message == message


def test_json_item_larger_than_the_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(json_file, "CHUNK", 64)
    payload = json.dumps([{"content": "x" * 1000}])
    with pytest.raises(FileTooComplex, match="^An item of the JSON list is larger than 256 bytes$"):
        read_json(tmp_path, payload, limits=ReaderLimits(max_json_item_bytes=256))


def test_json_values_are_kept_as_given(tmp_path):
    _, rows = read_json(tmp_path, '[{"created_at": "2025-11-06 10:30", "n": 1.5, "b": true}]')
    assert rows == [(1, ["2025-11-06 10:30", 1.5, True])]
