"""The scripted patient (SPEC-practice §6): exact texts of the case sheet, composed by rule.

Pure: no Django. The reply depends on the learner's last message only (a fact already told is
told again if asked again), so the same transcript always gives the same reply.

Composition, in this order, each part at most once:
1. a greeting: ``opening``, then the facts marked ``volunteer`` (case-sheet order);
2. the facts the message asks for, in case-sheet order;
3. nothing so far: ``empathy_answer`` if the message shows empathy (a greeting beside empathy
   gets the greeting's reply; empathy beside questions gets their answers), else
   ``unknown_answer``.
Parts are joined by one space in English and by nothing in Chinese.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from practice.casesheet import CaseSheetError, patient_view, validate_case
from practice.engines.base import EngineError, PatientContext, Reply, Turn
from practice.engines.scripted import matcher
from practice.engines.scripted.vocabulary import patient_en

PROMPT_VERSION = "scripted-patient-2026-12-05"
MAX_READ_CHARS = 1500
MAX_READ_CHARS_ZH = 600
_CJK = re.compile(r"[\u3400-\u9fff]")
_CHUNK = re.compile(r"[^\s。！？，；、,.!?;:]*[\s。！？，；、,.!?;:]*")


@dataclass(frozen=True)
class Composition:
    """A reply's parts and why: kept apart from the text so that tests and the evaluation can
    see what the message was read as."""

    parts: tuple[str, ...]
    greeting: bool
    empathy: bool
    facts: tuple[int, ...]


def joiner(language: str) -> str:
    """What goes between the parts of a reply: a space in English, nothing in Chinese."""
    return "" if language.lower().startswith("zh") else " "


def compose(case: dict, message: str) -> Composition:
    """The patient's reply to one learner message, from a case sheet (its patient view)."""
    facts = case["facts"]
    # A conversational turn is short; a pasted essay is read up to a bound so that a reply
    # stays within milliseconds whatever the learner sends.
    message = message[: MAX_READ_CHARS_ZH if _CJK.search(message) else MAX_READ_CHARS]
    reading = matcher.read(message)
    held = {fact["topic"] for fact in facts}
    topics = matcher.expand(reading.topics, held, patient_en.GROUPS, patient_en.NEIGHBOURS)
    asked: list[int] = []
    for i, fact in enumerate(facts):
        by_topic = fact["topic"] in topics and fact["topic"] != "other"
        if by_topic or (fact.get("questions") and matcher.asks_example(fact["questions"], message)):
            asked.append(i)
    parts: list[str] = []
    if reading.greeting:
        parts.append(case["opening"])
        parts.extend(fact["answer"] for fact in facts if fact.get("volunteer"))
    parts.extend(facts[i]["answer"] for i in asked)
    if not parts:
        parts.append(case["empathy_answer"] if reading.empathy else case["unknown_answer"])
    unique: list[str] = []
    for part in parts:
        if part not in unique:
            unique.append(part)
    return Composition(
        parts=tuple(unique),
        greeting=reading.greeting,
        empathy=reading.empathy,
        facts=tuple(asked),
    )


def compose_text(case: dict, message: str, language: str = "en") -> str:
    """The reply's text: its parts joined for the scenario's language."""
    return joiner(language).join(compose(case, message).parts)


class ScriptedPatient:
    """The offline, deterministic patient: answers from the scenario's case sheet."""

    name = "scripted"
    model = "scripted-patient"
    prompt_version = PROMPT_VERSION

    def _case(self, context: PatientContext) -> dict:
        if not context.case:
            raise EngineError(
                "This scenario has no case sheet: the scripted patient answers only from a "
                "case sheet. Add one to the scenario or use the openai engine."
            )
        # The hidden part never reaches the patient, even if a caller forgot patient_view.
        case = patient_view(context.case)
        try:
            validate_case(case)
        except CaseSheetError as error:
            raise EngineError(f"The scenario's case sheet is invalid: {error}") from error
        return case

    def _last_message(self, transcript: Sequence[Turn]) -> str:
        if not transcript or transcript[-1].role != "user":
            raise EngineError(
                "The patient never speaks first: the transcript must end with the learner's "
                "message."
            )
        return transcript[-1].content

    def reply(self, context: PatientContext, transcript: Sequence[Turn]) -> Reply:
        case = self._case(context)
        message = self._last_message(transcript)
        return Reply(
            text=compose_text(case, message, context.language),
            engine=self.name,
            model=self.model,
            prompt_version=self.prompt_version,
        )

    def stream(self, context: PatientContext, transcript: Sequence[Turn]) -> Iterator[str]:
        """The reply word by word (clause by clause in Chinese); the chunks join to it."""
        reply_text = self.reply(context, transcript).text
        chunks: list[str] = []
        for chunk in _CHUNK.findall(reply_text):
            # Chinese has no spaces between words: a few characters make a chunk.
            step = 4 if _CJK.search(chunk) else len(chunk) or 1
            chunks.extend(chunk[start : start + step] for start in range(0, len(chunk), step))
        chunks = [c for c in chunks if c]
        if len(chunks) == 1 and len(chunks[0]) > 1:
            # Even a one-word reply arrives as a stream, not as one piece.
            half = len(chunks[0]) // 2
            chunks = [chunks[0][:half], chunks[0][half:]]
        yield from chunks
