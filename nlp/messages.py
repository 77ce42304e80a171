"""Every text an analysis result shows a person, by stable code (pure: no Django).

Beside each text (the summary and its sentences, a note, a flag's message, the stability
threshold) a result stores the code and the parameters it was made from, so that it can be said
again in the reader's language at read time (``analysis.messages``). The English templates
below are the stored texts and the gettext message ids of ``analysis/locale``; ``render`` with
the default ``Speaker`` gives the English that the worker stores.

A parameter is rendered by its name: ``finding`` / ``findings`` are finding references
(``finding_ref``), ``status`` a report status, ``trend`` / ``measured`` a trend, ``interval`` an
interval name, ``start`` / ``end`` a timeline event, ``flag`` / ``threshold`` a nested message
(``{"message_code", "message_params"}``); anything else is formatted as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def gettext_noop(message: str) -> str:
    """The marker makemessages looks for (by name): the text is in the catalogue."""
    return message


def pgettext(context: str, message: str) -> str:
    """A marker too, with a context (makemessages knows no ``pgettext_noop``): the text as is."""
    return message


TEXTS: dict[str, str] = {
    # The summary of a general analysis, sentence by sentence.
    "general.source_report": gettext_noop("Report %(report_id)s (%(status)s)."),
    "general.source_exam_description": gettext_noop(
        "No report text; the exam description was read."
    ),
    "general.source_none": gettext_noop("No report text or exam description to read."),
    "general.critical": gettext_noop("CRITICAL: %(findings)s."),
    "general.positive": gettext_noop("Positive: %(findings)s."),
    "general.no_positive": gettext_noop("No positive findings."),
    "general.uncertain": gettext_noop("Uncertain: %(findings)s."),
    "general.negated": gettext_noop("Negated: %(findings)s."),
    "general.turnaround_exceeded": gettext_noop("Turnaround: %(flag)s."),
    "general.turnaround": gettext_noop("Order to certification %(hours).1f h."),
    "general.not_certified": gettext_noop("Not certified yet."),
    # The summary of a detailed analysis.
    "detailed.source_report": gettext_noop("Report %(report_id)s (%(status)s):"),
    "detailed.source_exam_description": gettext_noop("No report text; read the exam description:"),
    "detailed.source_none": gettext_noop("No report text or exam description to read:"),
    "detailed.counts": gettext_noop(
        "%(sections)s section(s), %(sentences)s sentence(s), %(mentions)s finding mention(s) "
        "(%(positive)s positive, %(uncertain)s uncertain, %(negated)s negated), "
        "%(measurements)s measurement(s)."
    ),
    "detailed.counts_quoted": gettext_noop(
        "%(sections)s section(s), %(sentences)s sentence(s), %(mentions)s finding mention(s) "
        "(%(positive)s positive, %(uncertain)s uncertain, %(negated)s negated), "
        "%(measurements)s measurement(s) (%(quoted)s quoted from a prior study)."
    ),
    # The summary of a comparison, and its notes.
    "comparison.no_prior": gettext_noop("No prior study of this patient to compare with."),
    "comparison.prior_unreadable": gettext_noop(
        "The prior study has no report text or exam description."
    ),
    "comparison.compared": gettext_noop("Compared with %(prior_exam_id)s:"),
    "comparison.compared_days": gettext_noop(
        "Compared with %(prior_exam_id)s, %(days)s day(s) earlier:"
    ),
    "comparison.new": gettext_noop("%(count)s new;"),
    "comparison.new_listed": gettext_noop("%(count)s new (%(findings)s);"),
    "comparison.resolved": gettext_noop("%(count)s resolved;"),
    "comparison.resolved_listed": gettext_noop("%(count)s resolved (%(findings)s);"),
    "comparison.persistent": gettext_noop("%(count)s persistent."),
    "comparison.stated_change": gettext_noop("%(finding)s %(trend)s (report: %(words)s)."),
    "comparison.size_change": gettext_noop(
        "%(finding)s %(prior_mm)g -> %(current_mm)g mm (%(change_mm)+g mm, %(trend)s)."
    ),
    "comparison.size_change_percent": gettext_noop(
        "%(finding)s %(prior_mm)g -> %(current_mm)g mm "
        "(%(change_mm)+g mm, %(change_percent)+g%%, %(trend)s)."
    ),
    "comparison.measurement_disagrees": gettext_noop(
        "(The report says %(words)s; the measured change is %(measured)s, %(threshold)s.)"
    ),
    "comparison.quoted_prior": gettext_noop("(The report quotes %(quoted_mm)g mm before.)"),
    "comparison.quoted_prior_differs": gettext_noop(
        "(The report quotes %(quoted_mm)g mm before, not the prior report's.)"
    ),
    "comparison.stability_threshold": gettext_noop(
        "a size change within %(stable_mm)g mm or %(stable_percent)g %% counts as stable"
    ),
    # Flags.
    "critical.flag": gettext_noop("Critical result: %(finding)s"),
    "timeline.exceeds_limit": gettext_noop(
        "%(interval)s took %(hours).1f h, over the %(limit_hours)g h limit"
    ),
    "timeline.negative_interval": gettext_noop("%(end)s is recorded before %(start)s"),
    # A failed task's error_message.
    "task.unexpected": gettext_noop(
        "The analysis failed unexpectedly (%(name)s); the details are in the worker's log."
    ),
    "task.worker_lost": gettext_noop(
        "The worker running this analysis stopped responding %(attempts)s time(s); "
        "it was not retried again."
    ),
    "task.queue_failed": gettext_noop(
        "The task queue could not run this analysis; the details are in its log."
    ),
    "task.unknown_type": gettext_noop("Unknown analysis type %(analysis_type)s"),
}

# The words a parameter stands for, each under its own context (the same English word is a
# different Chinese one as a side, a status or a trend).
WORDS: dict[str, dict[str, str]] = {
    "laterality": {
        "left": pgettext("laterality", "left"),
        "right": pgettext("laterality", "right"),
        "bilateral": pgettext("laterality", "bilateral"),
    },
    "report status": {
        "draft": pgettext("report status", "draft"),
        "submitted": pgettext("report status", "submitted"),
        "reviewed": pgettext("report status", "reviewed"),
        "finalized": pgettext("report status", "finalized"),
        "": pgettext("report status", "no status"),
    },
    "trend": {
        "new": pgettext("trend", "new"),
        "increased": pgettext("trend", "increased"),
        "decreased": pgettext("trend", "decreased"),
        "stable": pgettext("trend", "stable"),
        "persistent": pgettext("trend", "persistent"),
    },
    "interval": {
        "order_to_check_in": pgettext("interval", "order to check-in"),
        "check_in_to_certification": pgettext("interval", "check-in to certification"),
        "order_to_certification": pgettext("interval", "order to certification"),
    },
    "event": {
        "order": pgettext("event", "order"),
        "check-in": pgettext("event", "check-in"),
        "certification": pgettext("event", "certification"),
    },
}
# How a finding is named: with its side, its size, as possible; and how a list is joined.
FORMS: dict[str, str] = {
    "side": pgettext("finding", "%(name)s (%(side)s)"),
    "size": pgettext("finding", "%(name)s %(mm)g mm"),
    "possible": pgettext("finding", "possible %(name)s"),
    "list": pgettext("finding", ", "),
}

_WORD_PARAMS = {
    "status": "report status",
    "trend": "trend",
    "measured": "trend",
    "interval": "interval",
    "start": "event",
    "end": "event",
}


class Speaker:
    """Says texts in one language. This one speaks the stored English; ``analysis.messages``
    has one that translates through gettext and reads each finding's Chinese label."""

    chinese = False

    def gettext(self, message: str) -> str:
        return message

    def pgettext(self, context: str, message: str) -> str:
        return message


ENGLISH = Speaker()


def message(code: str, **params: Any) -> dict[str, Any]:
    """A message as stored: its code, its parameters and its English text."""
    return {
        "message_code": code,
        "message_params": params,
        "message": render(code, params),
    }


def render(code: str, params: Mapping[str, Any] | None = None, speaker: Speaker = ENGLISH) -> str:
    """The text of ``code`` with ``params``, in the speaker's language."""
    template = speaker.gettext(TEXTS[code])
    if not params:
        return template
    return template % {name: _param(name, value, speaker) for name, value in params.items()}


def summary_text(parts: list[Mapping[str, Any]], speaker: Speaker = ENGLISH) -> str:
    """The summary: its sentences, each rendered; Chinese puts no space between sentences."""
    joiner = "" if speaker.chinese else " "
    return joiner.join(render(p["message_code"], p.get("message_params"), speaker) for p in parts)


def finding_ref(
    item: Mapping[str, Any], *, size: bool = True, possible: bool = False, lower: bool = False
) -> dict[str, Any]:
    """What a summary needs of a finding to name it in either language."""
    ref = {
        "key": item["key"],
        "label_en": item["label_en"],
        "label_zh": item["label_zh"],
        "laterality": item.get("laterality"),
    }
    if size and item.get("max_mm") is not None:
        ref["max_mm"] = item["max_mm"]
    if possible:
        ref["possible"] = True
    if lower:
        ref["lower"] = True  # "Critical result: hemorrhage": the English label mid-sentence
    return ref


def finding_name(ref: Mapping[str, Any], speaker: Speaker = ENGLISH) -> str:
    if speaker.chinese:
        name = ref.get("label_zh") or ref.get("label_en") or ref.get("key", "")
    else:
        name = ref.get("label_en") or ref.get("key", "")
        if ref.get("lower"):
            name = name.lower()
    side = ref.get("laterality")
    if side:
        word = _word("laterality", side, speaker)
        name = speaker.pgettext("finding", FORMS["side"]) % {"name": name, "side": word}
    if ref.get("max_mm") is not None:
        name = speaker.pgettext("finding", FORMS["size"]) % {"name": name, "mm": ref["max_mm"]}
    if ref.get("possible"):
        name = speaker.pgettext("finding", FORMS["possible"]) % {"name": name}
    return name


def _word(kind: str, code: Any, speaker: Speaker) -> str:
    english = WORDS[kind].get("" if code is None else str(code))
    if english is None:
        return str(code)
    return speaker.pgettext(kind, english)


def _param(name: str, value: Any, speaker: Speaker) -> Any:
    if name == "findings":
        joiner = speaker.pgettext("finding", FORMS["list"])
        return joiner.join(finding_name(ref, speaker) for ref in value)
    if name == "finding":
        return finding_name(value, speaker)
    if name in _WORD_PARAMS:
        return _word(_WORD_PARAMS[name], value, speaker)
    if isinstance(value, Mapping) and "message_code" in value:
        return render(value["message_code"], value.get("message_params"), speaker)
    return value
