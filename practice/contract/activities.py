"""Activities: a scenario (the "character") assessed by some categories (SPEC-practice §4)."""

from django.http import HttpRequest
from ninja import Router

from practice.authoring import selectors, services
from practice.authoring.schemas import CHANGED, SAVED, ActivityIn, ActivityOut, errors
from practice.contract.auth import instructor_auth, learner_auth

router = Router(tags=["activities"])


@router.get("/activities", response={200: list[ActivityOut], **errors(401, 403)}, auth=learner_auth)
def activity_list(request: HttpRequest):
    return selectors.activity_list(user=request.auth)


@router.post(
    "/activities",
    response=SAVED,
    auth=instructor_auth,
    description="Upsert; `categories` replace the activity's categories. 404 for an unknown "
    "character or category.",
)
def activity_save(request: HttpRequest, payload: ActivityIn):
    activity = services.activity_save(
        request=request,
        by=request.auth,
        activity_id=payload.id,
        pre_brief=payload.pre_brief,
        character_id=payload.character_id,
        category_ids=payload.categories,
    )
    return {"message": "Activity saved", "id": activity.id}


@router.delete("/activities/{int:activity_id}", response=CHANGED, auth=instructor_auth)
def activity_delete(request: HttpRequest, activity_id: int):
    services.activity_delete(request=request, by=request.auth, activity_id=activity_id)
    return {"message": "Activity deleted successfully"}
