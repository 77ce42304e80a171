"""Find sizes in report text and normalise them to millimetres.

Handles one to three dimensions with the unit once or on every dimension, in English and
Chinese: ``3.2 cm``, ``5x4 mm``, ``5 × 4 mm``, ``1.2 x 0.8 cm``, ``12mm×9mm``, ``12毫米``,
``1.5厘米``, ``2 by 3 cm``. A number without a unit is not a size (``T2``, ``L4/5``, ``3个``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

_NUM = r"\d+(?:\.\d+)?"
# Longer spellings first so "millimeters" is not read as "m" + rest.
_UNIT = r"(?:millimet(?:er|re)s?|centimet(?:er|re)s?|mm|cm|毫米|厘米|公分)(?![A-Za-z])"
_SEP = r"(?:\s*[x×X*✕]\s*|\s+by\s+|\s*乘以?\s*)"
_DIM = rf"{_NUM}(?:\s*{_UNIT})?"
# Not glued to a preceding letter, digit or decimal point ("T2", "13.2" read from the "3").
_MEASUREMENT = re.compile(rf"(?<![A-Za-z0-9.]){_DIM}(?:{_SEP}{_DIM}){{0,2}}", re.IGNORECASE)
_PART = re.compile(rf"({_NUM})\s*({_UNIT})?", re.IGNORECASE)

_MM_PER_UNIT = {"mm": 1, "毫米": 1, "cm": 10, "厘米": 10, "公分": 10}


@dataclass(frozen=True, slots=True)
class Measurement:
    """A size as written and in millimetres."""

    text: str
    span: tuple[int, int]
    dims_mm: tuple[float, ...]

    @property
    def max_mm(self) -> float:
        return max(self.dims_mm)

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "span": list(self.span),
            "dims_mm": list(self.dims_mm),
            "max_mm": self.max_mm,
        }


def find_measurements(text: str, start: int = 0, end: int | None = None) -> list[Measurement]:
    """Sizes in ``text[start:end]``, spans in ``text``."""
    stop = len(text) if end is None else end
    found: list[Measurement] = []
    for m in _MEASUREMENT.finditer(text, start, stop):
        parts = [(p.group(1), p.group(2), p.end()) for p in _PART.finditer(m.group())]
        # Drop trailing numbers without a unit ("5 x 4 mm x 3" keeps 5 x 4 mm); a dimension
        # without its own unit takes the unit written after it ("5x4 mm" -> both mm).
        while parts and parts[-1][1] is None:
            parts.pop()
        if not parts:
            continue
        dims: list[float] = []
        unit = parts[-1][1]
        for number, own_unit, _ in reversed(parts):
            unit = own_unit or unit
            dims.append(float(Decimal(number) * _mm_factor(unit)))
        dims.reverse()
        s = m.start()
        e = s + parts[-1][2]
        found.append(Measurement(text=text[s:e], span=(s, e), dims_mm=tuple(dims)))
    return found


def parse_measurements(text: str) -> list[dict]:
    """JSON-ready sizes of a text: ``[{"text", "span", "dims_mm", "max_mm"}]``."""
    return [m.to_dict() for m in find_measurements(text)]


def _mm_factor(unit: str) -> int:
    unit = unit.lower()
    if unit.startswith("milli"):
        return 1
    if unit.startswith("centi"):
        return 10
    return _MM_PER_UNIT[unit]
