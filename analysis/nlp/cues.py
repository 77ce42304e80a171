"""Negation, uncertainty and laterality of a finding mention, NegEx style.

A cue qualifies a finding when both are in one sentence and the cue is in scope:
- a ``pre`` cue stands before the finding, a ``post`` cue after it;
- a Chinese cue reaches to the end of its clause (，；： and the like), an English cue up to
  ``english_pre_window`` / ``english_post_window`` words and not across ; or :;
- a terminator between them (but, however, 但, 伴 ...) ends the scope.
Of the cues in scope the nearest one on each side counts. A mention is negated if either of
those is a negation cue, and uncertain if either is an uncertainty cue and it is not negated,
so "cannot exclude pneumonia" is uncertain (the longer cue hides "exclude") and "no possible
pneumothorax" style double cues resolve to the nearest one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from analysis.nlp.lexicon import CueDef, FindingDef, Lexicon
from analysis.nlp.matcher import PhraseHit

_WORD = re.compile(r"[A-Za-z0-9]+|[\u3400-\u9fff]+")


@dataclass(frozen=True, slots=True)
class CueHit:
    """The cue that decided a mention's negation or uncertainty."""

    kind: str  # negation | uncertainty
    direction: str  # pre | post
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


def assess(
    text: str,
    finding: PhraseHit[FindingDef],
    cues: Sequence[PhraseHit[CueDef]],
    lex: Lexicon,
) -> Assertion:
    """Negation and uncertainty of one finding from the cue matches of its sentence."""
    terminators = [c for c in cues if c.payload.kind == "terminator"]
    pre: PhraseHit[CueDef] | None = None
    post: PhraseHit[CueDef] | None = None
    for cue in cues:
        d = cue.payload
        if d.kind not in ("negation", "uncertainty"):
            continue
        if d.pre and cue.end <= finding.head_start:
            in_scope = _in_scope(
                text, cue.end, finding.head_start, d, terminators, lex.english_pre_window, lex
            )
            if in_scope and (pre is None or cue.end > pre.end):
                pre = cue
        if d.post and cue.start >= finding.end:
            in_scope = _in_scope(
                text, finding.end, cue.start, d, terminators, lex.english_post_window, lex
            )
            if in_scope and (post is None or cue.start < post.start):
                post = cue
    chosen = [(c, direction) for c, direction in ((pre, "pre"), (post, "post")) if c is not None]
    negation = next(((c, d) for c, d in chosen if c.payload.kind == "negation"), None)
    uncertainty = next(((c, d) for c, d in chosen if c.payload.kind == "uncertainty"), None)
    decisive = negation or uncertainty
    cue_hit = None
    if decisive is not None:
        c, direction = decisive
        cue_hit = CueHit(c.payload.kind, direction, text[c.start : c.end], (c.start, c.end))
    return Assertion(
        negated=negation is not None,
        uncertain=negation is None and uncertainty is not None,
        cue=cue_hit,
    )


def _in_scope(
    text: str,
    a: int,
    b: int,
    cue: CueDef,
    terminators: Sequence[PhraseHit[CueDef]],
    window: int,
    lex: Lexicon,
) -> bool:
    breaks = lex.chinese_breaks if cue.chinese else lex.english_breaks
    if any(text[i] in breaks for i in range(a, b)):
        return False
    if any(a <= t.start and t.end <= b for t in terminators):
        return False
    return cue.chinese or len(_WORD.findall(text, a, b)) <= window


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
