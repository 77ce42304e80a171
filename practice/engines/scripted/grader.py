"""The scripted grader (SPEC-practice §4, §6): each criterion 0/1/2, with evidence.

Pure: no Django. A criterion is read once (its name and marking instructions name skills —
introduction, open questions, ICE, empathy, signposting, summarising, checking understanding,
safety-netting, closing — or history topics; its ``evidence`` phrasings are extra examples of
what counts). Each required component found in the learner's sentences counts; all of them
(or the skill's number) scores 2, some scores 1, none 0. The learner's sentences that did it
are the evidence; a missing component's suggested sentence is the rewrite.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

from practice.engines.base import (
    Category,
    Criterion,
    CriterionScore,
    Grading,
    QuestionEvaluation,
    QuestionGrading,
    Turn,
)
from practice.engines.scripted import matcher, text
from practice.engines.scripted.vocabulary import skills_en, skills_zh

PROMPT_VERSION = "scripted-grader-2026-12-05"
MAX_SENTENCES = 30
MAX_SENTENCE_CHARS = 400


@dataclass(frozen=True)
class _Detector:
    """How one component shows in a learner's sentence."""

    key: str  # "skill.component" or "topic.<name>" or "evidence"
    en: re.Pattern[str] | None = None
    zh: re.Pattern[str] | None = None
    topic: str | None = None
    empathy: bool = False
    rewrite_en: str = ""
    rewrite_zh: str = ""


@dataclass(frozen=True)
class _Unit:
    """One thing a criterion asks for: a skill's required components, or history topics.

    ``full`` is how many components make a full score, or, for a single component, how many
    sentences must show it."""

    name: str
    detectors: tuple[_Detector, ...]
    full: int


@dataclass(frozen=True)
class _Plan:
    units: tuple[_Unit, ...]
    evidence: tuple[str, ...]
    keywords: tuple[str, ...]  # stems, for a criterion that names nothing known
    words: tuple[str, ...] = ()  # the same, as written


@dataclass(frozen=True)
class _Sentence:
    index: int  # the message's index in the transcript
    text: str  # verbatim
    en: str
    zh: str
    reading: matcher.Reading
    # The learner tells rather than asks ("If the pain gets worse...", "So you've had..."):
    # the topics such a sentence names were not asked about.
    telling: bool = False


@lru_cache(maxsize=16384)
def _en_subject(phrase: str) -> str:
    return " " + " ".join(matcher.english().words(phrase)) + " "


def _zh_subject(phrase: str) -> str:
    # Without the closing punctuation, so that "$" in a pattern is the end of the words.
    return re.sub(r"[，。！？、；：,.!?;:]+$", "", matcher.chinese().normal(phrase))


def _en_any(patterns: Sequence[str]) -> re.Pattern[str] | None:
    return text.combine(text.compile_english(p) for p in patterns) if patterns else None


def _zh_any(patterns: Sequence[str]) -> re.Pattern[str] | None:
    return text.combine(text.compile_chinese(p) for p in patterns) if patterns else None


@lru_cache(maxsize=1)
def _skills() -> dict[str, dict]:
    """The skills with their compiled mentions and component detectors, both languages."""
    out: dict[str, dict] = {}
    for skill, spec in skills_en.SKILLS.items():
        zh_spec = skills_zh.SKILLS.get(skill, {"mentions": (), "components": {}})
        components = {}
        for key, comp in spec["components"].items():
            zh_comp = zh_spec["components"].get(key, {})
            topic = comp.get("topic")
            empathy = comp.get("patient") == "EMPATHY"
            components[key] = {
                "default": comp.get("default", False),
                "mention_en": _en_any(comp.get("mention", ())),
                "mention_zh": _zh_any(zh_comp.get("mention", ())),
                "detector": _Detector(
                    key=f"{skill}.{key}",
                    en=_en_any(comp.get("cues", ())),
                    zh=_zh_any(zh_comp.get("cues", ())),
                    topic=topic,
                    empathy=empathy,
                    rewrite_en=comp.get("rewrite", skills_en.TOPIC_REWRITES.get(topic or "", "")),
                    rewrite_zh=zh_comp.get(
                        "rewrite", skills_zh.TOPIC_REWRITES.get(topic or "", "")
                    ),
                ),
            }
        out[skill] = {
            "mention_en": _en_any(spec["mentions"]),
            "mention_zh": _zh_any(zh_spec["mentions"]),
            "full": spec["full"],
            "components": components,
        }
    return out


@lru_cache(maxsize=1)
def _topic_mentions() -> tuple[tuple[str, re.Pattern[str] | None, re.Pattern[str] | None], ...]:
    return tuple(
        (
            topic,
            _en_any(skills_en.TOPIC_MENTIONS.get(topic, ())),
            _zh_any(skills_zh.TOPIC_MENTIONS.get(topic, ())),
        )
        for topic in skills_en.TOPIC_REWRITES
        if topic not in ("ideas", "concerns", "expectations")
    )


@lru_cache(maxsize=1)
def _topic_groups() -> tuple[
    tuple[tuple[str, ...], re.Pattern[str] | None, re.Pattern[str] | None], ...
]:
    return tuple(
        (topics, _en_any(mentions), _zh_any(skills_zh.TOPIC_GROUPS.get(name, ())))
        for name, (mentions, topics) in skills_en.TOPIC_GROUPS.items()
    )


def _topic_detector(topic: str) -> _Detector:
    return _Detector(
        key=f"topic.{topic}",
        topic=topic,
        rewrite_en=skills_en.TOPIC_REWRITES.get(topic, ""),
        rewrite_zh=skills_zh.TOPIC_REWRITES.get(topic, ""),
    )


def _mentioned(
    en: re.Pattern[str] | None, zh: re.Pattern[str] | None, en_s: str, zh_s: str
) -> bool:
    return bool((en and en.search(en_s)) or (zh and zh.search(zh_s)))


@lru_cache(maxsize=512)
def _plan(name: str, instructions: str, evidence: tuple[str, ...]) -> _Plan:
    """What a criterion asks for, read from its name and marking instructions."""
    whole = f"{name}. {instructions}"
    en_s, zh_s = _en_subject(whole), _zh_subject(whole)
    units: list[_Unit] = []
    for skill, spec in _skills().items():
        if not _mentioned(spec["mention_en"], spec["mention_zh"], en_s, zh_s):
            continue
        comps = spec["components"]
        named = [
            c["detector"]
            for c in comps.values()
            if _mentioned(c["mention_en"], c["mention_zh"], en_s, zh_s)
        ]
        defaults = [c["detector"] for c in comps.values() if c["default"]]
        required = named or defaults
        if isinstance(spec["full"], int) and len(comps) > 1 and len(named) < spec["full"]:
            # "Closes the interview, agreeing a plan": closing still means two of its parts.
            required = list(dict.fromkeys([*named, *defaults]))
        full = len(required) if spec["full"] == "all" else spec["full"]
        if len(required) > 1:
            full = min(full, len(required))
        units.append(_Unit(skill, tuple(required), full))
    named = [t for t, en_p, zh_p in _topic_mentions() if _mentioned(en_p, zh_p, en_s, zh_s)]
    topics: list[str] = []
    for group_topics, en_p, zh_p in _topic_groups():
        # "Social history: asks about smoking and alcohol" asks for those two, not all four.
        if _mentioned(en_p, zh_p, en_s, zh_s) and not set(named) & set(group_topics):
            topics.extend(t for t in group_topics if t not in topics)
    topics.extend(t for t in named if t not in topics)
    if topics:
        # A short list ("smoking and alcohol") is asked in full; a long one (SOCRATES) is
        # full at three quarters, as examiners mark it.
        full = len(topics) if len(topics) <= 4 else math.ceil(0.75 * len(topics))
        units.append(_Unit("history", tuple(_topic_detector(t) for t in topics), full))
    words: tuple[str, ...] = ()
    if not units and not evidence:
        words = tuple(
            dict.fromkeys(
                w
                for w in matcher.english().words(whole)
                if len(w) > 3 and w not in skills_en.GENERIC_WORDS and w not in matcher.EN_STOPWORDS
            )
        )
    reader = matcher.english()
    keywords = tuple(dict.fromkeys(c for c in map(reader._concept, words) if c))
    if not units and not evidence and text.is_chinese(whole):
        keywords += _zh_keywords(name)
    return _Plan(tuple(units), evidence, keywords, words)


def _sentences(transcript: Sequence[Turn]) -> list[_Sentence]:
    out = []
    for index, turn in enumerate(transcript):
        if turn.role != "user":
            continue
        # Bounded like the patient's reading: evidence comes from the first sentences of an
        # overly long message.
        for sentence in text.split_sentences(turn.content)[:MAX_SENTENCES]:
            out.append(_read_sentence(index, sentence))
    return out


def _read_sentence(index: int, sentence: str) -> _Sentence:
    en, zh, reading = _read_cached(sentence)
    probe = _Sentence(index, sentence, en, zh, reading)
    skills = _skills()
    telling = any(
        _shows(skills[skill]["components"][part]["detector"], probe)
        for skill, part in (("safety_netting", "condition"), ("summarising", "summary"))
    )
    return _Sentence(index, sentence, en, zh, reading, telling)


@lru_cache(maxsize=4096)
def _read_cached(sentence: str) -> tuple[str, str, matcher.Reading]:
    # A run-on "sentence" is read up to a bound; the quote stays the whole sentence.
    sentence = sentence[:MAX_SENTENCE_CHARS]
    zh = _zh_subject(sentence) if text.is_chinese(sentence) else ""
    return _en_subject(sentence), zh, matcher.read(sentence)


def _shows(detector: _Detector, s: _Sentence) -> bool:
    if detector.topic and detector.topic in s.reading.topics and not s.telling:
        return True
    if detector.empathy and s.reading.empathy:
        return True
    if detector.en is not None and detector.en.search(s.en):
        return True
    return bool(s.zh and detector.zh is not None and detector.zh.search(s.zh))


@lru_cache(maxsize=16384)
def _similar(phrase: str, sentence: str) -> bool:
    if text.is_chinese(phrase) != text.is_chinese(sentence):
        return False
    if matcher.asks_example((phrase,), sentence):
        return True
    if text.is_chinese(phrase):
        return False
    return fuzz.token_set_ratio(_en_subject(phrase), _en_subject(sentence)) >= 85


@lru_cache(maxsize=16384)
def _near(phrase: str, sentence: str) -> bool:
    """Half-way like an evidence phrasing: shares at least half of its content words (or,
    in Chinese, most of its characters)."""
    if text.is_chinese(phrase) != text.is_chinese(sentence):
        return False
    if text.is_chinese(phrase):
        reader = matcher.chinese()
        return fuzz.partial_ratio(reader._core(phrase), reader._core(sentence)) >= 70
    want = set(matcher.english().concepts(phrase))
    have = set(matcher.english().concepts(sentence))
    return bool(want) and len(want & have) * 2 >= len(want)


@dataclass
class _Outcome:
    score: int
    hits: list[_Sentence]
    missing: list[_Detector]


def _grade_unit(unit: _Unit, sentences: list[_Sentence], plan: _Plan) -> _Outcome:
    found: dict[str, list[_Sentence]] = {d.key: [] for d in unit.detectors}
    for s in sentences:
        for d in unit.detectors:
            if _shows(d, s):
                found[d.key].append(s)
    # A sentence like one of the criterion's evidence phrasings counts for whatever that
    # phrasing shows.
    for phrase in plan.evidence:
        probe = _read_sentence(-1, phrase)
        shown = [d for d in unit.detectors if _shows(d, probe)]
        for s in sentences:
            if _similar(phrase, s.text):
                for d in shown:
                    if s not in found[d.key]:
                        found[d.key].append(s)
    present = [d for d in unit.detectors if found[d.key]]
    missing = [d for d in unit.detectors if not found[d.key]]
    hits = [s for d in unit.detectors for s in found[d.key]]
    if not present:
        return _Outcome(0, [], missing)
    if len(unit.detectors) == 1:
        # Count what the learner did, not just where: two empathic statements in one
        # sentence are two.
        distinct = {(s.index, s.text): s for s in hits}
        detector = unit.detectors[0]
        count = sum(
            max(1, s.reading.empathy_count) if detector.empathy else 1 for s in distinct.values()
        )
        score = 2 if count >= unit.full else 1
        return _Outcome(score, hits, [] if score == 2 else list(unit.detectors))
    return _Outcome(2 if len(present) >= unit.full else 1, hits, missing)


def _grade_evidence_only(plan: _Plan, sentences: list[_Sentence]) -> _Outcome:
    strong = [s for s in sentences if any(_similar(p, s.text) for p in plan.evidence)]
    if strong:
        return _Outcome(2, strong, [])
    weak = [s for s in sentences if any(_near(p, s.text) for p in plan.evidence)]
    return _Outcome(1 if weak else 0, weak, [])


_ZH_QUESTION_WORDS = re.compile(
    r"是否|有没有|有无|询问|问了|问到|了解|评估|学生|医生|患者|病人|考生|情况|方面|相关|的|了|吗|呢|？|\?|。|，"
)


def _zh_keywords(phrase: str) -> tuple[str, ...]:
    """A Chinese criterion's content, as character pairs ("是否询问了饮食情况" → 饮食)."""
    core = _ZH_QUESTION_WORDS.sub(" ", matcher.chinese().normal(phrase))
    pairs: list[str] = []
    for chunk in core.split():
        pairs.extend(chunk[i : i + 2] for i in range(max(1, len(chunk) - 1)))
    return tuple(dict.fromkeys(p for p in pairs if len(p) == 2))


def _grade_keywords(plan: _Plan, sentences: list[_Sentence]) -> _Outcome:
    if not plan.keywords:
        return _Outcome(0, [], [])
    covered: set[str] = set()
    hits = []
    reader = matcher.english()
    for s in sentences:
        if s.zh:
            found = {k for k in plan.keywords if k in s.zh}
        else:
            found = {reader._concept(w) for w in s.en.split()} - {None}
        shared = found & set(plan.keywords)
        if shared:
            covered |= shared
            hits.append(s)
    if not hits:
        return _Outcome(0, [], [])
    full = len(covered) >= math.ceil(0.75 * len(plan.keywords))
    return _Outcome(2 if full else 1, hits, [])


def _combine(outcomes: list[_Outcome]) -> int:
    scores = [o.score for o in outcomes]
    if all(s == 2 for s in scores):
        return 2
    if all(s == 0 for s in scores):
        return 0
    return 1


def _is_chinese_transcript(transcript: Sequence[Turn], language: str) -> bool:
    learner = [t.content for t in transcript if t.role == "user"]
    if not learner:
        return language.lower().startswith("zh")
    chinese = sum(1 for m in learner if text.is_chinese(m))
    if chinese * 2 == len(learner):
        return language.lower().startswith("zh")
    return chinese * 2 > len(learner)


def _suggestions(
    criterion_name: str, plan: _Plan, missing: list[_Detector], zh: bool
) -> tuple[str, ...]:
    """What the learner could have said: the first one or two missing components' sentences,
    else an evidence phrasing in the transcript's language, else a question made of the
    criterion's own words."""
    sentences: list[str] = []
    for d in missing:
        candidate = d.rewrite_zh if zh else d.rewrite_en
        if candidate and candidate not in sentences:
            sentences.append(candidate)
        if len(sentences) == 2:
            return tuple(sentences)
    if sentences:
        return tuple(sentences)
    for phrase in plan.evidence:
        if text.is_chinese(phrase) == zh:
            return (phrase,)
    if zh:
        topic = (
            "".join(dict.fromkeys(_zh_keywords(criterion_name)))
            if text.is_chinese(criterion_name)
            else ""
        )
        if topic:
            return (f"能跟我说说您{_zh_pairs_text(criterion_name)}方面的情况吗？",)
        return ("能再多跟我说说这方面的情况吗？",)
    if plan.words:
        words = list(plan.words[:3])
        listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
        return (f"Could you tell me a little about your {listed}?",)
    if text.is_chinese(criterion_name):
        return ("Could you tell me a bit more about that?",)
    return (f"Could we talk a little about {criterion_name.strip().rstrip('.?').lower()}?",)


def _zh_pairs_text(phrase: str) -> str:
    """The content of a Chinese criterion as written ("是否询问了饮食情况" → 饮食)."""
    core = _ZH_QUESTION_WORDS.sub(" ", matcher.chinese().normal(phrase))
    return "、".join(chunk for chunk in core.split() if chunk)


@dataclass(frozen=True)
class _Result:
    score: int
    indices: tuple[int, ...]
    quotes: tuple[str, ...]
    suggestions: tuple[str, ...]  # empty when the score is 2
    units: tuple[str, ...]
    zh: bool

    @property
    def rewrite(self) -> str | None:
        return ("" if self.zh else " ").join(self.suggestions) or None


def _grade(
    name: str,
    instructions: str,
    evidence: tuple[str, ...],
    sentences: list[_Sentence],
    zh: bool,
) -> _Result:
    plan = _plan(name, instructions, evidence)
    if plan.units:
        outcomes = [_grade_unit(u, sentences, plan) for u in plan.units]
    elif plan.evidence:
        outcomes = [_grade_evidence_only(plan, sentences)]
    else:
        outcomes = [_grade_keywords(plan, sentences)]
    score = _combine(outcomes)
    hits: dict[tuple[int, str], None] = {}
    if score > 0:
        for outcome in outcomes:
            for s in outcome.hits:
                hits[(s.index, s.text)] = None
    ordered = sorted(hits, key=lambda k: (k[0], _position(sentences, k)))
    missing = [d for o in outcomes for d in o.missing]
    return _Result(
        score=score,
        indices=tuple(sorted({i for i, _ in ordered})),
        quotes=tuple(dict.fromkeys(t for _, t in ordered)),
        suggestions=() if score == 2 else _suggestions(name, plan, missing, zh),
        units=tuple(u.name for u in plan.units),
        zh=zh,
    )


def clear_caches() -> None:
    """Forget every text-keyed cache, the patient's vocabulary readings included (the
    benchmarks time cold assessments)."""
    _en_subject.cache_clear()
    _similar.cache_clear()
    _near.cache_clear()
    _read_cached.cache_clear()
    _plan.cache_clear()
    matcher.clear_caches()


def _position(sentences: list[_Sentence], key: tuple[int, str]) -> int:
    for n, s in enumerate(sentences):
        if (s.index, s.text) == key:
            return n
    return 0


class ScriptedGrader:
    """The offline, deterministic grader."""

    name = "scripted"
    model = "scripted-grader"
    prompt_version = PROMPT_VERSION

    def assess(
        self, rubric: Sequence[Category], transcript: Sequence[Turn], *, language: str = "en"
    ) -> Grading:
        sentences = _sentences(transcript)
        zh = _is_chinese_transcript(transcript, language)
        scores = []
        raw = []
        for category in rubric:
            for criterion in category.criteria:
                result = self._criterion(criterion, sentences, zh)
                scores.append(
                    CriterionScore(
                        subcategory_id=criterion.id,
                        score=result.score,
                        message_indices=result.indices,
                        quotes=result.quotes,
                        rewrite_if_missing=result.rewrite,
                    )
                )
                raw.append(
                    {
                        "subcategory_id": criterion.id,
                        "score": result.score,
                        "read_as": list(result.units),
                    }
                )
        return Grading(
            scores=tuple(scores),
            engine=self.name,
            model=self.model,
            prompt_version=self.prompt_version,
            raw=json.dumps({"criteria": raw}, ensure_ascii=False, sort_keys=True),
        )

    def _criterion(self, criterion: Criterion, sentences: list[_Sentence], zh: bool) -> _Result:
        evidence = tuple(e for e in (criterion.evidence or ()) if isinstance(e, str) and e.strip())
        return _grade(
            criterion.name or "", criterion.marking_instructions or "", evidence, sentences, zh
        )

    def evaluate_questions(
        self, questions: Sequence[str], transcript: Sequence[Turn], *, language: str = "en"
    ) -> QuestionGrading:
        sentences = _sentences(transcript)
        zh = _is_chinese_transcript(transcript, language)
        evaluations = []
        for question in questions:
            result = _grade(question, "", (), sentences, zh)
            evaluations.append(
                QuestionEvaluation(
                    question=question, score=result.score, feedback=_feedback(result, zh)
                )
            )
        raw = [{"question": e.question, "score": e.score} for e in evaluations]
        return QuestionGrading(
            evaluations=tuple(evaluations),
            engine=self.name,
            model=self.model,
            prompt_version=self.prompt_version,
            raw=json.dumps({"evaluations": raw}, ensure_ascii=False, sort_keys=True),
        )


def _short(quote: str, limit: int = 80) -> str:
    return quote if len(quote) <= limit else quote[: limit - 1].rstrip() + "…"


def _feedback(result: _Result, zh: bool) -> str:
    """One or two sentences: what was done, quoted, and one sentence to try."""
    quote = _short(result.quotes[0]) if result.quotes else ""
    suggestion = result.suggestions[0] if result.suggestions else ""
    if zh:
        if result.score == 2:
            return f"已充分做到，例如您说过：“{quote}”。"
        if result.score == 1:
            return f"部分做到（您说过：“{quote}”）。还可以这样说：“{suggestion}”"
        return f"本次对话中没有做到。可以这样说：“{suggestion}”"
    if result.score == 2:
        return f'Fully addressed; for example, you said: "{quote}"'
    if result.score == 1:
        return f'Partly addressed (you said: "{quote}"). To cover it fully, you could say: "{suggestion}"'
    return f'Not addressed in this conversation. You could say: "{suggestion}"'
