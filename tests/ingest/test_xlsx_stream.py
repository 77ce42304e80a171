"""The streamed reading of an .xlsx sheet must give what calamine gives.

calamine stays the reference: each workbook here is read twice, once by the stream and once
by calamine alone (``_plan_stream`` patched to refuse), and both readings must agree. The
readings are compared as records ``{header: value}`` per row number: calamine counts columns
from the sheet's first used column and the stream from the header's first, which changes
nothing but the positions of blank-header columns.
"""

import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from ingest.readers import FileFormatError, calamine, read_table, xlsx_scan
from sampledata import generate_studies
from sampledata.writers import write_studies_xlsx
from tests.ingest.test_readers import MAIN_NS, inline, write_raw_xlsx


def records(path: Path, **kwargs) -> tuple[int | None, list, str | None, list]:
    with read_table(path, file_name="book.xlsx", **kwargs) as table:
        rows = [
            (number, {h: v for h, v in zip(table.headers, values, strict=True) if h.strip()})
            for number, values in table.rows()
        ]
        return table.header_row, rows, table.sheet_name, table.other_sheets


def by_calamine(path: Path, monkeypatch, **kwargs) -> tuple:
    with monkeypatch.context() as patch:
        patch.setattr(xlsx_scan, "plan_stream", lambda archive: None)
        return records(path, **kwargs)


@pytest.fixture
def stream_only(monkeypatch):
    """Fail if calamine reads the first sheet: these workbooks must stream to the end."""

    def refuse(*args, **kwargs):
        raise AssertionError("calamine read the first sheet")

    monkeypatch.setattr(calamine, "fallback_rows", refuse)


def assert_same_as_calamine(path: Path, monkeypatch, **kwargs) -> tuple:
    streamed = records(path, **kwargs)
    assert streamed == by_calamine(path, monkeypatch, **kwargs)
    return streamed


MIXED_ROWS = [
    ["检查号", "姓名", "年龄", "开单时间", "日期", "备注"],
    ["E1", "张伟", 45, datetime(2025, 11, 6, 10, 30), date(2025, 11, 6), "  两端空格  "],
    ["E2", "Li & <Na>", "3月", 45967.4375, None, "line1\nline2"],
    [None, None, None, None, None, None],
    ["E4", "", 0, datetime(2025, 11, 6, 10, 30, 15, 250000), date(1999, 1, 1), "\t"],
    ["E5", "a_b", -1.5, 61.5, None, "'=1+1"],
    ["E6", "   ", 1e-7, None, None, "é ü 😀"],
]


def write_mixed(path: Path, *, constant_memory: bool, first_row: int = 0, first_col: int = 0):
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": constant_memory})
    sheet = workbook.add_worksheet("检查")
    stamp = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    day = workbook.add_format({"num_format": 14})
    for r, row in enumerate(MIXED_ROWS):
        for c, value in enumerate(row):
            if value is None:
                continue
            at = (first_row + r, first_col + c)
            if isinstance(value, datetime):
                sheet.write_datetime(*at, value, stamp)
            elif isinstance(value, date):
                sheet.write_datetime(*at, datetime.combine(value, datetime.min.time()), day)
            elif isinstance(value, float) and r and c == 3:
                sheet.write_number(*at, value, stamp)
            else:
                sheet.write(*at, value)
    workbook.close()
    return path


@pytest.mark.parametrize("constant_memory", [False, True], ids=["shared", "inline"])
def test_xlsxwriter_workbook_reads_as_calamine_reads_it(
    tmp_path, monkeypatch, stream_only, constant_memory
):
    path = write_mixed(tmp_path / "mixed.xlsx", constant_memory=constant_memory)
    header_row, rows, _, _ = assert_same_as_calamine(path, monkeypatch)
    assert header_row == 1
    assert rows[0] == (
        2,
        {
            "检查号": "E1",
            "姓名": "张伟",
            "年龄": 45.0,
            "开单时间": datetime(2025, 11, 6, 10, 30),
            "日期": date(2025, 11, 6),
            "备注": "  两端空格  ",
        },
    )


def test_header_below_and_right_of_a1_reads_as_calamine_reads_it(
    tmp_path, monkeypatch, stream_only
):
    path = write_mixed(tmp_path / "offset.xlsx", constant_memory=True, first_row=3, first_col=2)
    header_row, _, _, _ = assert_same_as_calamine(path, monkeypatch)
    assert header_row == 4


def test_the_ris_export_reads_as_calamine_reads_it(tmp_path, monkeypatch, stream_only):
    path = tmp_path / "20251029130203.xlsx"
    write_studies_xlsx(path, list(generate_studies(300, seed=11)))
    _, rows, _, _ = assert_same_as_calamine(path, monkeypatch)
    assert len(rows) == 300


def test_the_ris_generator_of_the_benchmark_reads_as_calamine_reads_it(
    tmp_path, monkeypatch, stream_only
):
    # The benchmark's 1,000,000-row file is written this way: constant_memory, inline strings.
    path = tmp_path / "ris.xlsx"
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet("Sheet1")
    stamp = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    sheet.write_row(0, 0, ["检查号", "姓名", "性别", "年龄", "开单时间"])
    for n in range(1, 200):
        sheet.write_string(n, 0, f"CT{n:014d}")
        sheet.write_string(n, 1, "严梅")
        sheet.write_string(n, 2, "女")
        sheet.write_string(n, 3, f"{n % 90}岁")
        sheet.write_number(n, 4, 44712.41146990741 + n / 7, stamp)
    workbook.close()
    _, rows, _, _ = assert_same_as_calamine(path, monkeypatch)
    assert len(rows) == 199


def test_openpyxl_workbook_reads_as_calamine_reads_it(tmp_path, monkeypatch, stream_only):
    path = tmp_path / "openpyxl.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "data"
    for row in MIXED_ROWS:
        sheet.append(row)
    workbook.create_sheet("empty")
    workbook.save(path)
    _, _, name, others = assert_same_as_calamine(path, monkeypatch)
    assert (name, others) == ("data", ["empty"])


def test_rich_text_and_shared_string_forms_read_as_calamine_reads_them(
    tmp_path, monkeypatch, stream_only
):
    cells = "".join(f'<c r="{col}2" t="s"><v>{i}</v></c>' for i, col in enumerate("ABCDEFG"))
    header = "".join(inline(f"{col}1", f"h{col}") for col in "ABCDEFG")
    strings = (
        "<si><t>plain</t></si>"
        '<si><r><rPr><b/></rPr><t>ri</t></r><r><t xml:space="preserve"> ch </t></r></si>'
        '<si><t>漢字</t><rPh sb="0" eb="1"><t>かん</t></rPh><phoneticPr fontId="1"/></si>'
        "<si><t> trimmed </t></si>"
        "<si><t/></si>"
        "<si><t>a &amp; b &#x4E2D;&#25991;</t></si>"
        "<si><r><t>a </t></r><r><t> b</t></r></si>"
    )
    path = write_raw_xlsx(
        tmp_path / "sst.xlsx",
        f'<row r="1">{header}</row><row r="2">{cells}</row>',
        shared_strings=f'<sst xmlns="{MAIN_NS}" count="7" uniqueCount="7">{strings}</sst>',
    )
    _, rows, _, _ = assert_same_as_calamine(path, monkeypatch)
    assert rows[0][1]["hB"] == "ri ch "


@pytest.mark.parametrize(
    "cell",
    [
        '<c r="B2"><f>1+1</f><v>2</v></c>',  # a formula
        '<c r="B2" t="b"><v>1</v></c>',  # a boolean
        '<c r="B2" t="e"><v>#DIV/0!</v></c>',  # an error
        '<c r="B2" t="str"><v>text</v></c>',  # a formula's text
        '<c r="B2" t="inlineStr"><is><t>a_x000D_b</t></is></c>',  # an OOXML escape
        '<c r="B2" t="inlineStr"><is><r><t>ri</t></r><r><t>ch</t></r></is></c>',
        '<c r="B2"><v>1_000</v></c>',  # not a number calamine reads
    ],
)
def test_forms_the_stream_does_not_read_are_left_to_calamine(tmp_path, monkeypatch, cell):
    body = "".join(
        f'<row r="{n}">{inline(f"A{n}", f"E{n}")}'
        + (cell.replace("B2", f"B{n}") if n == 3 else inline(f"B{n}", "x"))
        + "</row>"
        for n in range(2, 6)
    )
    path = write_raw_xlsx(
        tmp_path / "odd.xlsx", f'<row r="1">{inline("A1", "id")}{inline("B1", "v")}</row>{body}'
    )
    used = []
    original = calamine.fallback_rows
    monkeypatch.setattr(
        calamine, "fallback_rows", lambda *a, **k: used.append(k["after"]) or original(*a, **k)
    )
    _, rows, _, _ = assert_same_as_calamine(path, monkeypatch)
    # The stream gave rows 1 and 2, calamine the rest.
    assert used == [2]
    assert [number for number, _ in rows] == [2, 3, 4, 5]


def test_rows_out_of_order_are_left_to_calamine(tmp_path, monkeypatch):
    path = write_raw_xlsx(
        tmp_path / "disorder.xlsx",
        f'<row r="1">{inline("A1", "h")}</row><row r="3">{inline("A3", "c")}</row>'
        f'<row r="2">{inline("A2", "b")}</row>',
    )
    _, rows, _, _ = assert_same_as_calamine(path, monkeypatch)
    assert rows == [(2, {"h": "b"}), (3, {"h": "c"})]


def test_a_cell_left_of_the_header_keeps_its_row_as_calamine_does(tmp_path, monkeypatch):
    path = write_raw_xlsx(
        tmp_path / "left.xlsx",
        f'<row r="1">{inline("B1", "h")}{inline("C1", "i")}</row>'
        f'<row r="2">{inline("A2", "left only")}</row>'
        f'<row r="3">{inline("A3", "left")}{inline("E3", "far right")}</row>'
        f'<row r="4">{inline("E4", "far right only")}</row>'
        f'<row r="5">{inline("B5", "x")}</row>',
    )
    _, rows, _, _ = assert_same_as_calamine(path, monkeypatch)
    assert [number for number, _ in rows] == [2, 3, 5]


def test_a_damaged_sheet_gets_calamines_message(tmp_path):
    sheet = f'<worksheet xmlns="{MAIN_NS}"><sheetData><row r="1">{inline("A1", "h")}</row><row'
    path = write_raw_xlsx(tmp_path / "cut.xlsx", "", sheet_xml=sheet)
    with pytest.raises(FileFormatError, match=r"^The file is not a valid \.xlsx workbook$"):
        records(path)


def test_a_bad_shared_string_index_gets_calamines_message(tmp_path):
    path = write_raw_xlsx(
        tmp_path / "sst.xlsx",
        '<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>7</v></c></row>',
        shared_strings=f'<sst xmlns="{MAIN_NS}" count="1" uniqueCount="1"><si><t>h</t></si></sst>',
    )
    with pytest.raises(FileFormatError, match=r"^The file is not a valid \.xlsx workbook$"):
        records(path)


def test_a_1904_workbook_is_read_by_calamine(tmp_path, monkeypatch):
    source = write_mixed(tmp_path / "mixed.xlsx", constant_memory=True)
    path = tmp_path / "1904.xlsx"
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(path, "w") as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename == "xl/workbook.xml":
                data = data.replace(b"<workbookPr", b'<workbookPr date1904="1"')
            new.writestr(info, data)
    with zipfile.ZipFile(path) as archive:
        assert xlsx_scan.plan_stream(archive) is None
    assert_same_as_calamine(path, monkeypatch)


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        # calamine's own cases (formats.rs).
        ("DD/MM/YY", "date"),
        ("H:MM:SS;@", "date"),
        ("#,##0\\ [$\\u20bd-46D]", "other"),
        ('m"M"d"D";@', "date"),
        ("[h]:mm:ss", "duration"),
        ('"Y: "0.00"m";"Y: "-0.00"m";"Y: <num>m";@', "other"),
        ('"$"#,##0_);[Red]("$"#,##0)', "other"),
        ('[$-404]e"\\xfc"m"\\xfc"d"\\xfc"', "date"),
        ("0_ ;[Red]\\-0\\ ", "other"),
        ("\\Y000000", "other"),
        ('#,##0.0####" YMD"', "other"),
        ("[h]", "duration"),
        ("[ss]", "duration"),
        ("[s].000", "duration"),
        ("[m]", "duration"),
        ("[mm]", "duration"),
        ("[Blue]\\+[h]:mm;[Red]\\-[h]:mm;[Green][h]:mm", "duration"),
        ("[>=100][Magenta][s].00", "duration"),
        ("[h]:mm;[=0]\\-", "duration"),
        ("[>=100][Magenta].00", "other"),
        ("[>=100][Magenta]General", "other"),
        ("ha/p\\\\m", "date"),
        ('#,##0.00\\ _M"H"_);[Red]#,##0.00\\ _M"S"_)', "other"),
        ("yyyy-mm-dd hh:mm:ss", "date"),
        ("0.00", "other"),
        ("@", "other"),
    ],
)
def test_custom_number_formats_are_classified_as_calamine_does(code, kind):
    assert xlsx_scan.custom_format_kind(code) == kind
