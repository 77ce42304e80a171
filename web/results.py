"""An analysis result (the JSON the worker stored) turned into rows a radiologist can check.

Pure presentation: no queries. Every finding row keeps the sentence it came from, with the
finding (and any size) highlighted at the character span the analysis recorded, so the reader
sees exactly which words produced it.
"""

import json
from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from analysis.messages import localize_result

ASSERTION_ORDER = {"positive": 0, "uncertain": 1, "negated": 2}


def finding_name(item: Mapping[str, Any]) -> str:
    """The finding's label in the active language."""
    if (get_language() or "").startswith("zh"):
        return item.get("label_zh") or item.get("label_en") or item.get("key", "")
    return item.get("label_en") or item.get("key", "")


def mark_spans(
    text: str, offset: int, spans: Iterable[tuple[list[int] | tuple, str]]
) -> SafeString:
    """``text`` escaped, with each ``(span, css_class)`` wrapped in ``<mark>``.

    Spans are positions in the whole report and ``offset`` is where ``text`` starts there.
    Spans outside the text or overlapping an earlier one are ignored, so a bad span can never
    break the page. Escaping happens piece by piece, after the positions are taken.
    """
    marks = []
    for span, css in spans:
        if not span or len(span) != 2:
            continue
        start, end = span[0] - offset, span[1] - offset
        if 0 <= start < end <= len(text):
            marks.append((start, end, css))
    marks.sort()
    out: list[str] = []
    position = 0
    for start, end, css in marks:
        if start < position:
            continue
        out.append(escape(text[position:start]))
        out.append(f'<mark class="{css}">{escape(text[start:end])}</mark>')
        position = end
    out.append(escape(text[position:]))
    return mark_safe("".join(out))  # every piece of text above is escaped


def evidence_html(evidence: Mapping[str, Any]) -> SafeString:
    """The evidence's sentence with the finding and its sizes highlighted."""
    sentence = evidence.get("sentence") or ""
    sentence_span = evidence.get("sentence_span") or [0, len(sentence)]
    spans: list[tuple[Any, str]] = [(evidence.get("span"), "finding")]
    for key, css in (
        ("measurements", "size"),
        ("prior_measurements", "size prior"),
        ("change_measurements", "size"),
    ):
        spans.extend((m.get("span"), css) for m in evidence.get(key) or [])
    cue = evidence.get("cue")
    if cue:
        spans.append((cue.get("span"), "cue"))
    return mark_spans(sentence, sentence_span[0], spans)


def _evidence_rows(evidence: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "html": evidence_html(e),
            "section": e.get("section"),
            "report_id": e.get("report_id"),
            "assertion": e.get("assertion"),
            "cue": (e.get("cue") or {}).get("text"),
        }
        for e in evidence
    ]


def finding_row(item: Mapping[str, Any]) -> dict[str, Any]:
    """One finding (a group of mentions, or one mention) as a table row."""
    evidence = item.get("evidence")
    if evidence is None:  # a single mention (detailed analysis) is its own evidence
        evidence = [item]
    return {
        "key": item.get("key"),
        "name": finding_name(item),
        "critical": bool(item.get("critical")),
        "assertion": item.get("assertion"),
        "laterality": item.get("laterality"),
        "size_mm": item.get("max_mm"),
        "quoted_prior_mm": item.get("quoted_prior_mm"),
        "evidence": _evidence_rows(evidence),
    }


def _by_assertion(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: ASSERTION_ORDER.get(r["assertion"], 9))


def _affirmed_current(mentions: list[Mapping[str, Any]]) -> bool:
    """The rule of the general analysis's flags (nlp): a critical finding is flagged
    when one mention affirms it as current and none calls it old or resolving. Results stored
    before temporality existed count as current."""
    if any(
        m.get("temporality", "current") != "current" and m.get("assertion") != "negated"
        for m in mentions
    ):
        return False
    return any(
        m.get("assertion") == "positive" and m.get("temporality", "current") == "current"
        for m in mentions
    )


def critical_rows(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Critical findings the report affirms as current, for the banner on top: the general
    analysis's flags, and by the same rule those of the detailed and comparison analyses (a
    negated, doubtful, old or resolving haemorrhage raises no banner in any of them)."""
    kind = result.get("analysis_type")
    if kind == "general":
        items = result.get("critical_flags") or []
    elif kind == "detailed":
        mentions = [
            f
            for s in result.get("sentences") or []
            for f in s.get("findings") or []
            if f.get("critical")
        ]
        groups: dict[tuple, list] = {}
        for m in mentions:
            groups.setdefault((m.get("key"), m.get("laterality")), []).append(m)
        items = [
            next(m for m in group if m.get("assertion") == "positive")
            for group in groups.values()
            if _affirmed_current(group)
        ]
    else:
        items = [
            f
            for f in result.get("current_findings") or []
            if f.get("critical") and _affirmed_current(f.get("evidence") or [f])
        ]
    rows = [finding_row(i) for i in items]
    # One line per finding and side: the detailed analysis lists every mention.
    seen: set[tuple] = set()
    unique = []
    for row in rows:
        key = (row["key"], row["laterality"], row["assertion"])
        if key not in seen:
            seen.add(key)
            unique.append(row)
    return unique


def general_view(result: Mapping[str, Any]) -> dict[str, Any]:
    findings = [
        finding_row(g)
        for key in ("positive_findings", "uncertain_findings", "negated_findings")
        for g in result.get(key) or []
    ]
    impression = result.get("impression")
    return {
        "findings": _by_assertion(findings),
        "timeline": result.get("timeline") or {},
        "report_status": result.get("report_status"),
        "impression": impression,
        "counts": result.get("counts") or {},
    }


def detailed_view(result: Mapping[str, Any]) -> dict[str, Any]:
    rows = []
    for sentence in result.get("sentences") or []:
        for mention in sentence.get("findings") or []:
            row = finding_row(mention)
            row["sentence_index"] = sentence.get("index")
            row["section"] = sentence.get("section")
            rows.append(row)
    sentences_with_sizes = [
        {
            "index": s.get("index"),
            "section": s.get("section"),
            "html": mark_spans(
                s.get("text") or "",
                (s.get("span") or [0])[0],
                [(m.get("span"), "size") for m in s.get("measurements") or []],
            ),
            "sizes": [
                {"text": m.get("text"), "max_mm": m.get("max_mm"), "role": m.get("role")}
                for m in s.get("measurements") or []
            ],
        }
        for s in result.get("sentences") or []
        if s.get("measurements")
    ]
    return {
        "findings": rows,
        "sections": result.get("sections") or [],
        "measurements": sentences_with_sizes,
        "counts": result.get("counts") or {},
    }


def comparison_view(result: Mapping[str, Any]) -> dict[str, Any]:
    """The side-by-side table: one row per finding, prior on the left, current on the right."""
    sizes = {(c.get("key"), c.get("laterality")): c for c in result.get("size_changes") or []}
    rows = []
    for item in result.get("new_findings") or []:
        rows.append(
            {
                "change": "new",
                "name": finding_name(item),
                "laterality": item.get("laterality"),
                "critical": bool(item.get("critical")),
                "prior": None,
                "current": finding_row(item),
                "size": None,
            }
        )
    for item in result.get("persistent_findings") or []:
        prior = item.get("prior") or {}
        side = item.get("laterality") or prior.get("laterality")
        rows.append(
            {
                "change": "persistent",
                "name": finding_name(item),
                "laterality": side,
                "critical": bool(item.get("critical")),
                "prior": finding_row({**item, **prior, "evidence": prior.get("evidence") or []}),
                "current": finding_row(item),
                "size": sizes.get((item.get("key"), side)),
            }
        )
    for item in result.get("resolved_findings") or []:
        rows.append(
            {
                "change": "resolved",
                "name": finding_name(item),
                "laterality": item.get("laterality"),
                "critical": bool(item.get("critical")),
                "prior": finding_row(item),
                "current": None,
                "current_status": item.get("current_status"),
                "current_evidence": _evidence_rows(item.get("current_evidence") or []),
                "size": None,
            }
        )
    size_rows = [{**c, "name": finding_name(c)} for c in result.get("size_changes") or []]
    return {"rows": rows, "size_changes": size_rows}


def result_view(stored: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Everything a result page shows, by analysis type, its texts in the page's language
    (a result stored without codes shows its stored English)."""
    if not stored:
        return None
    result = localize_result(stored, get_language()) or {}
    kind = result.get("analysis_type")
    builders = {"general": general_view, "detailed": detailed_view, "comparison": comparison_view}
    body = builders.get(kind, lambda r: {})(result)
    return {
        "kind": kind,
        "summary": result.get("summary"),
        "summary_code": result.get("summary_code"),
        "critical": critical_rows(result),
        "not_flagged": [
            {**f, "name": finding_name(f)} for f in result.get("critical_not_flagged") or []
        ],
        "result": result,
        "json": json.dumps(stored, ensure_ascii=False, indent=2),
        **body,
    }
