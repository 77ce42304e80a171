"""Reading sizes and sentences back out of generated report text."""

from __future__ import annotations

import re

# A size as the reports write it: 8mm×6mm, 8×6mm, 0.8cm×0.6cm, 12毫米, 8 x 6 mm, 8x6mm, 1.2 cm.
MEASURE = re.compile(
    r"\d+(?:\.\d+)?(?:\s*(?:mm|毫米|cm))?(?:\s*[×x]\s*\d+(?:\.\d+)?(?:\s*(?:mm|毫米|cm))?)*"
)
_UNIT_END = re.compile(r"(mm|毫米|cm)$")


def to_mm(measure: str) -> tuple[float, ...]:
    """'0.8cm×0.6cm' -> (8.0, 6.0); '9 x 7 mm' -> (9.0, 7.0)."""
    last_unit = _UNIT_END.search(measure.strip()).group(1)
    out = []
    for part in re.split(r"\s*[×x]\s*", measure.strip()):
        m = re.match(r"(\d+(?:\.\d+)?)\s*(mm|毫米|cm)?", part)
        unit = m.group(2) or last_unit
        out.append(round(float(m.group(1)) * (10 if unit == "cm" else 1), 1))
    return tuple(out)


def measurements(text: str) -> list[tuple[float, ...]]:
    return [to_mm(m) for m in MEASURE.findall(text) if _UNIT_END.search(m.strip())]


def sentences(text: str) -> list[str]:
    # "。" ends a Chinese sentence; ". " or ".\n" an English one (not the dot in "0.8 cm").
    return [s for s in re.split(r"。|\.\s|\n", text) if s.strip()]
