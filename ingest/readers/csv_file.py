"""CSV: UTF-8 (with or without BOM), UTF-16 with BOM or GB18030; one row at a time (plus one
validation pass over the bytes to settle the encoding)."""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ingest.readers.table import CHUNK, FileFormatError, binary, is_blank, looks_like, table_of_rows

if TYPE_CHECKING:
    from ingest.readers.table import ReaderLimits, Row, Source, Table


def csv_table(source: Source, head: bytes, file_name: str, limits: ReaderLimits) -> Table:
    kind = looks_like(head)
    if kind:
        raise FileFormatError(f"The file is not a valid .csv file (it looks like {kind})")
    encoding = _csv_encoding(source, head)
    delimiter = _csv_delimiter(source, encoding)

    def raw_rows() -> Iterator[Row]:
        with binary(source) as fh:
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
                    if all(is_blank(v) for v in values):
                        continue
                    yield row_number, values
            except UnicodeDecodeError as exc:
                raise FileFormatError(
                    f"The CSV file is not valid {_ENCODING_NAMES[encoding]} text"
                ) from exc
            finally:
                # Leave a caller's file object open: the wrapper would close it.
                text.detach()

    return table_of_rows(raw_rows, file_name=file_name, format_name="csv", limits=limits)


_ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "utf-16": "UTF-16", "gb18030": "GB18030"}


def _csv_encoding(source: Source, head: bytes) -> str:
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


def _first_decode_error(source: Source, encoding: str) -> tuple[int, int] | None:
    """None if the whole file decodes; else (line number, extra UTF-8 bytes before the error)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    lines = 1
    multibyte = 0
    with binary(source) as fh:
        while True:
            chunk = fh.read(CHUNK)
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


def _csv_delimiter(source: Source, encoding: str) -> str:
    """Comma unless the first line clearly uses tabs or semicolons (European Excel)."""
    with binary(source) as fh:
        text = io.TextIOWrapper(fh, encoding=encoding, newline="")
        try:
            first_line = text.readline(64 * 1024)
        finally:
            text.detach()
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","
