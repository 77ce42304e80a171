"""``.xls``: calamine reads the whole sheet, in a child process with a memory cap
(``ReaderLimits.xls_memory_bytes``) and a time limit, which sends the rows back; a file that
makes calamine abort kills only that child."""

from __future__ import annotations

import pickle
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ingest.readers.table import (
    FileFormatError,
    FileTooComplex,
    ReaderLimits,
    Row,
    Table,
    refuse_other_sheets,
    sheet_rows,
    table_of_rows,
)

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


def xls_table(
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
    refuse_other_sheets(loaded)

    def raw_rows() -> Iterator[Row]:
        rows = unpickled()
        next(rows)
        yield from sheet_rows(rows)

    return table_of_rows(
        raw_rows, file_name=file_name, format_name="xls", limits=limits, sheet_name=sheet_name,
        sheet_names=sheet_names, cleanup=cleanup,
    )  # fmt: skip
