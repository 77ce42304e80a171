"""Find sizes in report text, normalise them to millimetres and tell current from quoted.

Handles one to three dimensions with the unit once or on every dimension, in English and
Chinese: ``3.2 cm``, ``5x4 mm``, ``5 × 4 mm``, ``1.2 x 0.8 cm``, ``12mm×9mm``, ``12毫米``,
``1.5厘米``, ``2 by 3 cm``. A number without a unit is not a size (``T2``, ``L4/5``, ``3个``).

Each size has a role (:func:`classify_measurements`, cue phrases in ``data/cues.toml``
``[sizes]``): ``current`` (the lesion now, the default), ``prior`` (a size quoted from an earlier
study: 前片约42mm, "increased from 1.3 x 1.0 cm", "(previously 6 mm)") or ``change`` (an interval
change: "increased by 3 mm").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal

from nlp.lexicon import Lexicon, SizeCueDef, default_lexicon
from nlp.matcher import PhraseHit

_NUM = r"\d+(?:\.\d+)?"
# Longer spellings first so "millimeters" is not read as "m" + rest.
_UNIT = r"(?:millimet(?:er|re)s?|centimet(?:er|re)s?|mm|cm|毫米|厘米|公分)(?![A-Za-z])"
_SEP = r"(?:\s*[x×X*✕]\s*|\s+by\s+|\s*乘以?\s*)"
_DIM = rf"{_NUM}(?:\s*{_UNIT})?"
# Not glued to a preceding letter, digit or decimal point ("T2", "13.2" read from the "3").
_MEASUREMENT = re.compile(rf"(?<![A-Za-z0-9.]){_DIM}(?:{_SEP}{_DIM}){{0,2}}", re.IGNORECASE)
_PART = re.compile(rf"({_NUM})\s*({_UNIT})?", re.IGNORECASE)

_MM_PER_UNIT = {"mm": 1, "毫米": 1, "cm": 10, "厘米": 10, "公分": 10}
# A cue further from its size than this is not looked at (the gap is filler words only anyway).
_MAX_GAP = 40

CURRENT = "current"
PRIOR = "prior"
CHANGE = "change"


@dataclass(frozen=True, slots=True)
class SizeCue:
    """The cue phrase that gave a size its role."""

    role: str
    direction: str  # pre | post
    text: str
    span: tuple[int, int]

    def to_dict(self) -> dict:
        return {
            "role": self.role,
            "direction": self.direction,
            "text": self.text,
            "span": list(self.span),
        }


@dataclass(frozen=True, slots=True)
class Measurement:
    """A size as written, in millimetres, and its role: current, prior (quoted) or change."""

    text: str
    span: tuple[int, int]
    dims_mm: tuple[float, ...]
    role: str = CURRENT
    cue: SizeCue | None = None

    @property
    def max_mm(self) -> float:
        return max(self.dims_mm)

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "span": list(self.span),
            "dims_mm": list(self.dims_mm),
            "max_mm": self.max_mm,
            "role": self.role,
            "cue": self.cue.to_dict() if self.cue is not None else None,
        }


def find_measurements(text: str, start: int = 0, end: int | None = None) -> list[Measurement]:
    """Sizes in ``text[start:end]``, spans in ``text``, all with the default role ``current``."""
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


def classify_measurements(
    text: str,
    sizes: list[Measurement],
    start: int = 0,
    end: int | None = None,
    *,
    lexicon: Lexicon | None = None,
) -> list[Measurement]:
    """``sizes`` (found in ``text[start:end]``) with their roles from the size cues around them.

    A size takes the role of a ``pre`` cue right before it, else of a ``post`` cue right after
    it, with only filler words between (``[sizes]`` in cues.toml); otherwise it is current. A
    cue right before a size is that size's cue only, never also the post cue of the size
    before it. A ``change`` is one length: a size of several dimensions stays current.
    """
    if not sizes:
        return sizes
    lex = lexicon or default_lexicon()
    cues = lex.size_cue_matcher.find(text, start, end)
    if not cues:
        return sizes
    filler = lex.size_filler
    result: list[Measurement] = []
    used_as_pre: set[int] = set()  # cue indexes bound to the size after them
    pre_of: list[PhraseHit[SizeCueDef] | None] = []
    k = 0
    for size in sizes:
        # The nearest cue that ends before the size.
        while k < len(cues) and cues[k].end <= size.span[0]:
            k += 1
        cue = cues[k - 1] if k > 0 else None
        # (A size between them would break the link: digits are no filler.)
        if cue is not None and cue.payload.pre and _linked(text, cue.end, size.span[0], filler):
            used_as_pre.add(k - 1)
            pre_of.append(cue)
        else:
            pre_of.append(None)
    j = 0
    for size, pre in zip(sizes, pre_of, strict=True):
        chosen, direction = pre, "pre"
        if chosen is None:
            while j < len(cues) and cues[j].start < size.span[1]:
                j += 1
            if j < len(cues) and j not in used_as_pre:
                post = cues[j]
                if post.payload.post and _linked(text, size.span[1], post.start, filler):
                    chosen, direction = post, "post"
        if chosen is None:
            result.append(size)
            continue
        role = chosen.payload.role
        if role == CHANGE and len(size.dims_mm) > 1:
            result.append(size)
            continue
        cue = SizeCue(role, direction, text[chosen.start : chosen.end], (chosen.start, chosen.end))
        result.append(replace(size, role=role, cue=cue))
    return result


def parse_measurements(text: str, *, lexicon: Lexicon | None = None) -> list[dict]:
    """JSON-ready sizes of a text with their roles.

    ``[{"text", "span", "dims_mm", "max_mm", "role", "cue"}]``; ``cue`` is the phrase that set
    the role (``{"role", "direction", "text", "span"}``) or None for a plain current size.
    """
    return [
        m.to_dict() for m in classify_measurements(text, find_measurements(text), lexicon=lexicon)
    ]


def _linked(text: str, a: int, b: int, filler: re.Pattern[str]) -> bool:
    """True when ``text[a:b]`` holds nothing but spaces, colons and filler words."""
    return b - a <= _MAX_GAP and filler.fullmatch(text, a, b) is not None


def _mm_factor(unit: str) -> int:
    unit = unit.lower()
    if unit.startswith("milli"):
        return 1
    if unit.startswith("centi"):
        return 10
    return _MM_PER_UNIT[unit]
