"""Activities: a scenario (the "character") assessed by some categories (SPEC-practice §4)."""

from django.http import HttpRequest
from ninja import Router

from practice.authoring import selectors, services
from practice.authoring.schemas import ActivityIn, ActivityOut, MessageOut, SavedOut, errors
from practice.contract.auth import instructor_auth, learner_auth
from practice.contract.nul import reject_nul

router = Router(tags=["activities"])
router.add_decorator(reject_nul, mode="view")


@router.get("/activities", response={200: list[ActivityOut], **errors(401, 403)}, auth=learner_auth)
def activity_list(request: HttpRequest):
    return selectors.activity_list(user=request.auth)


@router.post(
    "/activities",
    response={200: SavedOut, **errors(400, 401, 403, 404)},
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


@router.delete(
    "/activities/{int:activity_id}",
    response={200: MessageOut, **errors(401, 403, 404)},
    auth=instructor_auth,
)
def activity_delete(request: HttpRequest, activity_id: int):
    services.activity_delete(request=request, by=request.auth, activity_id=activity_id)
    return {"message": "Activity deleted successfully"}
