#!/usr/bin/env python3
"""The file attack corpus: hostile and broken uploads for the import endpoints, generated.

    .venv/bin/python bench/reliability/corpus.py OUT_DIR [--full] [--canary-url URL]

Every specimen is written by this module (nothing is downloaded or kept in git): zip bombs
(by ratio, by declared size, by lying sizes, by entry count), XML entity expansion (billion
laughs in sharedStrings.xml, workbook.xml and a sheet; external entities), a huge shared
strings table, a ``dimension`` of A1:XFD1048576, a row past 1,048,576, cells over 32,767
characters and with control characters, formula and DDE cells, an encrypted (OLE) file,
``.xlsm``, external links, a non-zip named ``.xlsx``, a truncated zip, and CSV / JSON oddities.

A specimen says which endpoint it goes to and which answers are acceptable: a refusal (413,
415, 422) or, for a file that is merely odd but valid, a 200. Never a 500, never a dead
process, never a partial import: the checks (tests/security/test_files.py and the live run,
bench/reliability/live.py) hold the server to that. ``--full`` makes the large specimens
large (hundreds of MB inflated); the default keeps the corpus quick enough for CI.

Pure Python (zipfile, zlib, xlsxwriter); no Django.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import struct
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
MB = 1024 * 1024

# The RIS's required columns (ingest/rows.py), so that a well-formed specimen gets as far as
# row validation and the import itself.
HEADERS = ["检查号", "姓名", "检查状态", "检查来源", "检查项目", "开单时间", "检查描述"]
REFUSED = frozenset({413, 415, 422})
REFUSED_OR_OK = frozenset({200, 413, 415, 422})


@dataclass
class Specimen:
    """One file of the corpus and what the server may answer to it."""

    name: str
    path: Path
    endpoint: str  # "studies" or "reports"
    allowed: frozenset[int]
    note: str
    # Exam IDs a 200 may create (all of them, or none: never a part).
    exam_ids: list[str] = field(default_factory=list)
    # Text that must never end up stored (e.g. /etc/passwd through an external entity).
    forbidden_text: list[str] = field(default_factory=list)

    @property
    def upload_name(self) -> str:
        return self.path.name


# ---------------------------------------------------------------------------- xlsx parts


def _content_types(extra: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{CT_NS}">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        f"{extra}</Types>"
    )


def _workbook(sheet_name: str = "Sheet1", prolog: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<workbook xmlns="{MAIN_NS}" '
        f'xmlns:r="{DOC_NS}"><sheets><sheet name="{sheet_name}" sheetId="1" r:id="rId1"/>'
        "</sheets></workbook>"
    )


def _workbook_rels(extra: str = "", shared_strings: bool = False) -> str:
    strings = (
        f'<Relationship Id="rId2" Type="{DOC_NS}/sharedStrings" Target="sharedStrings.xml"/>'
        if shared_strings
        else ""
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{REL_NS}">'
        f'<Relationship Id="rId1" Type="{DOC_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
        f"{strings}{extra}</Relationships>"
    )


def _root_rels() -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{REL_NS}">'
        f'<Relationship Id="rId1" Type="{DOC_NS}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    )


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def inline_cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{_esc(text)}</t></is></c>'


def _col(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def row_xml(number: int, values: list[str | None]) -> str:
    cells = "".join(
        inline_cell(f"{_col(i)}{number}", v) for i, v in enumerate(values) if v is not None
    )
    return f'<row r="{number}">{cells}</row>'


def study_row(exam_id: str, description: str = "正常", name: str = "测试患者") -> list[str]:
    return [exam_id, name, "已审核", "门诊", "胸部CT平扫", "2025-11-06 10:30:00", description]


def _sheet(rows_xml: str, *, prolog: str = "", before_data: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<worksheet xmlns="{MAIN_NS}" '
        f'xmlns:r="{DOC_NS}">{before_data}<sheetData>{rows_xml}</sheetData></worksheet>'
    )


def write_xlsx(
    path: Path,
    sheet_xml: str,
    *,
    workbook_xml: str | None = None,
    shared_strings: str | None = None,
    extra_parts: dict[str, str | bytes] | None = None,
    workbook_rels_extra: str = "",
    content_types_extra: str = "",
) -> Path:
    """A hand-written workbook: exactly the parts given, deflated."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _content_types(content_types_extra))
        archive.writestr("_rels/.rels", _root_rels())
        archive.writestr("xl/workbook.xml", workbook_xml or _workbook())
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            _workbook_rels(workbook_rels_extra, shared_strings is not None),
        )
        archive.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        if shared_strings is not None:
            archive.writestr("xl/sharedStrings.xml", shared_strings)
        for name, data in (extra_parts or {}).items():
            archive.writestr(name, data)
    return path


def _plain_sheet(ids: list[str], description: str = "正常") -> str:
    rows = [row_xml(1, HEADERS)]
    rows += [row_xml(n + 2, study_row(i, description)) for n, i in enumerate(ids)]
    return _sheet("".join(rows))


# ---------------------------------------------------------------------------- specimens


def _valid_xlsx(path: Path, prefix: str) -> tuple[Path, list[str]]:
    ids = [f"{prefix}{n:04d}" for n in range(3)]
    return write_xlsx(path, _plain_sheet(ids)), ids


def _streamed_member(archive: zipfile.ZipFile, name: str, head: bytes, filler: bytes, size: int,
                     tail: bytes) -> None:  # fmt: skip
    """A member of ``size`` bytes written in chunks (never all in memory)."""
    with archive.open(name, "w", force_zip64=True) as member:
        member.write(head)
        left = size
        block = filler * max(1, (4 * MB) // len(filler))
        while left > 0:
            piece = block[: min(left, len(block))]
            member.write(piece)
            left -= len(piece)
        member.write(tail)


@contextlib.contextmanager
def _workbook_archive(
    path: Path, compresslevel: int, *, shared_strings: bool = False
) -> Iterator[zipfile.ZipFile]:
    """A workbook written part by part: the package's parts and the workbook are in, the sheet
    (and the shared strings, if any) are the caller's to write."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as archive:
        archive.writestr("[Content_Types].xml", _content_types())
        archive.writestr("_rels/.rels", _root_rels())
        archive.writestr("xl/workbook.xml", _workbook())
        archive.writestr(
            "xl/_rels/workbook.xml.rels", _workbook_rels(shared_strings=shared_strings)
        )
        yield archive


def _whitespace_sheet(path: Path, size: int) -> None:
    """A workbook whose sheet is the header row and ``size`` bytes of spaces, deflated about
    1000:1."""
    with _workbook_archive(path, 9) as archive:
        head = _sheet(row_xml(1, HEADERS)).split("</sheetData>")[0].encode()
        _streamed_member(archive, "xl/worksheets/sheet1.xml", head, b" ", size,
                         b"</sheetData></worksheet>")  # fmt: skip


def zip_bomb_ratio(out: Path, scale: int) -> Specimen:
    """A sheet that inflates to hundreds of MB of whitespace from well under 1 MB."""
    path = out / "zip_bomb_ratio.xlsx"
    _whitespace_sheet(path, scale * 64 * MB)
    return Specimen("zip bomb (ratio)", path, "studies", REFUSED,
                    f"{scale * 64} MiB sheet deflated ~1000:1")  # fmt: skip


def _patch_sizes(path: Path, member: str, declared: int) -> None:
    """Rewrite a member's declared uncompressed size in its local and central headers."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    # Local file header: signature, ..., uncompressed size at offset 22.
    pos = data.find(b"PK\x03\x04" + b"")
    while pos != -1:
        name_len, extra_len = struct.unpack_from("<HH", data, pos + 26)
        if data[pos + 30 : pos + 30 + name_len] == name:
            struct.pack_into("<I", data, pos + 22, declared)
            break
        pos = data.find(b"PK\x03\x04", pos + 30 + name_len + extra_len)
    # Central directory entry: uncompressed size at offset 24.
    pos = data.find(b"PK\x01\x02")
    while pos != -1:
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, pos + 28)
        if data[pos + 46 : pos + 46 + name_len] == name:
            struct.pack_into("<I", data, pos + 24, declared)
            break
        pos = data.find(b"PK\x01\x02", pos + 46 + name_len + extra_len + comment_len)
    path.write_bytes(bytes(data))


def zip_bomb_declared(out: Path) -> Specimen:
    """A small workbook whose directory declares a 3.9 GB sheet: refused from the directory."""
    path, _ = _valid_xlsx(out / "zip_bomb_declared.xlsx", "ZBD")
    _patch_sizes(path, "xl/worksheets/sheet1.xml", 0xF0000000)
    return Specimen("zip bomb (declared size 3.9 GB)", path, "studies", REFUSED,
                    "directory says 3.9 GB")  # fmt: skip


def zip_bomb_lying(out: Path, scale: int) -> Specimen:
    """Declares a tiny sheet but inflates to far more: the reader must count while reading."""
    path = out / "zip_bomb_lying.xlsx"
    _whitespace_sheet(path, scale * 32 * MB)
    _patch_sizes(path, "xl/worksheets/sheet1.xml", 4096)
    return Specimen("zip bomb (lying sizes)", path, "studies", REFUSED,
                    f"declares 4 KiB, inflates to {scale * 32} MiB")  # fmt: skip


def zip_many_entries(out: Path) -> Specimen:
    path = out / "zip_many_entries.xlsx"
    _valid_xlsx(path, "ZME")
    with zipfile.ZipFile(path, "a", zipfile.ZIP_STORED) as archive:
        for n in range(10_001):
            archive.writestr(f"xl/media/p{n}.bin", b"")
    return Specimen("zip with 10,001 parts", path, "studies", REFUSED, "entry count")


def _laughs(depth: int = 10) -> tuple[str, str]:
    entities = '<!ENTITY lol0 "lollollollollollollollollollol">' + "".join(
        f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10}">' for n in range(1, depth)
    )
    return f"<!DOCTYPE lolz [{entities}]>", f"&lol{depth - 1};"


def billion_laughs_shared_strings(out: Path) -> Specimen:
    doctype, bomb = _laughs()
    strings = (
        f'<?xml version="1.0" encoding="UTF-8"?>{doctype}<sst xmlns="{MAIN_NS}" count="2" '
        f'uniqueCount="2"><si><t>{bomb}</t></si><si><t>x</t></si></sst>'
    )
    rows = row_xml(1, HEADERS) + (
        '<row r="2"><c r="A2" t="inlineStr"><is><t>BLS0001</t></is></c>'
        '<c r="B2" t="s"><v>0</v></c>'
        + "".join(inline_cell(f"{_col(i)}2", v) for i, v in enumerate(study_row("")) if i > 1)
        + "</row>"
    )
    path = write_xlsx(out / "billion_laughs_sst.xlsx", _sheet(rows), shared_strings=strings)
    return Specimen("XML entity expansion in sharedStrings.xml", path, "studies",
                    REFUSED_OR_OK, "billion laughs, 10^9 'lol's", ["BLS0001"])  # fmt: skip


def billion_laughs_workbook(out: Path) -> Specimen:
    doctype, bomb = _laughs()
    path = write_xlsx(
        out / "billion_laughs_workbook.xlsx",
        _plain_sheet(["BLW0001"]),
        workbook_xml=_workbook(sheet_name=bomb, prolog=doctype),
    )
    return Specimen("XML entity expansion in workbook.xml", path, "studies", REFUSED_OR_OK,
                    "billion laughs in the sheet name", ["BLW0001"])  # fmt: skip


def billion_laughs_sheet(out: Path) -> Specimen:
    doctype, bomb = _laughs()
    rows = row_xml(1, HEADERS) + row_xml(2, study_row("BLX0001", description="__BOMB__"))
    sheet = _sheet(rows, prolog=doctype).replace("__BOMB__", bomb)
    path = write_xlsx(out / "billion_laughs_sheet.xlsx", sheet)
    return Specimen("XML entity expansion in a sheet", path, "studies", REFUSED_OR_OK,
                    "billion laughs in a cell", ["BLX0001"])  # fmt: skip


def external_entities(out: Path, canary_url: str | None) -> Specimen:
    url = canary_url or "http://127.0.0.1:9/entity"
    doctype = (
        f'<!DOCTYPE x [<!ENTITY passwd SYSTEM "file:///etc/passwd">'
        f'<!ENTITY remote SYSTEM "{url}">]>'
    )
    rows = row_xml(1, HEADERS) + row_xml(2, study_row("XXE0001", description="__X__"))
    sheet = _sheet(rows, prolog=doctype).replace("__X__", "&passwd;&remote;")
    path = write_xlsx(out / "xxe.xlsx", sheet)
    return Specimen("XML external entities (file, loopback URL)", path, "studies",
                    REFUSED_OR_OK, "must not read /etc/passwd nor fetch the URL", ["XXE0001"],
                    forbidden_text=["root:x:0:0"])  # fmt: skip


def shared_strings_declared(out: Path) -> Specimen:
    strings = (
        f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN_NS}" count="2147483647" '
        'uniqueCount="2147483647"><si><t>x</t></si></sst>'
    )
    path = write_xlsx(out / "shared_strings_lie.xlsx", _plain_sheet(["SSL0001"]),
                      shared_strings=strings)  # fmt: skip
    return Specimen("sharedStrings declaring 2^31 strings", path, "studies", REFUSED,
                    "calamine would reserve them up front")  # fmt: skip


def shared_strings_huge(out: Path, scale: int) -> Specimen:
    """A genuinely large shared strings table (distinct strings), referenced by one row."""
    count = 400_000 * scale
    path = out / "shared_strings_huge.xlsx"
    with _workbook_archive(path, 1, shared_strings=True) as archive:
        rows = row_xml(1, HEADERS) + row_xml(2, study_row("SSH0001"))
        archive.writestr("xl/worksheets/sheet1.xml", _sheet(rows))
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as member:
            member.write(
                f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN_NS}" '
                f'count="{count}" uniqueCount="{count}">'.encode()
            )
            batch = []
            for n in range(count):
                batch.append(f"<si><t>患者备注 {n:09d} {n * 2654435761 % 4294967296:010d}</t></si>")
                if len(batch) == 10_000:
                    member.write("".join(batch).encode())
                    batch = []
            member.write(("".join(batch) + "</sst>").encode())
    return Specimen("huge sharedStrings part", path, "studies", REFUSED_OR_OK,
                    f"{count:,} distinct strings", ["SSH0001"])  # fmt: skip


def shared_strings_bomb_file(
    path: Path, count: int, *, size: int = 4096, prefix: str = ""
) -> list[str]:
    """A workbook whose shared strings are ``count`` distinct strings of ``size`` bytes that
    deflate about 131:1: under the ratio check (200:1) and, at 484,000 strings (2 GB inflated
    from 15 MB), under the size limit too. Five rows use strings from the start, the middle and
    the end of the table as their description; the exam IDs are returned."""
    rng = random.Random(20)
    filler = ("patient note; " * (size // 8)).encode()
    picks = [0, 1, count // 2, count - 2, count - 1]
    ids = [f"SSB{n:04d}" for n in range(len(picks))]
    with _workbook_archive(path, 6, shared_strings=True) as archive:
        rows = [row_xml(1, HEADERS)]
        for number, (exam_id, pick) in enumerate(zip(ids, picks, strict=True), start=2):
            cells = "".join(
                inline_cell(f"{_col(i)}{number}", v) for i, v in enumerate(study_row(exam_id)[:-1])
            )
            rows.append(f'<row r="{number}">{cells}<c r="G{number}" t="s"><v>{pick}</v></c></row>')
        archive.writestr("xl/worksheets/sheet1.xml", _sheet("".join(rows)))
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as member:
            x = f"{prefix}:" if prefix else ""
            member.write(
                f'<?xml version="1.0" encoding="UTF-8"?><{x}sst xmlns{":" + prefix if prefix else ""}'
                f'="{MAIN_NS}" count="{count}" uniqueCount="{count}">'.encode()
            )
            si, t = f"<{x}si><{x}t>".encode(), f"</{x}t></{x}si>".encode()
            batch = []
            for n in range(count):
                head = f"{n:09d} {rng.getrandbits(96):024x} ".encode()
                batch.append(si + head + filler[: size - len(head)] + t)
                if len(batch) == 1_000:
                    member.write(b"".join(batch))
                    batch = []
            member.write(b"".join(batch) + f"</{x}sst>".encode())
    return ids


def shared_string_text(n: int, count: int, *, size: int = 4096) -> str:
    """The text of string ``n`` of ``shared_strings_bomb_file(..., count)``."""
    rng = random.Random(20)
    for _ in range(n):
        rng.getrandbits(96)
    head = f"{n:09d} {rng.getrandbits(96):024x} "
    return head + ("patient note; " * (size // 8))[: size - len(head)]


def shared_strings_bomb(out: Path, scale: int) -> Specimen:
    """Issue 20, item 8: the table that took 2 GB of a worker's memory (--full: 484,000
    strings, 2 GB inflated from 15 MB), imported in bounded memory."""
    count = 484_000 if scale > 1 else 20_000
    path = out / "shared_strings_bomb.xlsx"
    ids = shared_strings_bomb_file(path, count)
    return Specimen("sharedStrings of distinct 4 KB strings, 131:1", path, "studies",
                    REFUSED_OR_OK, f"{count:,} strings, {count * 4 // 1024:,} MiB inflated",
                    ids)  # fmt: skip


def dimension_whole_sheet(out: Path) -> Specimen:
    sheet = _sheet(
        row_xml(1, HEADERS) + row_xml(2, study_row("DIM0001")),
        before_data='<dimension ref="A1:XFD1048576"/>',
    )
    path = write_xlsx(out / "dimension_xfd.xlsx", sheet)
    return Specimen("dimension A1:XFD1048576", path, "studies", REFUSED_OR_OK,
                    "2 real rows under a sheet-wide dimension", ["DIM0001"])  # fmt: skip


def far_cell(out: Path) -> Specimen:
    rows = row_xml(1, HEADERS) + row_xml(2, study_row("FAR0001"))
    rows += f'<row r="1048576">{inline_cell("XFD1048576", "x")}</row>'
    path = write_xlsx(out / "far_cell.xlsx", _sheet(rows))
    return Specimen("cells at A1 and XFD1048576", path, "studies", REFUSED,
                    "a 17-billion-cell grid")  # fmt: skip


def row_past_limit(out: Path) -> Specimen:
    rows = row_xml(1, HEADERS) + row_xml(2, study_row("ROW0001"))
    rows += row_xml(1_048_577, study_row("ROW0002"))
    path = write_xlsx(out / "row_past_limit.xlsx", _sheet(rows))
    return Specimen("row number 1,048,577", path, "studies", REFUSED_OR_OK,
                    "one row past Excel's last", ["ROW0001", "ROW0002"])  # fmt: skip


def row_number_overflow(out: Path) -> Specimen:
    rows = row_xml(1, HEADERS) + row_xml(2, study_row("ROV0001"))
    rows += row_xml(4_294_967_297, study_row("ROV0002"))
    path = write_xlsx(out / "row_overflow.xlsx", _sheet(rows))
    return Specimen("row number 2^32+1", path, "studies", REFUSED_OR_OK,
                    "overflows a 32-bit row index", ["ROV0001", "ROV0002"])  # fmt: skip


def long_cells(out: Path) -> Specimen:
    rows = row_xml(1, HEADERS) + row_xml(2, study_row("LNG0001", description="描" * 40_000))
    rows += row_xml(3, study_row("LNG0002", name="名" * 40_000))
    path = write_xlsx(out / "long_cells.xlsx", _sheet(rows))
    return Specimen("cells of 40,000 characters", path, "studies", REFUSED_OR_OK,
                    "over Excel's 32,767; a name over its 200", ["LNG0001", "LNG0002"])  # fmt: skip


def control_characters(out: Path) -> Specimen:
    # Escaped the OOXML way (_x0001_), so the XML stays well-formed.
    text = (
        "".join(f"_x{c:04X}_" for c in [*range(1, 9), 11, 12, *range(14, 32)]) + "结节\u2028\ufeff"
    )
    rows = row_xml(1, HEADERS) + row_xml(2, study_row("CTL0001", description=text))
    rows += row_xml(3, study_row("CTL0002", name="张_x0007_伟_x001B_[31m"))
    path = write_xlsx(out / "control_chars.xlsx", _sheet(rows))
    return Specimen("cells with control characters", path, "studies", REFUSED_OR_OK,
                    "C0 controls, ANSI escape, U+2028, BOM", ["CTL0001", "CTL0002"])  # fmt: skip


def raw_control_bytes(out: Path) -> Specimen:
    rows = row_xml(1, HEADERS) + row_xml(2, study_row("RCB0001", description="a\x01b\x00c"))
    path = write_xlsx(out / "raw_control_bytes.xlsx", _sheet(rows))
    return Specimen("raw NUL / control bytes in the XML", path, "studies", REFUSED_OR_OK,
                    "not well-formed XML", ["RCB0001"])  # fmt: skip


def formula_cells(out: Path) -> Specimen:
    cells = "".join(
        inline_cell(f"{_col(i)}2", v) for i, v in enumerate(study_row("FML0001")) if i != 1
    )
    row2 = (
        f'<row r="2">{cells}<c r="B2" t="str"><f>HYPERLINK("http://127.0.0.1:9/x","张伟")</f>'
        "<v>张伟</v></c></row>"
    )
    cells3 = "".join(
        inline_cell(f"{_col(i)}3", v) for i, v in enumerate(study_row("FML0002")) if i != 6
    )
    row3 = (
        f'<row r="3">{cells3}<c r="G3" t="str"><f>cmd|\' /C calc\'!A0</f><v>=cmd|\' /C calc\'!A0</v></c>'
        "</row>"
    )
    path = write_xlsx(out / "formula_cells.xlsx", _sheet(row_xml(1, HEADERS) + row2 + row3))
    return Specimen("formula and DDE cells", path, "studies", REFUSED_OR_OK,
                    "HYPERLINK, cmd|' /C calc'!A0", ["FML0001", "FML0002"])  # fmt: skip


def encrypted_ole(out: Path, suffix: str) -> Specimen:
    """What Excel writes for a password-protected workbook: an OLE compound file.

    This one's DIFAT chain points at itself, which made calamine grow a buffer without end
    (a 4.6 KB .xls aborted the server process before .xls files were read in a child).
    """
    path = out / f"encrypted{suffix}"
    header = bytearray(512)
    header[:8] = OLE_MAGIC
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    body = "EncryptionInfo EncryptedPackage \x06DataSpaces".encode("utf-16-le")
    path.write_bytes(bytes(header) + body + bytes(4096 - len(body)))
    return Specimen(f"encrypted (OLE) file as {suffix}", path, "studies", REFUSED,
                    "CFB with EncryptionInfo; its DIFAT chain is a cycle")  # fmt: skip


def xls_valid(out: Path) -> Specimen:
    ids = ["XLS0001", "XLS0002"]
    rows: list[list[str | float | None]] = [list(HEADERS)]
    rows += [list(study_row(i)) for i in ids]
    path = write_xls(out / "valid.xls", rows)
    return Specimen("a valid .xls (BIFF8)", path, "studies", frozenset({200}),
                    "read in the memory-capped child", ids)  # fmt: skip


def xls_far_cell(out: Path) -> Specimen:
    rows: list[list[str | float | None]] = [list(HEADERS), list(study_row("XFC0001"))]
    path = write_xls(out / "far_cell.xls", rows, far_cell=(65535, 65535))
    return Specimen(".xls with a cell at row 65,536, column 65,536", path, "studies", REFUSED,
                    "calamine allocates 137 GB and aborts")  # fmt: skip


def xlsm(out: Path) -> Specimen:
    path, _ = _valid_xlsx(out / "macro.xlsm", "XLM")
    return Specimen(".xlsm (macro-enabled)", path, "studies", REFUSED, "extension refused")


def macro_renamed(out: Path) -> Specimen:
    extra = '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
    path = write_xlsx(
        out / "macro_renamed.xlsx",
        _plain_sheet(["MAC0001"]),
        extra_parts={"xl/vbaProject.bin": OLE_MAGIC + bytes(1024)},
        workbook_rels_extra=(
            '<Relationship Id="rId9" Type="http://schemas.microsoft.com/office/2006/relationships/'
            'vbaProject" Target="vbaProject.bin"/>'
        ),
        content_types_extra=extra,
    )
    return Specimen("macro project inside an .xlsx", path, "studies", REFUSED_OR_OK,
                    "vbaProject.bin is never run", ["MAC0001"])  # fmt: skip


def external_links(out: Path, canary_url: str | None) -> Specimen:
    url = canary_url or "http://127.0.0.1:9/book.xlsx"
    link = (
        f'<?xml version="1.0" encoding="UTF-8"?><externalLink xmlns="{MAIN_NS}" '
        f'xmlns:r="{DOC_NS}"><externalBook r:id="rId1"><sheetNames><sheetName val="S"/>'
        "</sheetNames></externalBook></externalLink>"
    )
    link_rels = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{REL_NS}">'
        f'<Relationship Id="rId1" Type="{DOC_NS}/externalLinkPath" Target="{url}" '
        'TargetMode="External"/></Relationships>'
    )
    cells = "".join(
        inline_cell(f"{_col(i)}2", v) for i, v in enumerate(study_row("EXT0001")) if i != 6
    )
    row2 = f'<row r="2">{cells}<c r="G2" t="str"><f>[1]S!A1</f><v>remote</v></c></row>'
    sheet = _sheet(row_xml(1, HEADERS) + row2)
    sheet = sheet.replace(
        "</worksheet>",
        '<hyperlinks><hyperlink ref="A2" r:id="rId5"/></hyperlinks></worksheet>',
    )
    path = write_xlsx(
        out / "external_links.xlsx",
        sheet,
        extra_parts={
            "xl/externalLinks/externalLink1.xml": link,
            "xl/externalLinks/_rels/externalLink1.xml.rels": link_rels,
            "xl/worksheets/_rels/sheet1.xml.rels": (
                f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{REL_NS}">'
                f'<Relationship Id="rId5" Type="{DOC_NS}/hyperlink" Target="{url}" '
                'TargetMode="External"/></Relationships>'
            ),
        },
        workbook_rels_extra=(
            f'<Relationship Id="rId3" Type="{DOC_NS}/externalLink" '
            'Target="externalLinks/externalLink1.xml"/>'
        ),
    )
    return Specimen("external links (workbook, hyperlink)", path, "studies", REFUSED_OR_OK,
                    "must not fetch the link", ["EXT0001"])  # fmt: skip


def not_a_zip(out: Path) -> Specimen:
    path = out / "not_a_zip.xlsx"
    path.write_bytes(b"MZ\x90\x00" + bytes(2000))
    return Specimen("non-zip named .xlsx", path, "studies", REFUSED, "a Windows executable")


def truncated_zip(out: Path) -> Specimen:
    source, _ = _valid_xlsx(out / "_whole.xlsx", "TRU")
    data = source.read_bytes()
    source.unlink()
    path = out / "truncated.xlsx"
    path.write_bytes(data[: len(data) * 2 // 3])
    return Specimen("truncated zip", path, "studies", REFUSED, "last third cut off")


def zip_slip(out: Path) -> Specimen:
    path, ids = _valid_xlsx(out / "zip_slip.xlsx", "ZSL")
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("../../../../tmp/mip_zip_slip_canary", b"x")
    return Specimen("zip entry with ../ path", path, "studies", REFUSED_OR_OK,
                    "nothing is extracted", ids)  # fmt: skip


def empty_file(out: Path) -> Specimen:
    path = out / "empty.xlsx"
    path.write_bytes(b"")
    return Specimen("empty file", path, "studies", REFUSED, "0 bytes")


def html_as_xls(out: Path) -> Specimen:
    path = out / "web_page.xls"
    path.write_text("<html><body><table><tr><td>检查号</td></tr></table></body></html>")
    return Specimen("HTML saved as .xls", path, "studies", REFUSED, "what some HIS export")


def csv_formulas(out: Path) -> Specimen:
    path = out / "formulas.csv"
    lines = [",".join(HEADERS)]
    for n, text in enumerate(["=cmd|' /C calc'!A0", "+1+1", "@SUM(1,1)", '=HYPERLINK("x")']):
        row = study_row(f"CSV{n:04d}", description=text)
        lines.append(",".join('"' + v.replace('"', '""') + '"' for v in row))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Specimen("CSV with formula payloads", path, "studies", REFUSED_OR_OK,
                    "stored as text", [f"CSV{n:04d}" for n in range(4)])  # fmt: skip


def csv_nul(out: Path) -> Specimen:
    path = out / "nul_bytes.csv"
    row = study_row("NUL0001", description="a\x00b")
    path.write_bytes((",".join(HEADERS) + "\n" + ",".join(row) + "\n").encode())
    return Specimen("CSV with NUL bytes", path, "studies", REFUSED_OR_OK,
                    "PostgreSQL refuses NUL in text", ["NUL0001"])  # fmt: skip


def csv_giant_field(out: Path) -> Specimen:
    path = out / "giant_field.csv"
    row = study_row("GNT0001", description="x" * 300_000)
    path.write_text(",".join(HEADERS) + "\n" + ",".join(row) + "\n", encoding="utf-8")
    return Specimen("CSV field of 300,000 characters", path, "studies", REFUSED_OR_OK,
                    "over the csv module's field limit", ["GNT0001"])  # fmt: skip


def csv_wide(out: Path) -> Specimen:
    path = out / "wide.csv"
    path.write_text(",".join(HEADERS + [f"c{n}" for n in range(2000)]) + "\n", encoding="utf-8")
    return Specimen("CSV with 2,007 columns", path, "studies", REFUSED, "header too wide")


def json_deep(out: Path) -> Specimen:
    path = out / "deep.json"
    depth = 200_000
    path.write_text('[{"report_id": "R1", "content": ' + "[" * depth + "]" * depth + "}]")
    return Specimen("JSON nested 200,000 deep", path, "reports", REFUSED,
                    "recursion in the decoder")  # fmt: skip


def json_big_number(out: Path) -> Specimen:
    path = out / "big_number.json"
    path.write_text('[{"report_id": "R1", "exam_id": ' + "9" * 50_000 + ', "content": "x"}]')
    return Specimen("JSON integer of 50,000 digits", path, "reports", REFUSED,
                    "Python's int-to-str digit limit")  # fmt: skip


def json_not_list(out: Path) -> Specimen:
    path = out / "object.json"
    path.write_text(json.dumps({"report_id": "R1"}))
    return Specimen("JSON object instead of a list", path, "reports", REFUSED, "shape")


def json_lone_surrogate(out: Path) -> Specimen:
    path = out / "surrogate.json"
    path.write_text('[{"report_id": "R\\ud800", "exam_id": "X", "content": "\\udfff"}]')
    return Specimen("JSON with lone surrogates", path, "reports", REFUSED,
                    "not encodable as UTF-8")  # fmt: skip


def build(out: Path, *, full: bool = False, canary_url: str | None = None) -> list[Specimen]:
    """Write every specimen into ``out`` and describe them."""
    out.mkdir(parents=True, exist_ok=True)
    scale = 4 if full else 1
    makers: list[Callable[[], Specimen]] = [
        lambda: zip_bomb_ratio(out, scale),
        lambda: zip_bomb_declared(out),
        lambda: zip_bomb_lying(out, scale),
        lambda: zip_many_entries(out),
        lambda: billion_laughs_shared_strings(out),
        lambda: billion_laughs_workbook(out),
        lambda: billion_laughs_sheet(out),
        lambda: external_entities(out, canary_url),
        lambda: shared_strings_declared(out),
        lambda: shared_strings_huge(out, scale),
        lambda: shared_strings_bomb(out, scale),
        lambda: dimension_whole_sheet(out),
        lambda: far_cell(out),
        lambda: row_past_limit(out),
        lambda: row_number_overflow(out),
        lambda: long_cells(out),
        lambda: control_characters(out),
        lambda: raw_control_bytes(out),
        lambda: formula_cells(out),
        lambda: encrypted_ole(out, ".xlsx"),
        lambda: encrypted_ole(out, ".xls"),
        lambda: xls_valid(out),
        lambda: xls_far_cell(out),
        lambda: xlsm(out),
        lambda: macro_renamed(out),
        lambda: external_links(out, canary_url),
        lambda: not_a_zip(out),
        lambda: truncated_zip(out),
        lambda: zip_slip(out),
        lambda: empty_file(out),
        lambda: html_as_xls(out),
        lambda: csv_formulas(out),
        lambda: csv_nul(out),
        lambda: csv_giant_field(out),
        lambda: csv_wide(out),
        lambda: json_deep(out),
        lambda: json_big_number(out),
        lambda: json_not_list(out),
        lambda: json_lone_surrogate(out),
    ]
    return [make() for make in makers]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--full", action="store_true", help="large specimens at full size")
    parser.add_argument("--canary-url", help="a loopback URL that must never be fetched")
    args = parser.parse_args(argv)
    for specimen in build(args.out, full=args.full, canary_url=args.canary_url):
        size = specimen.path.stat().st_size
        print(f"{specimen.path.name:32} {size:>12,}  {specimen.name}")
    return 0


# ---------------------------------------------------------------------------- .xls (BIFF8)

ENDOFCHAIN = 0xFFFFFFFE
FREESECT = 0xFFFFFFFF
FATSECT = 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF


def _record(kind: int, body: bytes) -> bytes:
    return struct.pack("<HH", kind, len(body)) + body


def _bof(kind: int) -> bytes:
    return _record(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0, 0x06))


def _xls_string(text: str) -> bytes:
    return struct.pack("<HB", len(text), 1) + text.encode("utf-16-le")


def biff8_workbook(
    rows: list[list[str | float | None]], *, far_cell: tuple[int, int] | None = None
) -> bytes:
    """A minimal BIFF8 workbook stream: one sheet of text (SST) and number cells."""
    strings: list[str] = []
    index: dict[str, int] = {}
    cells = b""
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                if value not in index:
                    index[value] = len(strings)
                    strings.append(value)
                cells += _record(0x00FD, struct.pack("<HHHI", r, c, 0, index[value]))
            else:
                cells += _record(0x0203, struct.pack("<HHHd", r, c, 0, float(value)))
    if far_cell is not None:
        cells += _record(0x0203, struct.pack("<HHHd", *far_cell, 0, 1.0))
    sst = _record(
        0x00FC,
        struct.pack("<II", len(strings), len(strings)) + b"".join(map(_xls_string, strings)),
    )
    sheet = _bof(0x0010) + cells + _record(0x000A, b"")
    name = b"Sheet1"

    def globals_part(offset: int) -> bytes:
        boundsheet = _record(0x0085, struct.pack("<IBBBB", offset, 0, 0, len(name), 0) + name)
        return (
            _bof(0x0005)
            + _record(0x0042, struct.pack("<H", 1200))
            + boundsheet
            + sst
            + _record(0x000A, b"")
        )

    first = globals_part(0)
    return globals_part(len(first)) + sheet


def _dir_entry(name: str, kind: int, start: int, size: int, child: int = NOSTREAM) -> bytes:
    encoded = (name + "\0").encode("utf-16-le") if name else b""
    return (
        encoded.ljust(64, b"\0")
        + struct.pack("<HBB", len(encoded), kind, 1)
        + struct.pack("<III", NOSTREAM, NOSTREAM, child)
        + bytes(16 + 4 + 16)
        + struct.pack("<II", start, size)
        + bytes(4)
    )


def cfb_container(stream: bytes, name: str = "Workbook") -> bytes:
    """An OLE compound file (version 3, 512-byte sectors) holding one stream."""
    stream = stream.ljust(max(4096, -(-len(stream) // 512) * 512), b"\0")
    n_stream = len(stream) // 512
    fat = [FATSECT, ENDOFCHAIN] + [3 + n for n in range(n_stream - 1)] + [ENDOFCHAIN]
    if len(fat) > 128:
        raise ValueError("one FAT sector only: keep the stream under 63 KB")
    fat_sector = struct.pack(f"<{len(fat)}I", *fat) + b"\xff" * (512 - 4 * len(fat))
    directory = (
        _dir_entry("Root Entry", 5, ENDOFCHAIN, 0, child=1)
        + _dir_entry(name, 2, 2, len(stream))
        + _dir_entry("", 0, 0, 0) * 2
    )
    header = bytearray(OLE_MAGIC + bytes(16))
    header += struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + bytes(6)
    header += struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, ENDOFCHAIN, 0, ENDOFCHAIN, 0)
    header += struct.pack("<I", 0) + b"\xff" * (4 * 108)
    return bytes(header) + fat_sector + directory + stream


def write_xls(path: Path, rows: list[list[str | float | None]], **kwargs: object) -> Path:
    path.write_bytes(cfb_container(biff8_workbook(rows, **kwargs)))
    return path


if __name__ == "__main__":
    sys.exit(main())
