"""The three analyses of a study (general, detailed, comparison) and the choice of its prior.

Inputs are plain dicts with the Study and Report field names, so this module needs no Django:
the task worker turns model instances into dicts and stores the returned dict as the result.
Every result is JSON-ready (str, int, float, bool, None, list, dict; datetimes as
``YYYY-MM-DDTHH:MM:SS``) and every extracted item carries the report id, sentence and character
span it came from, so a person can check it against the report.

Which text is read: the study's primary report, that is the one with the most advanced status
(finalized > reviewed > submitted > draft), then the most recently created, among those with
content; drafts it supersedes are listed but not read, so that a corrected draft cannot raise a
flag. A study with no report text falls back to its ``exam_description`` and says so
(``"source": "exam_description"``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nlp.extract import Mention, TextAnalysis, analyze_text
from nlp.lexicon import Lexicon, default_lexicon
from nlp.messages import finding_ref, gettext_noop, message, render, summary_text
from nlp.timeline import compute_timeline, format_datetime, instant, parse_datetime

ENGINE_VERSION = "2.1.0"  # 2.1: every text stored with its code (nlp.messages)

# Their labels and descriptions are also said in Chinese (GET /analysis/options, analysis/locale).
ANALYSIS_TYPES: tuple[dict[str, str], ...] = (
    {
        "value": "general",
        "label": gettext_noop("General analysis"),
        "description": gettext_noop(
            "Timeline and turnaround, report status, impression, positive and "
            "negated findings, critical-result flags (affirmed, current findings only, each with "
            "the words that decided it)."
        ),
    },
    {
        "value": "detailed",
        "label": gettext_noop("Detailed analysis"),
        "description": gettext_noop(
            "Sections and sentences of the report, each finding with negation, "
            "uncertainty, laterality and sizes in millimetres (current, or quoted from a prior "
            "study)."
        ),
    },
    {
        "value": "comparison",
        "label": gettext_noop("Comparison analysis"),
        "description": gettext_noop(
            "Against the same patient's most recent prior study: new, resolved and "
            "persistent findings, each change as the report words it (new, increased, "
            "decreased, resolved, unchanged) with sizes as supporting evidence and the stability "
            "threshold stated, and the interval in days."
        ),
    },
)

# Sizes within either margin count as stable: a 1 mm change is within the caliper error of a
# small nodule, 10 % within the error of a large mass.
STABLE_MM = 1.0
STABLE_PERCENT = 10.0

_STATUS_RANK = {"finalized": 3, "reviewed": 2, "submitted": 1, "draft": 0}


# ------------------------------------------------------------------------------ public API


def analyze_general(
    study: Mapping[str, Any],
    reports: Sequence[Mapping[str, Any]],
    *,
    turnaround_limit_hours: float = 24.0,
) -> dict:
    """Timeline, report status, impression, findings by assertion and critical flags."""
    lex = default_lexicon()
    source, analysis = _read(study, reports, lex)
    timeline = compute_timeline(
        study.get("order_datetime"),
        study.get("check_in_datetime"),
        study.get("report_certification_datetime"),
        turnaround_limit_hours=turnaround_limit_hours,
    )
    groups = _group(analysis.mentions, source.report_id, by_assertion=True)
    positive = [g for g in groups if g["assertion"] == "positive"]
    uncertain = [g for g in groups if g["assertion"] == "uncertain"]
    negated = [g for g in groups if g["assertion"] == "negated"]
    # Groups are in reading order, so the flags are too.
    critical, not_flagged = _critical(analysis.mentions, groups, source.report_id)
    status = _report_status(reports, source)
    result = {
        "analysis_type": "general",
        "engine": _engine(lex),
        "exam_id": study.get("exam_id"),
        "exam_item": study.get("exam_item"),
        "equipment_type": study.get("equipment_type"),
        "exam_status": study.get("exam_status"),
        "source": source.kind,
        "report_id": source.report_id,
        "timeline": timeline,
        "report_status": status,
        "impression": _impression(analysis, source.report_id),
        "positive_findings": positive,
        "uncertain_findings": uncertain,
        "negated_findings": negated,
        "critical_flags": critical,
        "critical_not_flagged": not_flagged,
        "has_critical": bool(critical),
        "counts": {
            "positive": len(positive),
            "uncertain": len(uncertain),
            "negated": len(negated),
            "critical": len(critical),
        },
    }
    result.update(_summary("general", _general_summary(result, status)))
    return result


def analyze_detailed(study: Mapping[str, Any], reports: Sequence[Mapping[str, Any]]) -> dict:
    """Sections of the report and, per sentence, its findings and sizes."""
    lex = default_lexicon()
    source, analysis = _read(study, reports, lex)
    rid = source.report_id
    sentences = [
        {
            "index": r.sentence.index,
            "text": r.sentence.text,
            "span": list(r.sentence.span),
            "section": r.sentence.section,
            "findings": [m.to_dict(rid) for m in r.mentions],
            "measurements": [m.to_dict() for m in r.measurements],
        }
        for r in analysis.sentences
    ]
    mentions = analysis.mentions
    counts = {
        "sections": len(analysis.sections),
        "sentences": len(sentences),
        "findings": len(mentions),
        "positive": sum(m.assertion == "positive" for m in mentions),
        "uncertain": sum(m.assertion == "uncertain" for m in mentions),
        "negated": sum(m.assertion == "negated" for m in mentions),
        "measurements": sum(len(r.measurements) for r in analysis.sentences),
        "prior_measurements": sum(
            x.role == "prior" for r in analysis.sentences for x in r.measurements
        ),
    }
    return {
        "analysis_type": "detailed",
        "engine": _engine(lex),
        "exam_id": study.get("exam_id"),
        "source": source.kind,
        "report_id": rid,
        "text_length": len(source.text),
        "sections": [
            {
                "key": s.key,
                "title": s.title,
                "text": s.text,
                "span": list(s.span),
                "title_span": list(s.title_span) if s.title_span else None,
            }
            for s in analysis.sections
        ],
        "sentences": sentences,
        "counts": counts,
        **_summary("detailed", _detailed_summary(source, counts)),
    }


def analyze_comparison(
    study: Mapping[str, Any],
    reports: Sequence[Mapping[str, Any]],
    prior_study: Mapping[str, Any] | None,
    prior_reports: Sequence[Mapping[str, Any]] | None,
    *,
    stable_mm: float = STABLE_MM,
    stable_percent: float = STABLE_PERCENT,
) -> dict:
    """New, resolved and persistent findings against the prior study, and size changes.

    Findings are compared by key and side, over the findings present (positive or uncertain)
    in each primary report; a side given in one report and not the other still pairs them
    ("nodule" now, "right upper lobe nodule" before). A finding's size is its largest current
    dimension over all its mentions: a size a report quotes from an earlier study (前片约42mm,
    "increased from 13 mm") is not its size now. The change compares the prior report's own
    current size with this report's; the size this report quotes for the prior study is given
    beside it (``quoted_prior_mm``) as supporting evidence. A measured change is ``stable``
    within ``stable_mm`` or ``stable_percent`` (either), otherwise ``increased`` or
    ``decreased``.

    The report's own change words (较前增大, 吸收, "unchanged", "new") decide a finding's trend
    where it has them: a radiologist who wrote 较前增大 compared the images, and 15 -> 16 mm within
    caliper error does not overrule that. Measurements are then supporting evidence (do they
    agree?), and decide the trend only where the report says nothing.
    """
    lex = default_lexicon()
    source, analysis = _read(study, reports, lex)
    current = _present(analysis.mentions, source.report_id)
    base = {
        "analysis_type": "comparison",
        "engine": _engine(lex),
        "exam_id": study.get("exam_id"),
        "source": source.kind,
        "report_id": source.report_id,
        "current_findings": current,
    }
    if prior_study is None:
        return {
            **base,
            "has_prior": False,
            "message": render("comparison.no_prior"),
            "message_code": "comparison.no_prior",
            "prior_exam_id": None,
            "prior_order_datetime": None,
            "prior_source": None,
            "prior_report_id": None,
            "interval_days": None,
            "new_findings": [],
            "resolved_findings": [],
            "persistent_findings": [],
            "size_changes": [],
            "stability_threshold": _threshold(stable_mm, stable_percent),
            **_summary("no_prior", [message("comparison.no_prior")]),
        }

    prior_source, prior_analysis = _read(prior_study, prior_reports or [], lex)
    prior = _present(prior_analysis.mentions, prior_source.report_id)
    pairs, new, resolved = _pair(current, prior)
    negated_now = [m for m in analysis.mentions if m.negated]
    persistent = []
    size_changes = []
    for cur, old in pairs:
        measured = _size_change(cur, old, stable_mm, stable_percent)
        source_of_status = None
        if cur["change"]:
            source_of_status = "report"
        elif measured is not None:
            source_of_status = "measurements"
        persistent.append(
            {
                **cur,
                "prior": _brief(old),
                "status": _status(cur, measured),
                "status_source": source_of_status,
            }
        )
        change = measured
        if change is not None:
            size_changes.append(change)
    resolved_items = []
    for old in resolved:
        denial = next(
            (
                m
                for m in negated_now
                if m.key == old["key"]
                and (m.laterality == old["laterality"] or None in (m.laterality, old["laterality"]))
            ),
            None,
        )
        resolved_items.append(
            {
                **old,
                "current_status": "negated" if denial else "not_mentioned",
                "current_evidence": [_evidence(denial, source.report_id)] if denial else [],
            }
        )
    result = {
        **base,
        "has_prior": True,
        "message": None,
        "message_code": None,
        "prior_exam_id": prior_study.get("exam_id"),
        "prior_exam_item": prior_study.get("exam_item"),
        "prior_order_datetime": format_datetime(prior_study.get("order_datetime")),
        "prior_source": prior_source.kind,
        "prior_report_id": prior_source.report_id,
        "interval_days": _interval_days(prior_study, study),
        "new_findings": new,
        "resolved_findings": resolved_items,
        "persistent_findings": persistent,
        "size_changes": size_changes,
        "stability_threshold": _threshold(stable_mm, stable_percent),
    }
    if prior_source.kind == "none":
        result["message"] = render("comparison.prior_unreadable")
        result["message_code"] = "comparison.prior_unreadable"
    result.update(_summary("comparison", _comparison_summary(result)))
    return result


def select_prior(
    study: Mapping[str, Any], candidates: Iterable[Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    """The study to compare with: same medical_record_no, ordered earlier, most recent first,
    preferring the same exam_item, then the same equipment_type, then any other exam."""
    mrn = (study.get("medical_record_no") or "").strip()
    ordered = parse_datetime(study.get("order_datetime"))
    if not mrn or ordered is None:
        return None
    now = instant(ordered)
    best: tuple | None = None
    chosen = None
    for cand in candidates:
        if cand.get("exam_id") == study.get("exam_id"):
            continue
        if (cand.get("medical_record_no") or "").strip() != mrn:
            continue
        when = parse_datetime(cand.get("order_datetime"))
        if when is None or instant(when) >= now:
            continue
        if _same(cand, study, "exam_item"):
            tier = 0
        elif _same(cand, study, "equipment_type"):
            tier = 1
        else:
            tier = 2
        # Lower tier first, then the latest; exam_id breaks exact ties deterministically.
        rank = (-tier, instant(when), str(cand.get("exam_id") or ""))
        if best is None or rank > best:
            best, chosen = rank, cand
    return chosen


def run_analysis(
    analysis_type: str,
    study: Mapping[str, Any],
    reports: Sequence[Mapping[str, Any]],
    *,
    prior_study: Mapping[str, Any] | None = None,
    prior_reports: Sequence[Mapping[str, Any]] | None = None,
    turnaround_limit_hours: float = 24.0,
) -> dict:
    """Run one analysis by its type name (``general``, ``detailed`` or ``comparison``)."""
    if analysis_type == "general":
        return analyze_general(study, reports, turnaround_limit_hours=turnaround_limit_hours)
    if analysis_type == "detailed":
        return analyze_detailed(study, reports)
    if analysis_type == "comparison":
        return analyze_comparison(study, reports, prior_study, prior_reports)
    raise ValueError(f"unknown analysis type {analysis_type!r}")


def primary_report(reports: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The report to read: most advanced status, then latest created_at, among those with text."""
    usable = [r for r in reports if str(r.get("content") or "").strip()]
    if not usable:
        return None
    return max(
        usable,
        key=lambda r: (
            _STATUS_RANK.get(str(r.get("status") or "").strip().lower(), -1),
            _sortable(r.get("created_at")),
            str(r.get("report_id") or ""),
        ),
    )


# ------------------------------------------------------------------------------ internals


@dataclass(frozen=True, slots=True)
class _Source:
    kind: str  # report | exam_description | none
    report: Mapping[str, Any] | None
    text: str

    @property
    def report_id(self) -> str | None:
        if self.report is None:
            return None
        rid = self.report.get("report_id")
        return None if rid is None else str(rid)


def _read(
    study: Mapping[str, Any], reports: Sequence[Mapping[str, Any]], lex: Lexicon
) -> tuple[_Source, TextAnalysis]:
    report = primary_report(reports)
    if report is not None:
        source = _Source("report", report, str(report["content"]))
    elif str(study.get("exam_description") or "").strip():
        source = _Source("exam_description", None, str(study["exam_description"]))
    else:
        source = _Source("none", None, "")
    return source, analyze_text(source.text, lexicon=lex, exam=exam_name(study))


def exam_name(study: Mapping[str, Any]) -> str:
    """The words that name an examination (its item and equipment), for its body region."""
    return " ".join(str(study.get(f) or "") for f in ("exam_item", "equipment_type")).strip()


def _engine(lex: Lexicon) -> dict:
    return {"name": "nlp", "version": ENGINE_VERSION, "lexicon": lex.fingerprint}


def _evidence(m: Mention, report_id: str | None) -> dict:
    return {
        "report_id": report_id,
        "section": m.sentence.section,
        "text": m.text,
        "span": list(m.span),
        "sentence": m.sentence.text,
        "sentence_span": list(m.sentence.span),
        "assertion": m.assertion,
        "cue": m.cue.to_dict() if m.cue is not None else None,
        "temporality": m.temporality,
        "temporal_cue": m.temporal_cue.to_dict() if m.temporal_cue is not None else None,
        "change": m.change.to_dict() if m.change is not None else None,
        "measurements": [x.to_dict() for x in m.measurements],
        "prior_measurements": [x.to_dict() for x in m.prior_measurements],
        "change_measurements": [x.to_dict() for x in m.change_measurements],
    }


def _group(mentions: Iterable[Mention], report_id: str | None, *, by_assertion: bool) -> list[dict]:
    """One item per finding key and side (and assertion), mentions kept as evidence."""
    groups: dict[tuple, dict] = {}
    for m in mentions:
        gk = (m.key, m.laterality, m.assertion if by_assertion else None)
        item = groups.get(gk)
        if item is None:
            f = m.finding
            item = groups[gk] = {
                "key": f.key,
                "label_en": f.label_en,
                "label_zh": f.label_zh,
                "region": f.region,
                "critical": f.critical,
                "laterality": m.laterality,
                "assertion": m.assertion,
                "max_mm": None,
                "quoted_prior_mm": None,
                "change": None,
                "evidence": [],
            }
        if not by_assertion and m.assertion == "positive":
            item["assertion"] = "positive"  # present for sure once any mention is definite
        if m.max_mm is not None and (item["max_mm"] is None or m.max_mm > item["max_mm"]):
            item["max_mm"] = m.max_mm
        quoted = m.quoted_prior_mm
        if quoted is not None and (
            item["quoted_prior_mm"] is None or quoted > item["quoted_prior_mm"]
        ):
            item["quoted_prior_mm"] = quoted
        if m.change is not None and item["change"] is None:
            item["change"] = {
                **m.change.to_dict(),
                "sentence": m.sentence.text,
                "sentence_span": list(m.sentence.span),
                "report_id": report_id,
            }
        item["evidence"].append(_evidence(m, report_id))
    return list(groups.values())


def _present(mentions: Iterable[Mention], report_id: str | None) -> list[dict]:
    return _group((m for m in mentions if not m.negated), report_id, by_assertion=False)


def _critical(
    mentions: Sequence[Mention], groups: list[dict], report_id: str | None
) -> tuple[list[dict], list[dict]]:
    """Flags for critical findings the report affirms as current, and why the others are not.

    A critical finding is flagged when one of its mentions is positive and current, and no
    mention of it (same key, compatible side) calls it old or resolving: 脑出血吸收期 is no
    acute haemorrhage wherever else the report names the haemorrhage. A negated, doubtful,
    historical or resolving one is listed under ``critical_not_flagged`` with the cue that
    decided it, so a reader sees why no red flag was raised.
    """
    flags: list[dict] = []
    not_flagged: list[dict] = []
    done: set[tuple] = set()
    for g in groups:
        if not g["critical"] or (g["key"], g["laterality"]) in done:
            continue
        done.add((g["key"], g["laterality"]))
        mine = [
            m
            for m in mentions
            if m.key == g["key"]
            and (m.laterality == g["laterality"] or None in (m.laterality, g["laterality"]))
        ]
        ageing = next((m for m in mine if m.temporality != "current" and not m.negated), None)
        affirmed = next(
            (m for m in mine if m.assertion == "positive" and m.temporality == "current"), None
        )
        base = {
            "key": g["key"],
            "label_en": g["label_en"],
            "label_zh": g["label_zh"],
            "laterality": g["laterality"],
        }
        if affirmed is not None and ageing is None:
            flags.append(
                {
                    **base,
                    "assertion": "positive",
                    "temporality": "current",
                    **message("critical.flag", finding=finding_ref(g, size=False, lower=True)),
                    "decided_by": {
                        "reason": "affirmed",
                        "text": affirmed.text,
                        "span": list(affirmed.span),
                        "sentence": affirmed.sentence.text,
                        "cue": None,
                    },
                    "evidence": [
                        _evidence(m, report_id) for m in mine if m.assertion == "positive"
                    ],
                }
            )
            continue
        decider = ageing or next((m for m in mine if m.uncertain), None) or mine[0]
        if decider is ageing:
            reason = decider.temporality
            cue = decider.temporal_cue
        else:
            reason = decider.assertion
            cue = decider.cue
        not_flagged.append(
            {
                **base,
                "reason": reason,  # negated | uncertain | historical | resolving
                "cue": cue.to_dict() if cue is not None else None,
                "text": decider.text,
                "sentence": decider.sentence.text,
                "evidence": [_evidence(m, report_id) for m in mine],
            }
        )
    return flags, not_flagged


def _report_status(reports: Sequence[Mapping[str, Any]], source: _Source) -> dict | None:
    if not reports:
        return None
    listed = [
        {
            "report_id": None if r.get("report_id") is None else str(r.get("report_id")),
            "status": r.get("status"),
            "radiologist": r.get("radiologist"),
            "created_at": _format_any(r.get("created_at")),
            "analysed": source.report is r,
        }
        for r in reports
    ]
    primary = source.report
    return {
        "report_id": source.report_id,
        "status": primary.get("status") if primary else None,
        "radiologist": primary.get("radiologist") if primary else None,
        "report_count": len(reports),
        "reports": listed,
    }


def _impression(analysis: TextAnalysis, report_id: str | None) -> dict | None:
    for key in ("impression", "conclusion"):
        for s in analysis.sections:
            if s.key == key and s.text:
                return {
                    "text": s.text,
                    "span": list(s.span),
                    "section": key,
                    "from": "section",
                    "report_id": report_id,
                }
    if not analysis.sentences:
        return None
    last = analysis.sentences[-1].sentence
    return {
        "text": last.text,
        "span": list(last.span),
        "section": last.section,
        "from": "last_sentence",
        "report_id": report_id,
    }


def _pair(current: list[dict], prior: list[dict]) -> tuple[list[tuple[dict, dict]], list, list]:
    """Match present findings by (key, side), then by key where one side is unknown."""
    pairs: list[tuple[dict, dict]] = []
    cur_left = list(current)
    old_left = list(prior)
    for exact in (True, False):
        for cur in list(cur_left):
            for old in old_left:
                if cur["key"] != old["key"]:
                    continue
                same_side = cur["laterality"] == old["laterality"]
                one_unknown = cur["laterality"] is None or old["laterality"] is None
                if same_side if exact else one_unknown:
                    pairs.append((cur, old))
                    cur_left.remove(cur)
                    old_left.remove(old)
                    break
    pairs.sort(key=lambda p: current.index(p[0]))
    return pairs, cur_left, old_left


def _brief(item: dict) -> dict:
    return {
        "laterality": item["laterality"],
        "assertion": item["assertion"],
        "max_mm": item["max_mm"],
        "quoted_prior_mm": item["quoted_prior_mm"],
        "evidence": item["evidence"],
    }


def _threshold(stable_mm: float, stable_percent: float) -> dict:
    params = {"stable_mm": stable_mm, "stable_percent": stable_percent}
    return {
        **params,
        "text": render("comparison.stability_threshold", params),
        "text_code": "comparison.stability_threshold",
    }


# The report's change words as a trend of a finding still present.
_STATED = {
    "new": "new",
    "increased": "increased",
    "decreased": "decreased",
    "resolved": "decreased",  # still mentioned as present: largely, not wholly, resolved
    "unchanged": "stable",
}


def _status(cur: dict, measured: dict | None) -> str:
    """A persistent finding's status: the report's words first, then the measurements."""
    if cur["change"]:
        return _STATED[cur["change"]["trend"]]
    if measured is not None:
        return measured["measured_trend"]
    return "persistent"


def _size_change(cur: dict, old: dict, stable_mm: float, stable_percent: float) -> dict | None:
    before, after = old["max_mm"], cur["max_mm"]
    if before is None or after is None:
        return None
    change = round(after - before, 2)
    percent = round(change / before * 100, 1) if before > 0 else None
    measured = _trend(change, percent, stable_mm, stable_percent)
    stated = _STATED[cur["change"]["trend"]] if cur["change"] else None
    trend = stated if stated in ("increased", "decreased", "stable") else measured
    # The size this report says the lesion had before: supporting evidence, not the baseline.
    quoted = cur["quoted_prior_mm"]
    quoted_agrees = None
    if quoted is not None:
        diff = round(quoted - before, 2)
        pct = diff / before * 100 if before > 0 else None
        quoted_agrees = _trend(diff, pct, stable_mm, stable_percent) == "stable"
    return {
        "key": cur["key"],
        "label_en": cur["label_en"],
        "label_zh": cur["label_zh"],
        "laterality": cur["laterality"] or old["laterality"],
        "prior_max_mm": before,
        "current_max_mm": after,
        "change_mm": change,
        "change_percent": percent,
        "trend": trend,
        "trend_source": "report" if trend == stated else "measurements",
        "stated_change": cur["change"],
        "measured_trend": measured,
        "measurement_agrees": None if stated is None else stated == measured,
        "threshold": _threshold(stable_mm, stable_percent),
        "quoted_prior_mm": quoted,
        "quoted_prior_matches": quoted_agrees,
        "prior_evidence": [e for e in old["evidence"] if e["measurements"]],
        "current_evidence": [
            e for e in cur["evidence"] if e["measurements"] or e["prior_measurements"]
        ],
    }


def _trend(change: float, percent: float | None, stable_mm: float, stable_percent: float) -> str:
    if abs(change) <= stable_mm or (percent is not None and abs(percent) <= stable_percent):
        return "stable"
    return "increased" if change > 0 else "decreased"


def _interval_days(prior: Mapping[str, Any], study: Mapping[str, Any]) -> int | None:
    then = parse_datetime(prior.get("order_datetime"))
    now = parse_datetime(study.get("order_datetime"))
    if then is None or now is None:
        return None
    # Calendar days on the wall clock, as a radiologist counts them.
    return (now.date() - then.date()).days


def _same(a: Mapping[str, Any], b: Mapping[str, Any], field: str) -> bool:
    x = str(a.get(field) or "").strip().lower()
    return bool(x) and x == str(b.get(field) or "").strip().lower()


def _sortable(value: Any) -> str:
    try:
        dt = parse_datetime(value)
    except (TypeError, ValueError):
        return ""
    return instant(dt).isoformat() if dt is not None else ""


def _format_any(value: Any) -> str | None:
    try:
        return format_datetime(value)
    except (TypeError, ValueError):
        return None if value is None else str(value)


# ------------------------------------------------------------------------------ summaries
# A summary is stored as its sentences (code, parameters, English text: nlp.messages)
# and as their English text in ``summary``, so that it can be said again in another language.


def _summary(kind: str, parts: list[dict]) -> dict:
    return {
        "summary": summary_text(parts),
        "summary_code": f"summary.{kind}",
        "summary_parts": parts,
    }


def _detailed_summary(source: _Source, counts: Mapping[str, int]) -> list[dict]:
    if source.kind == "report":
        status = source.report.get("status") if source.report else None
        first = message("detailed.source_report", report_id=source.report_id, status=status)
    else:
        first = message(f"detailed.source_{source.kind}")
    numbers = {
        k: counts[k]
        for k in ("sections", "sentences", "positive", "uncertain", "negated", "measurements")
    }
    numbers["mentions"] = counts["findings"]
    quoted = counts["prior_measurements"]
    if quoted:
        return [first, message("detailed.counts_quoted", **numbers, quoted=quoted)]
    return [first, message("detailed.counts", **numbers)]


def _refs(items: Iterable[Mapping[str, Any]]) -> list[dict]:
    return [finding_ref(i, possible=i.get("assertion") == "uncertain") for i in items]


def _general_summary(result: Mapping[str, Any], status: Mapping[str, Any] | None) -> list[dict]:
    parts = []
    if result["source"] == "report":
        parts.append(
            message(
                "general.source_report",
                report_id=result["report_id"],
                status=(status or {}).get("status"),
            )
        )
    else:
        parts.append(message(f"general.source_{result['source']}"))
    if result["critical_flags"]:
        parts.append(message("general.critical", findings=_refs(result["critical_flags"])))
    if result["positive_findings"]:
        refs = [finding_ref(g) for g in result["positive_findings"]]
        parts.append(message("general.positive", findings=refs))
    else:
        parts.append(message("general.no_positive"))
    if result["uncertain_findings"]:
        refs = [finding_ref(g) for g in result["uncertain_findings"]]
        parts.append(message("general.uncertain", findings=refs))
    if result["negated_findings"]:
        refs = [finding_ref(g) for g in result["negated_findings"]]
        parts.append(message("general.negated", findings=refs))
    timeline = result["timeline"]
    turnaround = timeline["intervals_minutes"]["order_to_certification"]
    if timeline["exceeds_limit"]:
        worst = max(
            (f for f in timeline["flags"] if f["kind"] == "exceeds_limit"),
            key=lambda f: f["minutes"],
        )
        flag = {k: worst[k] for k in ("message_code", "message_params")}
        parts.append(message("general.turnaround_exceeded", flag=flag))
    elif turnaround is not None and turnaround >= 0:
        parts.append(message("general.turnaround", hours=turnaround / 60))
    elif not timeline["certified"]:
        parts.append(message("general.not_certified"))
    return parts


def _comparison_summary(result: Mapping[str, Any]) -> list[dict]:
    days = result["interval_days"]
    prior = result["prior_exam_id"]
    if days is not None:
        parts = [message("comparison.compared_days", prior_exam_id=prior, days=days)]
    else:
        parts = [message("comparison.compared", prior_exam_id=prior)]
    for label, key in (("new", "new_findings"), ("resolved", "resolved_findings")):
        items = result[key]
        if items:
            refs = [finding_ref(i) for i in items]
            parts.append(message(f"comparison.{label}_listed", count=len(items), findings=refs))
        else:
            parts.append(message(f"comparison.{label}", count=0))
    parts.append(message("comparison.persistent", count=len(result["persistent_findings"])))
    for p in result["persistent_findings"]:
        if p["change"] and not any(c["key"] == p["key"] for c in result["size_changes"]):
            parts.append(
                message(
                    "comparison.stated_change",
                    finding=finding_ref(p, size=False),
                    trend=p["status"],
                    words=p["change"]["text"],
                )
            )
    for c in result["size_changes"]:
        numbers = {
            "finding": finding_ref(c, size=False),
            "prior_mm": c["prior_max_mm"],
            "current_mm": c["current_max_mm"],
            "change_mm": c["change_mm"],
            "trend": c["trend"],
        }
        if c["change_percent"] is not None:
            numbers["change_percent"] = c["change_percent"]
            parts.append(message("comparison.size_change_percent", **numbers))
        else:
            parts.append(message("comparison.size_change", **numbers))
        if c["trend_source"] == "report" and not c["measurement_agrees"]:
            threshold = {
                "message_code": c["threshold"]["text_code"],
                "message_params": {k: c["threshold"][k] for k in ("stable_mm", "stable_percent")},
            }
            parts.append(
                message(
                    "comparison.measurement_disagrees",
                    words=c["stated_change"]["text"],
                    measured=c["measured_trend"],
                    threshold=threshold,
                )
            )
        if c["quoted_prior_mm"] is not None:
            code = "quoted_prior" if c["quoted_prior_matches"] else "quoted_prior_differs"
            parts.append(message(f"comparison.{code}", quoted_mm=c["quoted_prior_mm"]))
    return parts
