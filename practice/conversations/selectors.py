"""Reads of conversations: owner isolation lives here, once, for every route."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Role, User
from core.errors import NotFound
from practice.authoring.selectors import ACTIVITY_NOT_FOUND, SCENARIO_NOT_FOUND
from practice.models import Activity, Conversation, Message, Run, Scenario

THREAD_NOT_FOUND = "Thread not found"
RUN_NOT_FOUND = "Run not found"
# SCENARIO_NOT_FOUND and ACTIVITY_NOT_FOUND: the authoring reads' messages, one wording.


def can_read_all(user: User) -> bool:
    """Instructors and admins read every learner's conversations (SPEC-practice §2)."""
    return user.has_role(Role.INSTRUCTOR)


def conversation_get(*, thread_id: str, user: User, for_update: bool = False) -> Conversation:
    """The thread if ``user`` may read it; another learner's thread is 404, as an unknown one."""
    queryset = Conversation.objects.select_related("scenario", "activity")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    conversation = queryset.filter(thread_id=thread_id).first()
    if conversation is None or (conversation.user_id != user.pk and not can_read_all(user)):
        raise NotFound(THREAD_NOT_FOUND)
    return conversation


def message_list(*, conversation: Conversation) -> QuerySet[Message]:
    return Message.objects.filter(conversation=conversation).order_by("index")


def run_get(*, run_id: str, conversation: Conversation) -> Run:
    """A run of this thread; a run of another thread is 404."""
    run = Run.objects.filter(run_id=run_id, conversation=conversation).first()
    if run is None:
        raise NotFound(RUN_NOT_FOUND)
    return run


def scenario_get(*, scenario_id: int, user: User) -> Scenario:
    """A scenario the user may practise: a learner never finds a disabled one."""
    scenario = Scenario.objects.filter(pk=scenario_id).first()
    if scenario is None or (scenario.enable is False and not user.has_role(Role.INSTRUCTOR)):
        raise NotFound(SCENARIO_NOT_FOUND)
    return scenario


def activity_get(*, activity_id: int) -> Activity:
    activity = Activity.objects.select_related("character").filter(pk=activity_id).first()
    if activity is None:
        raise NotFound(ACTIVITY_NOT_FOUND)
    return activity
