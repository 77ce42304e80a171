"""The engines' interface and shared data: pure, no Django.

A patient engine turns (context, transcript) into the patient's next reply, whole or as a
stream of text chunks. A grader engine turns (rubric, transcript) into per-criterion scores
with evidence; the arithmetic of categories and the overall verdict (SPEC-practice §4) is
``compose_result``'s, the same for every engine.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol


class EngineError(Exception):
    """The engine could not produce an answer (model server down, bad output, no case sheet).

    ``status`` is the HTTP status a synchronous route answers with (502 bad gateway, 504 time
    out); ``message`` is shown to the learner as is.
    """

    def __init__(self, message: str, *, status: int = 502) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Turn:
    """One message of a transcript: ``role`` is ``user`` (the learner) or ``assistant``."""

    role: str
    content: str


@dataclass(frozen=True)
class PatientContext:
    """Everything the patient is given. Never the rubric, never the hidden diagnosis."""

    scenario_id: int | None
    scenario_text: str
    additional_instructions: str = ""
    communication_preferences: str = ""
    avatar: str = "Adult"
    language: str = "en"
    # The case sheet without its hidden part (casesheet.patient_view), or None.
    case: dict | None = None


@dataclass(frozen=True)
class Reply:
    text: str
    engine: str
    model: str
    prompt_version: str


@dataclass(frozen=True)
class Criterion:
    id: int
    name: str
    marking_instructions: str = ""
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class Category:
    id: int
    name: str
    required_to_pass: int
    criteria: tuple[Criterion, ...] = ()


def rubric_data(rubric: Sequence[Category]) -> list[dict]:
    """A rubric as plain data: what the grading model reads (prompts.assess_input) and what an
    assessment keeps of what it was graded against (assessment.selectors.rubric_snapshot)."""
    return [
        {
            "category_id": c.id,
            "name": c.name,
            "required_to_pass": c.required_to_pass,
            "criteria": [
                {
                    "subcategory_id": k.id,
                    "name": k.name,
                    "marking_instructions": k.marking_instructions,
                    "evidence": list(k.evidence),
                }
                for k in c.criteria
            ],
        }
        for c in rubric
    ]


@dataclass(frozen=True)
class CriterionScore:
    """A criterion's grade: ``message_indices`` count the graded transcript's messages from 0
    and point only at the learner's; ``quotes`` are their sentences, verbatim."""

    subcategory_id: int
    score: int  # 0 not addressed, 1 partly, 2 fully
    message_indices: tuple[int, ...] = ()
    quotes: tuple[str, ...] = ()
    rewrite_if_missing: str | None = None


@dataclass(frozen=True)
class Grading:
    scores: tuple[CriterionScore, ...]
    engine: str
    model: str
    prompt_version: str
    raw: str = ""  # the engine's own output, kept with the assessment


@dataclass(frozen=True)
class QuestionEvaluation:
    question: str
    score: int
    feedback: str


@dataclass(frozen=True)
class QuestionGrading:
    evaluations: tuple[QuestionEvaluation, ...]
    engine: str
    model: str
    prompt_version: str
    raw: str = ""


class PatientEngine(Protocol):
    name: str

    def reply(self, context: PatientContext, transcript: Sequence[Turn]) -> Reply:
        """The patient's next reply to a transcript whose last message is the learner's."""
        ...

    def stream(self, context: PatientContext, transcript: Sequence[Turn]) -> Iterator[str]:
        """The same reply as chunks of text, in order; their concatenation is the reply."""
        ...


class GraderEngine(Protocol):
    name: str

    def assess(
        self, rubric: Sequence[Category], transcript: Sequence[Turn], *, language: str = "en"
    ) -> Grading:
        """One score per criterion of ``rubric`` (every criterion, in rubric order)."""
        ...

    def evaluate_questions(
        self, questions: Sequence[str], transcript: Sequence[Turn], *, language: str = "en"
    ) -> QuestionGrading:
        """One evaluation per question, in their order (SPEC-practice §4 rubric_responses)."""
        ...


@dataclass
class _CategoryTotal:
    score: int = 0
    criteria: list[dict] = field(default_factory=list)


def compose_result(rubric: Sequence[Category], grading: Grading) -> dict:
    """The contract's result (SPEC-practice §4): categories and criteria in id order, a
    category's score the sum of its criteria, passed at ``score >= required``, the overall
    total the sum and passed when every category passes."""
    by_id = {s.subcategory_id: s for s in grading.scores}
    categories = []
    for category in sorted(rubric, key=lambda c: c.id):
        total = _CategoryTotal()
        for criterion in sorted(category.criteria, key=lambda c: c.id):
            found = by_id.get(criterion.id)
            score = found.score if found else 0
            total.score += score
            total.criteria.append(
                {
                    "subcategory_id": criterion.id,
                    "name": criterion.name,
                    "score": score,
                    "evidence": {
                        "message_indices": sorted(set(found.message_indices)) if found else [],
                        "quotes": list(found.quotes) if found else [],
                    },
                    "rewrite_if_missing": (found.rewrite_if_missing if found else None)
                    if score < 2
                    else None,
                }
            )
        categories.append(
            {
                "category_id": category.id,
                "name": category.name,
                "score": total.score,
                "required_to_pass": category.required_to_pass,
                "passed": total.score >= category.required_to_pass,
                "criteria": total.criteria,
            }
        )
    return {
        "categories": categories,
        "overall": {
            "total_score": sum(c["score"] for c in categories),
            "passed": all(c["passed"] for c in categories),
        },
    }
