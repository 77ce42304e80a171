"""What the patient is given: built from the scenario alone.

The activity adds nothing for the patient: its categories (the rubric) and their marking
instructions are the grader's, and the case sheet's hidden part is dropped here, so neither can
reach a patient model whatever a learner asks it (the Flask service leaked the rubric).
"""

from __future__ import annotations

from accounts.models import User
from core.errors import DomainError, NotFound
from practice.casesheet import patient_view
from practice.conversations import selectors
from practice.engines.base import PatientContext
from practice.models import Scenario


def patient_context(*, scenario: Scenario) -> PatientContext:
    return PatientContext(
        scenario_id=scenario.pk,
        scenario_text=scenario.scenario_text or "",
        additional_instructions=scenario.additional_instructions or "",
        communication_preferences=scenario.communication_preferences or "",
        avatar=scenario.role or "Adult",
        language=scenario.language or "en",
        case=patient_view(scenario.case) if scenario.case is not None else None,
    )


def patient_instructions_text(*, scenario: Scenario) -> str:
    """The exact instructions a patient model gets for this scenario (the preview route)."""
    from practice.engines.prompts import patient_instructions

    return patient_instructions(patient_context(scenario=scenario))


def context_preview_get(
    *, user: User, activity_id: int | None = None, scenario_id: int | None = None
) -> dict:
    """``{activity_id, scenario_id, context, length}``: an activity's character is the scenario
    (a ``scenario_id`` beside it is ignored, as on runs)."""
    if activity_id is not None:
        activity = selectors.activity_get(activity_id=activity_id)
        if activity.character_id is None:
            raise NotFound(selectors.SCENARIO_NOT_FOUND)
        scenario_id = activity.character_id
    elif scenario_id is None:
        raise DomainError("Missing fields")
    scenario = selectors.scenario_get(scenario_id=scenario_id, user=user)
    context = patient_instructions_text(scenario=scenario)
    return {
        "activity_id": activity_id,
        "scenario_id": scenario.pk,
        "context": context,
        "length": len(context),
    }
