"""What a learner's message does: greets, shows empathy, asks about which topics.

Pure: no Django. One ``Reader`` per language is built once from the vocabulary data modules
and reused; reading a message is a few hundred precompiled regular-expression searches.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from types import ModuleType

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from practice.engines.scripted import text
from practice.engines.scripted.vocabulary import patient_en, patient_zh, skills_en


def _words(blob: str) -> frozenset[str]:
    return frozenset(blob.split())


# Words that carry no topic: left out when a message is compared with a fact's own example
# questions, so that "when did it begin" and "so when did this all begin?" compare on "begin".
EN_STOPWORDS: frozenset[str] = _words(
    """a an the and or but if so to of in on at by for with from about as into over up out
    is are was were be been being am do does did doing have has had having will would can
    could shall should may might must i me my you your yours he him his she her it its we us
    our they them their this that these those there here what which who whom whose when where
    why how any some anything something all very really just also then than too please okay
    ok tell me could would like know let ask now today currently ever much many more most
    other else there yes no not please well right sorry thanks thank doctor anywhere
    somewhere recently recent lately latest last ago past few couple keep kept get got take
    taking taken make go going feel feeling seen see notice noticed use using used"""
)
ZH_FILLERS = re.compile(
    r"[吗呢吧啊呀嘛么了的地得您你我他她它们请问一下是否有没有这个那个就都也还在]"
)


def stem(word: str) -> str:
    """A light English stemmer: enough to compare "travelled", "travelling" and "travel"."""
    for suffix in ("ings", "ing", "edly", "ed", "ies", "es", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if suffix == "ies":
                word += "y"
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]
    if len(word) > 4 and word.endswith("ll"):
        word = word[:-1]
    return word


@dataclass
class Reading:
    """What one message does."""

    greeting: bool = False
    empathy: bool = False
    topics: set[str] = field(default_factory=set)
    # How many separate expressions of empathy ("I'm sorry to hear that, it must be hard": 2).
    empathy_count: int = 0
    # Where each topic was read (character offsets in the normalised text).
    spans: list[tuple[int, int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class _Span:
    """Where one cue matched: its extent, the stretches that are the cue's own words (not
    what a gap stood for), and where its last own word starts."""

    start: int
    end: int
    kind: str
    own: tuple[tuple[int, int], ...]
    last: int

    def swallows(self, other: _Span, companions: frozenset[frozenset[str]]) -> bool:
        """Whether ``other`` is part of this longer cue: they mostly overlap and the other's
        last word lies within this cue ("night sweats" swallows "sweats", "any illnesses in
        your family" swallows "any illnesses"). Companion topics, asked together in one
        phrase ("better or worse"), never swallow each other."""
        if self.kind == other.kind or (self.end - self.start) <= (other.end - other.start):
            return False
        if frozenset((self.kind, other.kind)) in companions:
            return False
        overlap = min(self.end, other.end) - max(self.start, other.start)
        if overlap * 2 < other.end - other.start:
            return False
        return self.start <= other.last < self.end


@dataclass(frozen=True)
class _Kind:
    """One kind of cue (a topic, the greeting, empathy): all its patterns in one expression
    to test cheaply, and one by one, marked, to find where each matched."""

    name: str
    combined: re.Pattern[str]
    parts: tuple[re.Pattern[str], ...]
    english: bool

    @classmethod
    def build(cls, name: str, patterns: Iterable[str], *, english: bool) -> _Kind:
        patterns = tuple(patterns)
        compile_ = text.compile_english if english else text.compile_chinese
        combined = text.combine(compile_(p) for p in patterns)
        return cls(name, combined, tuple(compile_(p, marked=True) for p in patterns), english)

    def spans(self, subject: str) -> list[_Span]:
        if not self.combined.search(subject):
            return []
        out = []
        for part in self.parts:
            for m in part.finditer(subject):
                if m.end() > m.start():
                    out.append(self._span(m))
        return out

    def _span(self, m: re.Match[str]) -> _Span:
        if self.english:
            own = tuple(sorted(m.span(g) for g in m.re.groupindex if m.span(g)[0] >= 0))
            last = own[-1][0] if own else m.start()
            return _Span(m.start(), m.end(), self.name, own or ((m.start(), m.end()),), last)
        # Chinese: a gap mostly holds the cue's own object ("对…过敏" over "什么药"), so the
        # whole match counts as the cue's.
        return _Span(m.start(), m.end(), self.name, ((m.start(), m.end()),), m.end() - 1)


@dataclass(frozen=True)
class _Compiled:
    greeting: _Kind
    empathy: _Kind
    topics: tuple[_Kind, ...]
    groups: dict[str, tuple[str, ...]]
    neighbours: dict[str, tuple[str, ...]]
    synonyms: dict[str, str]
    companions: frozenset[frozenset[str]]

    @classmethod
    def of(cls, vocab: ModuleType, *, english: bool, word: Callable[[str], str]) -> _Compiled:
        """A language's patient vocabulary compiled; ``word`` is how a synonym is looked up
        (its stem in English, as is in Chinese)."""
        return cls(
            greeting=_Kind.build("greeting", vocab.GREETING, english=english),
            empathy=_Kind.build("empathy", vocab.EMPATHY, english=english),
            topics=tuple(
                _Kind.build(topic, patterns, english=english)
                for topic, patterns in vocab.TOPICS.items()
            ),
            groups=vocab.GROUPS,
            neighbours=vocab.NEIGHBOURS,
            synonyms={word(w): group[0] for group in vocab.SYNONYMS for w in group},
            companions=frozenset(frozenset(pair) for pair in vocab.COMPANIONS),
        )

    def read(self, subject: str) -> Reading:
        """Greeting, empathy and topics; a topic's cue found inside a longer cue of something
        else is part of that ("night sweats" is not "sweating"; "allergic to any
        medication" asks for allergies, not medications)."""
        framing = self.greeting.spans(subject) + self.empathy.spans(subject)
        topical = [span for kind in self.topics for span in kind.spans(subject)]
        everything = framing + topical
        reading = Reading(
            greeting=any(s.kind == "greeting" for s in framing),
            empathy=any(s.kind == "empathy" for s in framing),
            empathy_count=_disjoint([(s.start, s.end) for s in framing if s.kind == "empathy"]),
        )
        # Only cues that overlap can swallow one another: sorted by start, the candidates for
        # a span are those that start before its last word.
        everything.sort(key=lambda sp: sp.start)
        starts = [sp.start for sp in everything]
        for span in topical:
            candidates = everything[: bisect_right(starts, span.last)]
            if not any(other.swallows(span, self.companions) for other in candidates):
                reading.topics.add(span.kind)
                reading.spans.append((span.start, span.end, span.kind))
        return reading


def _disjoint(spans: list[tuple[int, int]]) -> int:
    """How many of the spans can be picked without overlapping (earliest end first)."""
    count, end = 0, -1
    for a, b in sorted(spans, key=lambda span: (span[1], span[0])):
        if a >= end:
            count, end = count + 1, b
    return count


class EnglishReader:
    """Reads English messages (contractions, abbreviations and typos handled)."""

    def __init__(self) -> None:
        vocab = patient_en
        self.data = _Compiled.of(vocab, english=True, word=stem)
        all_patterns = [*vocab.GREETING, *vocab.EMPATHY]
        for patterns in vocab.TOPICS.values():
            all_patterns.extend(patterns)
        for skill in skills_en.SKILLS.values():
            all_patterns.extend(skill["mentions"])
            for component in skill["components"].values():
                all_patterns.extend(component.get("cues", ()))
                all_patterns.extend(component.get("mention", ()))
        words, prefixes = text.pattern_words(all_patterns)
        known = words | {w for phrase in vocab.ABBREVIATIONS.values() for w in phrase.split()}
        for group in vocab.SYNONYMS:
            known.update(group)
        self.abbreviations = vocab.ABBREVIATIONS
        self.speller = text.Speller(
            known,
            protected=EN_STOPWORDS | set(vocab.ABBREVIATIONS) | set(vocab.COMMON_WORDS),
            prefixes=prefixes,
        )

    def words(self, message: str) -> tuple[str, ...]:
        return _english_words(message)

    def _words(self, message: str) -> tuple[str, ...]:
        tokens = [
            t
            for t in text.english_tokens(message, self.abbreviations)
            if re.fullmatch(r"[a-z0-9]+", t)
        ]
        corrected = self.speller.correct_all(tokens)
        # An abbreviation may also come out of the speller ("medz" -> "meds").
        out: list[str] = []
        for word in corrected:
            out.extend(self.abbreviations.get(word, word).split())
        return tuple(out)

    def read(self, message: str) -> Reading:
        return _english_read(message)

    def concepts(self, phrase: str) -> tuple[str, ...]:
        return _english_concepts(phrase)

    def _concepts(self, phrase: str) -> tuple[str, ...]:
        """A phrase's content words, stemmed and folded onto their synonym group."""
        out = []
        for word in self.words(phrase):
            if word in EN_STOPWORDS:
                continue
            s = stem(word)
            out.append(self.data.synonyms.get(s, s))
        return tuple(out)

    def asks(self, example: str, clause: str, *, guard: frozenset[str] = frozenset()) -> bool:
        """Whether a clause asks what a fact's example question asks.

        ``guard``: topics the clause is read as asking about (and the example is not); a word
        the clause shares with the example counts only outside those topics' cues."""
        words = self.words(clause)
        if guard and fuzz.ratio(" ".join(self.words(example)), " ".join(words)) >= 90:
            return True
        want = self.concepts(example)
        per_word = [self._concept(w) for w in words]
        have = [c for c in per_word if c]
        if not want:
            # An example made only of everyday words ("have you taken anything for it?") is
            # matched on its words as a whole.
            return fuzz.ratio(" ".join(self.words(example)), " ".join(words)) >= 85
        if not have:
            return False
        found = sum(1 for w in want if any(_same_word(w, h) for h in have))
        covered = sum(1 for h in have if any(_same_word(h, w) for w in want))
        if found / len(want) < 0.75 or covered / len(have) < 0.5:
            return False
        if not guard:
            return True
        spans = [(a, b) for a, b, t in self.read(clause).spans if t in guard]
        offset = 1
        for word, concept in zip(words, per_word, strict=True):
            shared = concept and any(_same_word(concept, w) for w in want)
            if shared and not any(a <= offset - 1 and offset + len(word) < b for a, b in spans):
                return True
            offset += len(word) + 1
        return False

    def _concept(self, word: str) -> str | None:
        if word in EN_STOPWORDS:
            return None
        s = stem(word)
        return self.data.synonyms.get(s, s)


def _same_word(a: str, b: str) -> bool:
    if a == b:
        return True
    return min(len(a), len(b)) >= 5 and OSA.distance(a, b) <= 1


class ChineseReader:
    """Reads Simplified Chinese messages (characters; common variant forms folded)."""

    def __init__(self) -> None:
        vocab = patient_zh
        self.fold = sorted(vocab.FOLD.items(), key=lambda kv: -len(kv[0]))
        self.data = _Compiled.of(vocab, english=False, word=str)

    def normal(self, message: str) -> str:
        return _chinese_normal(message)

    def _normal(self, message: str) -> str:
        subject = text.chinese_normal(message)
        for old, new in self.fold:
            subject = subject.replace(old, new)
        return subject

    def read(self, message: str) -> Reading:
        return _chinese_read(message)

    def _core(self, phrase: str) -> str:
        return _chinese_core(phrase)

    def _core_uncached(self, phrase: str) -> str:
        subject = self.normal(phrase)
        for word, concept in self.data.synonyms.items():
            subject = subject.replace(word, concept)
        subject = re.sub(r"[^\u3400-\u9fffa-z0-9]", "", subject)
        return ZH_FILLERS.sub("", subject)

    def asks(self, example: str, clause: str, *, guard: frozenset[str] = frozenset()) -> bool:
        want = self._core(example)
        have = self._core(clause)
        if len(want) < 2 or not have:
            return False
        shared = {c for c in set(self.data.synonyms.values()) if c in want and c in have}
        if guard:
            # Only a shared idea found outside the other topics' cues, or nearly the words.
            subject = self.normal(clause)
            spans = [(a, b) for a, b, t in self.read(clause).spans if t in guard]
            for word, concept in self.data.synonyms.items():
                if concept not in shared:
                    continue
                at = subject.find(word)
                if at >= 0 and not any(a <= at and at + len(word) <= b for a, b in spans):
                    return True
            return fuzz.ratio(want, have) >= 85
        if shared:
            return True
        if want in have and len(want) * 2 >= len(have) - 2:
            return True
        return fuzz.ratio(want, have) >= 75


@cache
def english() -> EnglishReader:
    return EnglishReader()


@cache
def chinese() -> ChineseReader:
    return ChineseReader()


# Text-keyed caches: a sentence is read by several criteria of one assessment, and learners
# repeat themselves. Bounded, and pure functions of their text, so results never depend on
# what was read before.
@lru_cache(maxsize=16384)
def _english_words(message: str) -> tuple[str, ...]:
    return english()._words(message)


@lru_cache(maxsize=16384)
def _english_concepts(phrase: str) -> tuple[str, ...]:
    return english()._concepts(phrase)


@lru_cache(maxsize=16384)
def _english_read(message: str) -> Reading:
    return english().data.read(" " + " ".join(english().words(message)) + " ")


@lru_cache(maxsize=16384)
def _chinese_read(message: str) -> Reading:
    reader = chinese()
    return reader.data.read(re.sub(r"[，。！？、；：,.!?;:]+$", "", reader.normal(message)))


@lru_cache(maxsize=16384)
def _chinese_normal(message: str) -> str:
    return chinese()._normal(message)


@lru_cache(maxsize=16384)
def _chinese_core(phrase: str) -> str:
    return chinese()._core_uncached(phrase)


def clear_caches() -> None:
    """Forget every text-keyed cache (the benchmarks time cold reads)."""
    _chinese_normal.cache_clear()
    _english_read.cache_clear()
    _chinese_read.cache_clear()
    read.cache_clear()
    _chinese_core.cache_clear()
    _english_words.cache_clear()
    _english_concepts.cache_clear()
    _topics_of.cache_clear()


_CLAUSE_EN = re.compile(r"[.!?;,:\n]+|\s+(?:and|or|also|but|plus|then)\s+|\s+-+\s+|[—–]", re.I)
_CLAUSE_ZH = re.compile(r"[。！？；，、,.!?;:：\n]+|还有|另外|以及|和|或者|并且")


MAX_CLAUSES = 40


def clauses(message: str) -> list[str]:
    """The message cut where one question may end and another begin (at most MAX_CLAUSES)."""
    parts = _CLAUSE_ZH.split(message) if text.is_chinese(message) else _CLAUSE_EN.split(message)
    return [p.strip() for p in parts if p and p.strip()][:MAX_CLAUSES]


@lru_cache(maxsize=16384)
def read(message: str) -> Reading:
    """What a message does, in either language (a Chinese message may hold English words).
    Cached: callers must not change the reading they get."""
    en = english().read(message)
    if not text.is_chinese(message):
        return en
    zh = chinese().read(message)
    return Reading(
        greeting=en.greeting or zh.greeting,
        empathy=en.empathy or zh.empathy,
        empathy_count=max(en.empathy_count, zh.empathy_count),
        topics=en.topics | zh.topics,
        spans=list(en.spans),
    )


@lru_cache(maxsize=16384)
def _topics_of(phrase: str) -> frozenset[str]:
    return frozenset(read(phrase).topics)


def asks_example(examples: Sequence[str], message: str) -> bool:
    """Whether the message (or one of its clauses) asks one of a fact's example questions.

    In a clause the vocabulary reads as a question about some other topic, the words it
    shares with the example must lie outside that topic's cue ("does it travel anywhere?"
    asks about radiation, not "have you travelled?"; "any pet birds at home?" still asks
    "do you keep birds?")."""
    parts = [message, *clauses(message)]
    for example in examples:
        reader = chinese() if text.is_chinese(example) else english()
        example_topics = _topics_of(example)
        for part in parts:
            if text.is_chinese(part) != text.is_chinese(example):
                continue
            guard = _topics_of(part) - example_topics
            if reader.asks(example, part, guard=guard):
                return True
    return False


def expand(
    topics: set[str],
    held: set[str],
    language_groups: dict[str, tuple[str, ...]],
    neighbours: dict[str, tuple[str, ...]],
) -> set[str]:
    """The held topics a reading asks for: groups opened, missing topics sent to a neighbour."""
    wanted: set[str] = set()
    for topic in topics:
        wanted.update(language_groups.get(topic, (topic,)))
    out: set[str] = set()
    for topic in wanted:
        if topic in held:
            out.add(topic)
            continue
        for other in neighbours.get(topic, ()):
            if other in held:
                out.add(other)
                break
    return out
