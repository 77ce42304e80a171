"""Who plays the patient and who grades (SPEC-practice §6): one small interface, two engines.

``base`` holds the interface and the data both engines share; ``scripted`` is the offline,
deterministic default; ``openai`` talks to any OpenAI-compatible server. The rest of the product
asks ``get_patient_engine()`` / ``get_grader_engine()`` and never imports an engine directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from practice.engines.base import GraderEngine, PatientEngine


def get_patient_engine(name: str | None = None, *, model: str | None = None) -> PatientEngine:
    """The patient engine the settings name (``PRACTICE_PATIENT_ENGINE``), or ``name``;
    ``model`` (a run's, checked against ``PRACTICE_ALLOWED_MODELS``) overrides ``OPENAI_MODEL``
    for the ``openai`` engine and means nothing to the scripted one."""
    from django.conf import settings

    name = name or settings.PRACTICE_PATIENT_ENGINE
    if name == "openai":
        from practice.engines.openai import OpenAIPatient

        return OpenAIPatient.from_settings(model=model)
    from practice.engines.scripted import ScriptedPatient

    return ScriptedPatient()


def get_grader_engine(name: str | None = None, *, model: str | None = None) -> GraderEngine:
    """The grader engine the settings name (``PRACTICE_GRADER_ENGINE``), or ``name``;
    ``model`` as for ``get_patient_engine``."""
    from django.conf import settings

    name = name or settings.PRACTICE_GRADER_ENGINE
    if name == "openai":
        from practice.engines.openai import OpenAIGrader

        return OpenAIGrader.from_settings(model=model)
    from practice.engines.scripted import ScriptedGrader

    return ScriptedGrader()


def warm_up() -> None:
    """Load the configured engines' code and clients as a server process starts, not in the
    requests that first need them: the ``openai`` package takes a noticeable part of a second
    to import and its client builds an SSL context, and when a class starts, the first
    learners' replies all waited for that, each thread building its own client meanwhile."""
    from django.conf import settings

    for name in {settings.PRACTICE_PATIENT_ENGINE, settings.PRACTICE_GRADER_ENGINE}:
        if name == "openai":
            from practice.engines.openai import OpenAIPatient

            OpenAIPatient.from_settings().warm_up()
