"""Uploaded files → header and rows of plain Python values.

Pure: no Django, no ORM. ``read_table`` checks a file before any parser sees it, then gives
its header row and a lazy, re-iterable stream of ``(row_number, values)``. Values stay what
the format gives (``str``, ``int``, ``float``, ``bool``, ``datetime``/``date``/``time``/
``timedelta`` from Excel); ``ingest.rows`` turns them into field values. Every problem with
the file itself is a ``ReaderError`` whose message can be shown to the person who uploaded it.

One module per format, over one shared table builder (``table``: ``Table``, the errors, the
limits). Memory, per format:

- ``csv_file``: one row at a time (plus one validation pass over the bytes for the encoding).
- ``json_file``: one list item at a time, in two passes (the first collects the keys that make
  the header), so an item may not exceed ``ReaderLimits.max_json_item_bytes``.
- ``xlsx``: the first worksheet is streamed, a piece of its XML at a time, into the values
  calamine would give (``xlsx_xml``), plus the shared strings table (in memory up to
  ``ReaderLimits.shared_strings_memory_bytes``, the rest in a temporary file, so that a
  table that expands to 2 GB costs no more memory than a small one); most of an import's
  memory is then the validator's set of keys. A form of sheet the stream does not read hands
  over to calamine (``calamine``), which parses the whole sheet into a dense Rust grid (rows ×
  columns cells, about 32 bytes each plus the text). That grid is also why ``.xlsx`` files are
  scanned before calamine loads a sheet (``xlsx_scan``): a 5 KB workbook with one cell in A1
  and one in XFD1048576 makes calamine allocate hundreds of GB and abort the whole process,
  which no ``try`` can catch. The streamed sheet is measured the same way as it is read, and
  refused with the same message.
- ``xls``: calamine reads the whole sheet. An ``.xls`` cannot be checked so cheaply (its cell
  records address up to 65,536 × 65,536 cells, and a cycle in the compound file's sector
  chains makes calamine grow a buffer without end): it is parsed in a child process with a
  memory cap (``ReaderLimits.xls_memory_bytes``) and a time limit, which sends the rows back;
  a file that makes calamine abort kills only that child.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Collection
from pathlib import Path
from typing import IO

from ingest.readers.csv_file import csv_table
from ingest.readers.json_file import json_table
from ingest.readers.table import (
    CHUNK,
    DEFAULT_LIMITS,
    EMPTY_ZIP_MAGIC,
    OLE_MAGIC,
    ZIP_MAGIC,
    CellValue,
    FileFormatError,
    FileTooComplex,
    ReaderError,
    ReaderLimits,
    Row,
    Table,
    UnsupportedFileType,
    human_list,
    read_head,
)
from ingest.readers.xls import xls_table
from ingest.readers.xlsx import xlsx_table
from ingest.readers.xlsx_scan import check_xlsx

__all__ = [
    "DEFAULT_LIMITS",
    "REPORT_EXTENSIONS",
    "STUDY_EXTENSIONS",
    "CellValue",
    "FileFormatError",
    "FileTooComplex",
    "ReaderError",
    "ReaderLimits",
    "Row",
    "Table",
    "UnsupportedFileType",
    "check_extension",
    "file_extension",
    "read_table",
]

STUDY_EXTENSIONS: tuple[str, ...] = (".xlsx", ".xls", ".csv")
REPORT_EXTENSIONS: tuple[str, ...] = (".xlsx", ".csv", ".json")


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
        allowed = human_list(allowed_extensions)
        refusal = UnsupportedFileType(f"Unsupported file type {shown}: upload {allowed}")
        refusal.params = {
            "extension": shown,
            "allowed": allowed,
            "extensions": list(allowed_extensions),
        }
        raise refusal
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
    head = read_head(source)
    if not head:
        raise FileFormatError("The file is empty")
    if extension == ".csv":
        table = csv_table(source, head, file_name, limits)
    elif extension == ".json":
        table = json_table(source, head, file_name, limits)
    else:
        table = _open_workbook(source, head, extension, file_name, limits)
    table.max_rows = max_rows
    return table


def _open_workbook(
    source: str | os.PathLike[str] | IO[bytes],
    head: bytes,
    extension: str,
    file_name: str,
    limits: ReaderLimits,
) -> Table:
    if head.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
        # Some hospital systems save .xlsx content under an .xls name; read it as what it is.
        content = ".xlsx"
    elif head.startswith(OLE_MAGIC):
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
            return xls_table(path, file_name, limits, cleanup)
        plan = check_xlsx(path, limits, plan_streaming=True)
        return xlsx_table(path, content, file_name, limits, cleanup, plan=plan)
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
            shutil.copyfileobj(source, out, CHUNK)
        source.seek(0)
    return target
