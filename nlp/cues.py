"""Assertion of a finding mention (ConText), and its laterality.

The ConText algorithm (Chapman, Chu, Dowling 2007; NegEx's successor, as medspaCy implements it):
a cue has a kind (negation, uncertainty, historical, resolving) and a direction (forward for a
``pre`` cue, backward for a ``post`` cue, both for a phrase in both lists) and qualifies every
finding in its scope. The scope runs to the end of the sentence and ends earlier at a
terminator ("but", 但), at clause punctuation (Chinese: any of ，；：; English: ; :), and, in
English, at a comma that opens a new clause instead of continuing a list: "No pneumothorax,
effusion, consolidation, nodules or masses" is one list under its "no", "No pneumothorax, mild
cardiomegaly" is two clauses (the words that open a clause are data, ``english_clause_openers``).
A backward cue looks over its own clause only.

When several cues reach a finding, a negation beats a doubt ("no focal opacity to suggest
pneumonia" negates the pneumonia); of cues of one kind the nearest is the one shown. An
uncertainty cue that could look both ways ("is likely", 可能) looks forward when a finding
follows it in its clause ("opacity is likely atelectasis" doubts the atelectasis, not the
opacity). Two findings joined only by an alternative ("atelectasis versus consolidation",
"effusion or pleural thickening") are both uncertain unless negated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from nlp.lexicon import SCOPED_KINDS, CueDef, FindingDef, Lexicon
from nlp.matcher import PhraseHit, normalise_phrase

_WORD = re.compile(r"[A-Za-z0-9]+|[\u3400-\u9fff]+")
_LEADING_WORD = re.compile(r"[\s]*(?:(?:and|or)\s+)?([A-Za-z/']+)", re.IGNORECASE)
_COMMAS = ",，"
# What may stand around an alternative between two findings besides spaces: "a", "an", "the".
_ALT_FILLER = re.compile(r"^(?:\s|,|\b(?:a|an|the)\b)*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class CueHit:
    """The cue that decided a mention's assertion or temporality."""

    kind: str  # negation | uncertainty | historical | resolving | alternative | phrase kinds
    direction: str  # pre | post | phrase | between
    text: str
    span: tuple[int, int]

    def to_dict(self) -> dict:
        return {
            "type": self.kind,
            "direction": self.direction,
            "text": self.text,
            "span": list(self.span),
        }


@dataclass(frozen=True, slots=True)
class Assertion:
    negated: bool
    uncertain: bool
    cue: CueHit | None
    temporality: str = "current"  # current | historical | resolving
    temporal_cue: CueHit | None = None


@dataclass(frozen=True, slots=True)
class _Scoped:
    cue: PhraseHit[CueDef]
    forward_end: int | None  # the forward scope is [cue.end, forward_end)
    backward_start: int | None  # the backward scope is [backward_start, cue.start)


def assess_sentence(
    text: str,
    start: int,
    end: int,
    findings: Sequence[PhraseHit[FindingDef]],
    cues: Sequence[PhraseHit[CueDef]],
    lex: Lexicon,
) -> list[Assertion]:
    """Assertion of every finding of the sentence ``text[start:end]`` from its cues."""
    terminators = [c for c in cues if c.payload.kind == "terminator"]
    scoped = [
        _scope(text, start, end, c, cues, terminators, findings, lex)
        for c in cues
        if c.payload.kind in SCOPED_KINDS
    ]
    results = [_assess_one(text, f, scoped, lex) for f in findings]
    return _alternatives(text, findings, cues, results)


def _scope(
    text: str,
    start: int,
    end: int,
    cue: PhraseHit[CueDef],
    cues: Sequence[PhraseHit[CueDef]],
    terminators: Sequence[PhraseHit[CueDef]],
    findings: Sequence[PhraseHit[FindingDef]],
    lex: Lexicon,
) -> _Scoped:
    d = cue.payload
    breaks = lex.chinese_breaks if d.chinese else lex.english_breaks
    fwd = bwd = None
    clause_end = _next_break(text, cue.end, end, breaks | set(_COMMAS))
    pre = d.pre
    post = d.post
    if d.kind == "uncertainty" and post and any(cue.end <= f.start < clause_end for f in findings):
        # "opacity is likely atelectasis", 考虑炎症可能: the doubt is about what follows.
        pre, post = True, False
    if pre:
        fwd = _next_break(text, cue.end, end, breaks)
        if not d.chinese:
            fwd = _list_end(text, cue.end, fwd, cues, lex)
        for t in terminators:
            if t.start >= cue.end:
                fwd = min(fwd, t.start)
                break
        if not d.chinese and lex.english_max_scope:
            words = list(_WORD.finditer(text, cue.end, fwd))
            if len(words) > lex.english_max_scope:
                fwd = words[lex.english_max_scope].start()
    if post:
        clause = breaks if d.chinese else breaks | set(_COMMAS)
        bwd = start
        opens_clause = True  # a cue that opens its clause looks at the one before
        for i in range(cue.start - 1, start - 1, -1):
            if text[i] in clause:
                if opens_clause and text[i] in _COMMAS:
                    opens_clause = False
                    continue
                bwd = i + 1
                break
            if not text[i].isspace():
                opens_clause = False
        for t in terminators:
            if t.end <= cue.start:
                bwd = max(bwd, t.end)
    return _Scoped(cue, fwd, bwd)


def _next_break(text: str, a: int, b: int, breaks: frozenset[str] | set[str]) -> int:
    for i in range(a, b):
        if text[i] in breaks:
            return i
    return b


def _list_end(text: str, a: int, b: int, cues: Sequence[PhraseHit[CueDef]], lex: Lexicon) -> int:
    """End of an English forward scope at the first comma that opens a new clause."""
    for i in range(a, b):
        if text[i] not in _COMMAS:
            continue
        m = _LEADING_WORD.match(text, i + 1, b)
        if m is None:
            continue
        word = normalise_phrase(m.group(1))
        if word in lex.english_clause_openers:
            return i
        if any(c.start == m.start(1) and c.payload.kind in SCOPED_KINDS for c in cues):
            return i  # "No pneumothorax, possible small effusion"
    return b


def _assess_one(
    text: str, finding: PhraseHit[FindingDef], scoped: Sequence[_Scoped], lex: Lexicon
) -> Assertion:
    best: dict[str, tuple[int, _Scoped, str]] = {}
    for sc in scoped:
        c = sc.cue
        if sc.forward_end is not None and c.end <= finding.head_start < sc.forward_end:
            dist, direction = finding.head_start - c.end, "pre"
        elif (
            sc.backward_start is not None
            and sc.backward_start <= finding.start
            and (c.start >= finding.end)
        ):
            dist, direction = c.start - finding.end, "post"
        else:
            continue
        kind = c.payload.kind
        if kind not in best or dist < best[kind][0]:
            best[kind] = (dist, sc, direction)

    def hit(kind: str) -> CueHit | None:
        if kind not in best:
            return None
        _, sc, direction = best[kind]
        c = sc.cue
        return CueHit(kind, direction, text[c.start : c.end], (c.start, c.end))

    negation = hit("negation")
    uncertainty = None if negation else hit("uncertainty")
    historical = hit("historical")
    resolving = hit("resolving")
    # The nearer of the two temporal cues decides: "old" beats "improved" two clauses away.
    temporal = None
    if historical and resolving:
        temporal = historical if best["historical"][0] <= best["resolving"][0] else resolving
    else:
        temporal = historical or resolving
    return Assertion(
        negated=negation is not None,
        uncertain=uncertainty is not None,
        cue=negation or uncertainty,
        temporality=temporal.kind if temporal else "current",
        temporal_cue=temporal,
    )


def _alternatives(
    text: str,
    findings: Sequence[PhraseHit[FindingDef]],
    cues: Sequence[PhraseHit[CueDef]],
    results: list[Assertion],
) -> list[Assertion]:
    alts = [c for c in cues if c.payload.kind == "alternative"]
    if not alts:
        return results
    out = list(results)
    for i in range(len(findings) - 1):
        a, b = findings[i], findings[i + 1]
        between = [c for c in alts if a.end <= c.start and c.end <= b.start]
        if len(between) != 1:
            continue
        c = between[0]
        rest = text[a.end : c.start] + " " + text[c.end : b.start]
        if not _ALT_FILLER.match(rest):
            continue
        cue = CueHit("uncertainty", "between", text[c.start : c.end], (c.start, c.end))
        for j in (i, i + 1):
            r = out[j]
            if not r.negated and not r.uncertain:
                out[j] = Assertion(False, True, cue, r.temporality, r.temporal_cue)
    return out


def laterality(
    index: int,
    findings: Sequence[PhraseHit[FindingDef]],
    sides: Sequence[PhraseHit[str | None]],
    clause_bounds: Callable[[int], tuple[int, int]],
) -> str | None:
    """Side of ``findings[index]`` from the side words around it.

    Looks from the previous finding of the clause (or the clause start) to the end of the
    finding: 左肺下叶结节, "left lower lobe nodule", "bilateral pleural effusions". If there is none
    and the finding is the last of its clause, looks after it, up to the clause of the next
    finding: "effusion on the right", "effusions, left greater than right", 结节，位于左肺下叶.
    Left and right together, or a bilateral word, give ``bilateral``.
    """
    hit = findings[index]
    c_start, c_end = clause_bounds(hit.start)
    before_from = c_start
    if index > 0 and findings[index - 1].start >= c_start:
        before_from = findings[index - 1].end
    # Up to the finding's end: a gap term may hold the side itself (中线结构向右移位).
    side = _side_in(sides, before_from, hit.end)
    if side is not None:
        return side
    if index + 1 < len(findings):
        following = findings[index + 1]
        if following.start < c_end:
            return None  # not the last finding of its clause
        after_to = clause_bounds(following.start)[0]
    else:
        after_to = None  # the rest of the sentence
    return _side_in(sides, hit.end, after_to)


def _side_in(sides: Sequence[PhraseHit[str | None]], start: int, end: int | None) -> str | None:
    found = {
        s.payload
        for s in sides
        if start <= s.start and (end is None or s.start < end) and s.payload is not None
    }
    if not found:
        return None
    if len(found) == 1:
        return found.pop()
    return "bilateral"
