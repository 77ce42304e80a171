"""Reads for assessments: the rubric as the engines see it, and the conversation a transcript
belongs to."""

from __future__ import annotations

from collections.abc import Sequence

from accounts.models import User
from practice.engines.base import Category as RubricCategory
from practice.engines.base import Criterion, Turn, rubric_data
from practice.models import Activity, Category, Conversation, Message, RubricQuestion

# How many of the caller's recent conversations of an activity are compared with a transcript.
MATCH_CANDIDATES = 50


def activity_rubric(*, activity: Activity) -> list[RubricCategory]:
    """The activity's categories in id order, each with its criteria in id order."""
    categories = (
        Category.objects.filter(activities=activity)
        .prefetch_related("subcategories")
        .order_by("id")
    )
    return [
        RubricCategory(
            id=category.pk,
            name=category.name,
            required_to_pass=category.total_required_to_pass or 0,
            criteria=tuple(
                Criterion(
                    id=criterion.pk,
                    name=criterion.name,
                    marking_instructions=criterion.marking_instructions or "",
                    evidence=tuple(str(e) for e in (criterion.evidence or [])),
                )
                for criterion in sorted(category.subcategories.all(), key=lambda c: c.pk)
            ),
        )
        for category in categories
    ]


def rubric_snapshot(rubric: Sequence[RubricCategory]) -> list[dict]:
    """What an assessment was graded against, kept with it (the rubric may change later)."""
    return rubric_data(rubric)


def activity_questions(*, activity: Activity) -> list[RubricQuestion]:
    """The simple rubric questions of the activity's scenario, in id order."""
    if activity.character_id is None:
        return []
    return list(RubricQuestion.objects.filter(scenario_id=activity.character_id).order_by("id"))


def conversation_transcript(*, conversation: Conversation) -> list[Turn]:
    return [
        Turn(role=role, content=content)
        for role, content in Message.objects.filter(conversation=conversation)
        .order_by("index")
        .values_list("role", "content")
    ]


def conversation_matching(
    *, user: User, activity: Activity, transcript: Sequence[Turn]
) -> Conversation | None:
    """The caller's latest conversation of this activity whose messages the transcript matches
    (all of them, or their end: the frontend may send only the last ones). The frontend sends
    the messages, never the thread's id."""
    if not transcript:
        return None
    wanted = [(t.role, t.content.strip()) for t in transcript]
    candidates = Conversation.objects.filter(user=user, activity=activity).order_by("-id")
    for conversation in candidates[:MATCH_CANDIDATES]:
        have = [
            (role, content.strip())
            for role, content in Message.objects.filter(conversation=conversation)
            .order_by("index")
            .values_list("role", "content")
        ]
        if len(have) >= len(wanted) and have[len(have) - len(wanted) :] == wanted:
            return conversation
    return None
