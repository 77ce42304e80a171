"""JSON: a list of objects, one item at a time, in two passes (the first collects the keys
that make the header), so an item may not exceed ``ReaderLimits.max_json_item_bytes``."""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

from ingest.readers.table import (
    CHUNK,
    FileFormatError,
    FileTooComplex,
    Table,
    binary,
    is_blank,
    looks_like,
    size_text,
)

if TYPE_CHECKING:
    from ingest.readers.table import ReaderLimits, Row, Source


def json_table(source: Source, head: bytes, file_name: str, limits: ReaderLimits) -> Table:
    kind = looks_like(head)
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
            if all(is_blank(v) for v in values):
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
        chunk = self._fh.read(CHUNK)
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


def _json_items(source: Source, limits: ReaderLimits) -> Iterator[tuple[int, dict[str, Any]]]:
    decoder = json.JSONDecoder()
    with binary(source) as fh:
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
                            f"{size_text(limits.max_json_item_bytes)}"
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
