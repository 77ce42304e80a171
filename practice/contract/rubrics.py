"""Categories and their criteria, which the frontend calls "rubrics" (SPEC-practice §4)."""

from django.http import HttpRequest
from ninja import Router

from practice.authoring import selectors, services
from practice.authoring.schemas import (
    CHANGED,
    SAVED,
    CategoryIn,
    CategoryOut,
    CriterionIn,
    CriterionOut,
    errors,
)
from practice.contract.auth import instructor_auth, learner_auth

router = Router(tags=["rubrics"])


@router.get("/categories", response={200: list[CategoryOut], **errors(401, 403)}, auth=learner_auth)
def category_list(request: HttpRequest):
    return selectors.category_list()


@router.post(
    "/categories",
    response=SAVED,
    auth=instructor_auth,
    description='Upsert: without `id` (or `null`, `""`) create; with an `id` update it (404 '
    "if it does not exist).",
)
def category_save(request: HttpRequest, payload: CategoryIn):
    category = services.category_save(
        request=request,
        by=request.auth,
        category_id=payload.id,
        name=payload.name,
        total_required_to_pass=payload.total_required_to_pass,
    )
    return {"message": "Category saved", "id": category.id}


@router.delete("/categories/{int:category_id}", response=CHANGED, auth=instructor_auth)
def category_delete(request: HttpRequest, category_id: int):
    services.category_delete(request=request, by=request.auth, category_id=category_id)
    return {"message": "Category deleted"}


@router.get(
    "/categories/{int:category_id}/rubrics",
    response={200: list[CriterionOut], **errors(401, 403, 404)},
    auth=learner_auth,
)
def criterion_list(request: HttpRequest, category_id: int):
    return selectors.criterion_list(category_id=category_id)


@router.post(
    "/rubrics",
    response=SAVED,
    auth=instructor_auth,
    description="Upsert a criterion. `evidence` left out keeps the stored list.",
)
def criterion_save(request: HttpRequest, payload: CriterionIn):
    data = payload.model_dump(exclude_unset=True)
    criterion = services.criterion_save(
        request=request, by=request.auth, criterion_id=payload.id, data=data
    )
    return {"message": "Rubric saved", "id": criterion.id}


@router.delete("/rubrics/{int:criterion_id}", response=CHANGED, auth=instructor_auth)
def criterion_delete(request: HttpRequest, criterion_id: int):
    services.criterion_delete(request=request, by=request.auth, criterion_id=criterion_id)
    return {"message": "Rubric deleted"}
