"""Findings of a report, sentence by sentence, with their context and sizes.

A finding's sizes are split by role: ``measurements`` are its current size, ``prior_measurements``
the sizes the report quotes from an earlier study (前片约42mm, "increased from 13 mm"), and
``change_measurements`` interval changes ("increased by 3 mm"). ``max_mm`` is the largest
current dimension only, so a follow-up report that quotes a larger earlier size still gives the
lesion's size now.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from analysis.nlp.cues import Assertion, CueHit, assess, laterality
from analysis.nlp.lexicon import FindingDef, Lexicon, default_lexicon
from analysis.nlp.matcher import PhraseHit
from analysis.nlp.measurements import (
    CHANGE,
    CURRENT,
    PRIOR,
    Measurement,
    classify_measurements,
    find_measurements,
)
from analysis.nlp.text import Section, Sentence, split_report

# Clause punctuation inside a sentence: the unit for side words and sizes, in both languages
# ("nodule in the left lung, effusion on the right"; 左肺下叶见一结节，大小约12mm×9mm).
_CLAUSE_BREAK = re.compile(r"[,，;；:：]")


@dataclass(frozen=True, slots=True)
class Mention:
    """One occurrence of a lexicon finding in a sentence."""

    finding: FindingDef
    text: str
    span: tuple[int, int]
    sentence: Sentence
    negated: bool
    uncertain: bool
    cue: CueHit | None
    laterality: str | None
    measurements: tuple[Measurement, ...]  # current sizes
    prior_measurements: tuple[Measurement, ...] = ()  # sizes quoted from an earlier study
    change_measurements: tuple[Measurement, ...] = ()  # interval changes ("by 3 mm")

    @property
    def key(self) -> str:
        return self.finding.key

    @property
    def assertion(self) -> str:
        if self.negated:
            return "negated"
        return "uncertain" if self.uncertain else "positive"

    @property
    def max_mm(self) -> float | None:
        """Largest current dimension; quoted prior sizes and changes do not count."""
        return max((m.max_mm for m in self.measurements), default=None)

    @property
    def quoted_prior_mm(self) -> float | None:
        """Largest dimension of the sizes this report quotes from an earlier study."""
        return max((m.max_mm for m in self.prior_measurements), default=None)

    def to_dict(self, report_id: str | None = None) -> dict:
        f = self.finding
        return {
            "key": f.key,
            "label_en": f.label_en,
            "label_zh": f.label_zh,
            "region": f.region,
            "critical": f.critical,
            "text": self.text,
            "span": list(self.span),
            "assertion": self.assertion,
            "negated": self.negated,
            "uncertain": self.uncertain,
            "cue": self.cue.to_dict() if self.cue is not None else None,
            "laterality": self.laterality,
            "measurements": [m.to_dict() for m in self.measurements],
            "max_mm": self.max_mm,
            "prior_measurements": [m.to_dict() for m in self.prior_measurements],
            "quoted_prior_mm": self.quoted_prior_mm,
            "change_measurements": [m.to_dict() for m in self.change_measurements],
            "section": self.sentence.section,
            "sentence": self.sentence.text,
            "sentence_span": list(self.sentence.span),
            "report_id": report_id,
        }


@dataclass(frozen=True, slots=True)
class SentenceResult:
    sentence: Sentence
    mentions: tuple[Mention, ...]
    measurements: tuple[Measurement, ...]  # every size of the sentence, attached or not


@dataclass(frozen=True)
class TextAnalysis:
    """A report split and read: sections, sentences and their findings."""

    text: str
    sections: list[Section]
    sentences: list[SentenceResult]
    mentions: list[Mention] = field(default_factory=list)


def analyze_text(
    text: str, *, lexicon: Lexicon | None = None, exam: str | None = None
) -> TextAnalysis:
    """Split ``text`` into sections and sentences and extract the findings of each sentence."""
    lex = lexicon or default_lexicon()
    sections, sentences = split_report(text, lexicon=lex)
    results = [_read_sentence(text, s, lex) for s in sentences]
    mentions = [m for r in results for m in r.mentions]
    return TextAnalysis(text=text, sections=sections, sentences=results, mentions=mentions)


def extract_findings(text: str, *, lexicon: Lexicon | None = None) -> list[dict]:
    """JSON-ready finding mentions of a report text, in reading order."""
    return [m.to_dict() for m in analyze_text(text, lexicon=lexicon).mentions]


def _read_sentence(text: str, sentence: Sentence, lex: Lexicon) -> SentenceResult:
    s, e = sentence.span
    hits = lex.finding_matcher.find(text, s, e)
    sizes = classify_measurements(text, find_measurements(text, s, e), s, e, lexicon=lex)
    if not hits:
        return SentenceResult(sentence, (), tuple(sizes))
    # A cue inside a finding's own words is part of the term, not a cue (不 in 肺不张 is not
    # a negation; a gap term such as 胸腔*积液 keeps the 未见 in its gap as a cue).
    cues = [
        c
        for c in lex.cue_matcher.find(text, s, e)
        if not any(a < c.end and c.start < b for h in hits for a, b in h.pieces)
    ]
    sides = lex.laterality_matcher.find(text, s, e)
    breaks = [m.start() for m in _CLAUSE_BREAK.finditer(text, s, e)]

    def clause_of(pos: int) -> int:
        return bisect.bisect_right(breaks, pos)

    def clause_bounds(pos: int) -> tuple[int, int]:
        k = clause_of(pos)
        return (breaks[k - 1] + 1 if k > 0 else s, breaks[k] if k < len(breaks) else e)

    attached = _attach_sizes(hits, sizes, clause_of)
    mentions = []
    for i, hit in enumerate(hits):
        found: Assertion = assess(text, hit, cues, lex)
        own = attached[i]
        mentions.append(
            Mention(
                finding=hit.payload,
                text=text[hit.start : hit.end],
                span=(hit.start, hit.end),
                sentence=sentence,
                negated=found.negated,
                uncertain=found.uncertain,
                cue=found.cue,
                laterality=laterality(i, hits, sides, clause_bounds),
                measurements=tuple(m for m in own if m.role == CURRENT),
                prior_measurements=tuple(m for m in own if m.role == PRIOR),
                change_measurements=tuple(m for m in own if m.role == CHANGE),
            )
        )
    return SentenceResult(sentence, tuple(mentions), tuple(sizes))


def _attach_sizes(
    hits: list[PhraseHit[FindingDef]], sizes: list[Measurement], clause_of
) -> list[list[Measurement]]:
    """Give each size to one finding of its sentence.

    The nearest finding of the same clause ("8 mm nodule", "a 3 cm mass"); failing that, the
    last finding before it ("..., measuring 8 mm"; 左肺下叶见一结节，大小约12mm×9mm); failing
    that, the first after it.
    """
    attached: list[list[Measurement]] = [[] for _ in hits]
    for size in sizes:
        clause = clause_of(size.span[0])
        same = [i for i, h in enumerate(hits) if clause_of(h.start) == clause]
        if same:
            target = min(
                same, key=lambda i: (_distance(hits[i], size), hits[i].start > size.span[0])
            )
        else:
            before = [i for i, h in enumerate(hits) if h.end <= size.span[0]]
            target = before[-1] if before else 0
        attached[target].append(size)
    return attached


def _distance(hit: PhraseHit, size: Measurement) -> int:
    if hit.end <= size.span[0]:
        return size.span[0] - hit.end
    if size.span[1] <= hit.start:
        return hit.start - size.span[1]
    return 0
