"""The case sheet (SPEC-practice §6): what the scripted patient knows, validated on write.

Pure: no Django. ``validate_case`` returns the first problem as ``(path, message)`` so that the
API can answer 400 naming the field (``case.facts[1].topic``).
"""

from __future__ import annotations

from typing import Any

TOPICS: tuple[str, ...] = (
    "presenting_complaint",
    "site",
    "onset",
    "character",
    "radiation",
    "associated_symptoms",
    "timing",
    "exacerbating",
    "relieving",
    "severity",
    "past_history",
    "medications",
    "allergies",
    "family_history",
    "smoking",
    "alcohol",
    "occupation",
    "living_situation",
    "systems_review",
    "ideas",
    "concerns",
    "expectations",
    "mood",
    "other",
)
LANGUAGES: tuple[str, ...] = ("en", "zh-hans")
REQUIRED_TEXTS: tuple[str, ...] = ("opening", "unknown_answer", "empathy_answer")


class CaseSheetError(ValueError):
    """A case sheet that breaks a rule; ``path`` names the field (``case.facts[0].answer``)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def _text(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def validate_case(case: Any, *, root: str = "case") -> None:
    """Raise ``CaseSheetError`` for the first rule the case sheet breaks (None is no sheet)."""
    if case is None:
        return
    if not isinstance(case, dict):
        raise CaseSheetError(root, "must be an object")
    patient = case.get("patient")
    if patient is not None and not isinstance(patient, dict):
        raise CaseSheetError(f"{root}.patient", "must be an object")
    for key in REQUIRED_TEXTS:
        if not _text(case.get(key)):
            raise CaseSheetError(f"{root}.{key}", "is required (a non-empty text)")
    hidden = case.get("hidden")
    if hidden is not None and not isinstance(hidden, dict):
        raise CaseSheetError(f"{root}.hidden", "must be an object")
    diagnosis = (hidden or {}).get("diagnosis")
    if diagnosis is not None and not isinstance(diagnosis, str):
        raise CaseSheetError(f"{root}.hidden.diagnosis", "must be a text")
    facts = case.get("facts")
    if not isinstance(facts, list) or not facts:
        raise CaseSheetError(f"{root}.facts", "needs at least one fact")
    seen: set[str] = set()
    for i, fact in enumerate(facts):
        path = f"{root}.facts[{i}]"
        if not isinstance(fact, dict):
            raise CaseSheetError(path, "must be an object")
        topic = fact.get("topic")
        if topic not in TOPICS:
            raise CaseSheetError(f"{path}.topic", f"must be one of {', '.join(TOPICS)}")
        if topic != "other":
            if topic in seen:
                raise CaseSheetError(f"{path}.topic", f"'{topic}' appears more than once")
            seen.add(topic)
        if not _text(fact.get("answer")):
            raise CaseSheetError(f"{path}.answer", "is required (a non-empty text)")
        questions = fact.get("questions", [])
        if questions is None:
            questions = []
        if not isinstance(questions, list) or not all(_text(q) for q in questions):
            raise CaseSheetError(f"{path}.questions", "must be a list of non-empty texts")
        if topic == "other" and not questions:
            raise CaseSheetError(f"{path}.questions", "a fact of topic 'other' needs questions")
        volunteer = fact.get("volunteer", False)
        if not isinstance(volunteer, bool):
            raise CaseSheetError(f"{path}.volunteer", "must be true or false")
    if _text(diagnosis):
        needle = diagnosis.strip().casefold()
        if needle in case["opening"].casefold():
            raise CaseSheetError(f"{root}.opening", "must not contain the hidden diagnosis")
        for i, fact in enumerate(facts):
            if needle in fact["answer"].casefold():
                raise CaseSheetError(
                    f"{root}.facts[{i}].answer", "must not contain the hidden diagnosis"
                )


def patient_view(case: dict) -> dict:
    """The case sheet as the patient may know it: everything but the hidden part."""
    return {key: value for key, value in case.items() if key != "hidden"}
