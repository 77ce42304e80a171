"""Scenarios, their enable switch and their rubric questions (SPEC-practice §4, "Scenarios")."""

from django.http import HttpRequest
from ninja import Router, Status

from practice.authoring import selectors, services
from practice.authoring.schemas import (
    CHANGED,
    EDITED,
    CreatedOut,
    MessageOut,
    RubricQuestionIn,
    RubricQuestionOut,
    ScenarioCreateIn,
    ScenarioOut,
    ScenarioUpdateIn,
    ScenarioWithCaseOut,
    errors,
)
from practice.contract.auth import instructor_auth, learner_auth

router = Router(tags=["scenarios"])


@router.get(
    "/scenarios",
    response={200: list[ScenarioWithCaseOut] | list[ScenarioOut], **errors(400, 401, 403)},
    auth=learner_auth,
    description="`?include=case` adds `case` and `language` for instructors and admins "
    "(ignored for learners, who see enabled scenarios only and never a case sheet).",
)
def scenario_list(request: HttpRequest, include: str = ""):
    return selectors.scenario_rows(user=request.auth, include=include.split(","))


@router.post(
    "/scenarios", response={201: CreatedOut, **errors(400, 401, 403)}, auth=instructor_auth
)
def scenario_create(request: HttpRequest, payload: ScenarioCreateIn):
    scenario = services.scenario_create(
        request=request, by=request.auth, data=payload.model_dump(exclude_unset=True)
    )
    return Status(201, {"message": "Created", "id": scenario.id})


@router.put("/scenarios/{int:scenario_id}", response=EDITED, auth=instructor_auth)
def scenario_update(request: HttpRequest, scenario_id: int, payload: ScenarioUpdateIn):
    services.scenario_update(
        request=request,
        by=request.auth,
        scenario_id=scenario_id,
        data=payload.model_dump(exclude_unset=True),
    )
    return {"message": "Updated"}


@router.delete(
    "/scenarios/{int:scenario_id}",
    response={200: MessageOut, **errors(401, 403, 404, 409)},
    auth=instructor_auth,
)
def scenario_delete(request: HttpRequest, scenario_id: int):
    services.scenario_delete(request=request, by=request.auth, scenario_id=scenario_id)
    return {"message": "Deleted"}


@router.put("/scenarios/{int:scenario_id}/enable", response=CHANGED, auth=instructor_auth)
def scenario_enable(request: HttpRequest, scenario_id: int):
    services.scenario_set_enabled(
        request=request, by=request.auth, scenario_id=scenario_id, enabled=True
    )
    return {"message": "Scenario enabled"}


@router.put("/scenarios/{int:scenario_id}/disable", response=CHANGED, auth=instructor_auth)
def scenario_disable(request: HttpRequest, scenario_id: int):
    services.scenario_set_enabled(
        request=request, by=request.auth, scenario_id=scenario_id, enabled=False
    )
    return {"message": "Scenario disabled"}


@router.get(
    "/scenarios/{int:scenario_id}/rubric_questions",
    response={200: list[RubricQuestionOut], **errors(401, 403, 404)},
    auth=learner_auth,
)
def rubric_question_list(request: HttpRequest, scenario_id: int):
    return selectors.rubric_question_list(scenario_id=scenario_id, user=request.auth)


@router.post(
    "/scenarios/{int:scenario_id}/rubric_questions",
    response={201: CreatedOut, **errors(400, 401, 403, 404)},
    auth=instructor_auth,
)
def rubric_question_create(request: HttpRequest, scenario_id: int, payload: RubricQuestionIn):
    created = services.rubric_question_create(
        request=request, by=request.auth, scenario_id=scenario_id, question=payload.question
    )
    return Status(201, {"message": "Rubric question created", "id": created.id})


@router.put("/rubric_questions/{int:question_id}", response=EDITED, auth=instructor_auth)
def rubric_question_update(request: HttpRequest, question_id: int, payload: RubricQuestionIn):
    services.rubric_question_update(
        request=request, by=request.auth, question_id=question_id, question=payload.question
    )
    return {"message": "Rubric question updated"}


@router.delete("/rubric_questions/{int:question_id}", response=CHANGED, auth=instructor_auth)
def rubric_question_delete(request: HttpRequest, question_id: int):
    services.rubric_question_delete(request=request, by=request.auth, question_id=question_id)
    return {"message": "Rubric question deleted"}
