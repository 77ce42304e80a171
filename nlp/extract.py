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

from nlp.cues import Assertion, CueHit, assess_sentence, laterality
from nlp.lexicon import FindingDef, Lexicon, default_lexicon
from nlp.matcher import PhraseHit
from nlp.measurements import (
    CHANGE,
    CURRENT,
    PRIOR,
    Measurement,
    classify_measurements,
    find_measurements,
)
from nlp.text import Section, Sentence, split_report

# Clause punctuation inside a sentence: the unit for side words and sizes, in both languages
# ("nodule in the left lung, effusion on the right"; 左肺下叶见一结节，大小约12mm×9mm).
_CLAUSE_BREAK = re.compile(r"[,，;；:：]")


@dataclass(frozen=True, slots=True)
class ChangeWord:
    """A change word of the report (较前增大, "unchanged") and the trend it states."""

    trend: str  # new | increased | decreased | resolved | unchanged
    text: str
    span: tuple[int, int]

    def to_dict(self) -> dict:
        return {"trend": self.trend, "text": self.text, "span": list(self.span)}


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
    temporality: str = "current"  # current | historical | resolving
    temporal_cue: CueHit | None = None
    change: ChangeWord | None = None  # what the report says about it against an earlier study

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
            "temporality": self.temporality,
            "temporal_cue": self.temporal_cue.to_dict() if self.temporal_cue else None,
            "change": self.change.to_dict() if self.change is not None else None,
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
    """Split ``text`` into sections and sentences and extract the findings of each sentence.

    ``exam`` is the examination's name (exam item, equipment type): it gives the region that
    region-bound findings need (片状高密度影 is a lung opacity in a chest CT, not in a head CT).
    """
    lex = lexicon or default_lexicon()
    sections, sentences = split_report(text, lexicon=lex)
    regions = exam_regions(exam, lex)
    results = [_read_sentence(text, s, lex, regions) for s in sentences]
    mentions = [m for r in results for m in r.mentions]
    return TextAnalysis(text=text, sections=sections, sentences=results, mentions=mentions)


def extract_findings(
    text: str, *, lexicon: Lexicon | None = None, exam: str | None = None
) -> list[dict]:
    """JSON-ready finding mentions of a report text, in reading order."""
    return [m.to_dict() for m in analyze_text(text, lexicon=lexicon, exam=exam).mentions]


def exam_regions(exam: str | None, lex: Lexicon | None = None) -> frozenset[str]:
    """Regions named by an examination's name; empty when it names none (then all count)."""
    if not exam:
        return frozenset()
    lex = lex or default_lexicon()
    return frozenset(h.payload for h in lex.exam_region_matcher.find(exam))


def _region_filter(
    text: str, s: int, e: int, hits: list[PhraseHit[FindingDef]], lex: Lexicon, regions
) -> list[PhraseHit[FindingDef]]:
    if not regions or not any(h.payload.region_bound for h in hits):
        return hits
    named = {h.payload for h in lex.sentence_region_matcher.find(text, s, e)}
    kept = []
    for h in hits:
        f = h.payload
        if not f.region_bound or f.region in regions or f.region in named:
            kept.append(h)
        elif f.elsewhere is not None:
            other = lex.findings[f.elsewhere]
            kept.append(PhraseHit(h.start, h.end, other, h.phrase, h.pieces))
    return kept


def _read_sentence(
    text: str, sentence: Sentence, lex: Lexicon, regions: frozenset[str] = frozenset()
) -> SentenceResult:
    s, e = sentence.span
    hits = lex.finding_matcher.find(text, s, e)
    phrases = lex.intrinsic_matcher.find(text, s, e)
    sizes = classify_measurements(text, find_measurements(text, s, e), s, e, lexicon=lex)
    if not hits and not phrases:
        return SentenceResult(sentence, (), tuple(sizes))
    # A phrase that asserts a finding by itself (心影不大) wins over the terms inside it.
    hits = [h for h in hits if not any(p.start < h.end and h.start < p.end for p in phrases)]
    hits = _region_filter(text, s, e, hits, lex, regions)
    intrinsic: dict[int, tuple[str, str]] = {}  # id(hit) -> (assertion, phrase kind)
    for p in phrases:
        for finding, assertion in p.payload.findings:
            hit = PhraseHit(p.start, p.end, finding, p.phrase, p.pieces)
            intrinsic[id(hit)] = (assertion, p.payload.phrase)
            hits.append(hit)
    hits.sort(key=lambda h: h.start)
    if not hits:
        return SentenceResult(sentence, (), tuple(sizes))
    # A cue inside a finding's own words is part of the term, not a cue (不 in 肺不张 is not
    # a negation; a gap term such as 胸腔*积液 keeps the 未见 in its gap as a cue).
    cues = []
    for c in lex.cue_matcher.find(text, s, e):
        overlap = [h for h in hits if any(a < c.end and c.start < b for a, b in h.pieces)]
        if not overlap:
            cues.append(c)
            continue
        # 未见异常 + 异常密度影: the cue runs into the finding; what stands before it may
        # still be a cue (未见).
        first = min(h.start for h in overlap)
        if c.start < first:
            cues.extend(lex.cue_matcher.find(text, c.start, first))
    sides_found = lex.laterality_matcher.find(text, s, e)
    breaks = [m.start() for m in _CLAUSE_BREAK.finditer(text, s, e)]

    def clause_of(pos: int) -> int:
        return bisect.bisect_right(breaks, pos)

    def clause_bounds(pos: int) -> tuple[int, int]:
        k = clause_of(pos)
        return (breaks[k - 1] + 1 if k > 0 else s, breaks[k] if k < len(breaks) else e)

    attached = _attach_sizes(hits, sizes, clause_of, text)
    # A change word inside a finding's own words is the finding's name (心影增大, 纹理增多), not
    # a change against an earlier study.
    words = [
        w
        for w in lex.change_matcher.find(text, s, e)
        if not any(a < w.end and w.start < b for h in hits for a, b in h.pieces)
    ]
    changes = _attach_changes(hits, words, clause_of, text)
    assertions = assess_sentence(text, s, e, hits, cues, lex)
    sides = [laterality(i, hits, sides_found, clause_bounds) for i in range(len(hits))]
    for i in range(len(hits) - 2, -1, -1):
        # "calcified granuloma in the left lower lobe", 钙化结节: one object, one side.
        if sides[i] is None and not text[hits[i].end : hits[i + 1].start].strip():
            sides[i] = sides[i + 1]
    mentions = []
    for i, hit in enumerate(hits):
        found: Assertion = assertions[i]
        if id(hit) in intrinsic and intrinsic[id(hit)][0] != "positive":
            assertion, _ = intrinsic[id(hit)]
            kind = "negation" if assertion == "negated" else "uncertainty"
            cue = CueHit(kind, "phrase", text[hit.start : hit.end], (hit.start, hit.end))
            found = Assertion(
                assertion == "negated", assertion == "uncertain", cue, found.temporality
            )
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
                laterality=sides[i],
                measurements=tuple(m for m in own if m.role == CURRENT),
                prior_measurements=tuple(m for m in own if m.role == PRIOR),
                change_measurements=tuple(m for m in own if m.role == CHANGE),
                temporality=found.temporality,
                temporal_cue=found.temporal_cue,
                change=changes[i],
            )
        )
    return SentenceResult(sentence, tuple(mentions), tuple(sizes))


def _attach_sizes(
    hits: list[PhraseHit[FindingDef]], sizes: list[Measurement], clause_of, text: str
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
        # "6 mm calcified nodule", 钙化结节: the size is the head noun's, the last of the pair.
        while (
            target + 1 < len(hits) and not text[hits[target].end : hits[target + 1].start].strip()
        ):
            target += 1
        attached[target].append(size)
    return attached


def _attach_changes(
    hits: list[PhraseHit[FindingDef]], words: list[PhraseHit[str]], clause_of, text: str
) -> list[ChangeWord | None]:
    """Give each change word to one finding: the nearest of its clause, else the last before
    it (右肺上叶结节，大小约12mm，较前增大), else the first after it ("new 7 mm nodule")."""
    best: list[tuple[int, ChangeWord] | None] = [None] * len(hits)
    for w in words:
        clause = clause_of(w.start)
        same = [i for i, h in enumerate(hits) if clause_of(h.start) == clause]
        if same:
            target = min(same, key=lambda i: _gap(hits[i], w))
        else:
            before = [i for i, h in enumerate(hits) if h.end <= w.start]
            target = before[-1] if before else 0
        gap = _gap(hits[target], w)
        if best[target] is None or gap < best[target][0]:
            best[target] = (gap, ChangeWord(w.payload, text[w.start : w.end], (w.start, w.end)))
    return [b[1] if b else None for b in best]


def _gap(hit: PhraseHit, word: PhraseHit) -> int:
    if hit.end <= word.start:
        return word.start - hit.end
    if word.end <= hit.start:
        return hit.start - word.end
    return 0


def _distance(hit: PhraseHit, size: Measurement) -> int:
    if hit.end <= size.span[0]:
        return size.span[0] - hit.end
    if size.span[1] <= hit.start:
        return hit.start - size.span[1]
    return 0
