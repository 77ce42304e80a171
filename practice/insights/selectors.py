"""Reads for instructors and learners: assessments (with overrides applied), conversations,
per-activity analytics and agreement. A learner reads only their own."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, Prefetch, Q, QuerySet

from accounts.models import User
from core.errors import NotFound
from practice.conversations.selectors import can_read_all
from practice.insights import scoring
from practice.models import Activity, Assessment, Conversation, Message, ScoreOverride


def _assessments_visible(user: User) -> QuerySet[Assessment]:
    queryset = Assessment.objects.select_related("conversation", "requested_by").prefetch_related(
        Prefetch("overrides", queryset=ScoreOverride.objects.order_by("id"))
    )
    if can_read_all(user):
        return queryset
    return queryset.filter(Q(requested_by=user) | Q(conversation__user=user))


def latest_overrides(assessment: Assessment) -> dict[int, int]:
    """``{subcategory_id: score}`` of the newest override of each criterion."""
    return {o.subcategory_id: o.new_score for o in assessment.overrides.all()}


def final_result(assessment: Assessment) -> dict:
    """The result as it stands: the automatic one with instructors' overrides applied."""
    if assessment.kind != Assessment.Kind.RUBRIC:
        return assessment.result
    return scoring.apply_overrides(assessment.result, latest_overrides(assessment))


def learner_of(assessment: Assessment) -> str:
    if assessment.conversation_id and assessment.conversation.user_id:
        return assessment.conversation.user.username
    return assessment.requested_by_name


def assessment_list(
    *, user: User, activity_id: int | None = None, learner: str | None = None
) -> list[Assessment]:
    queryset = _assessments_visible(user).select_related("conversation__user")
    if activity_id is not None:
        queryset = queryset.filter(activity_ref=activity_id)
    if learner:
        queryset = queryset.filter(
            Q(conversation__user__username=learner)
            | Q(conversation__isnull=True, requested_by_name=learner)
        )
    return list(queryset.order_by("id"))


def assessment_get(*, user: User, assessment_id: int) -> Assessment:
    found = (
        _assessments_visible(user)
        .select_related("conversation__user")
        .filter(pk=assessment_id)
        .first()
    )
    if found is None:
        raise NotFound("Assessment not found")
    return found


def _conversations_visible(user: User) -> QuerySet[Conversation]:
    queryset = Conversation.objects.select_related("user").annotate(message_count=Count("messages"))
    return queryset if can_read_all(user) else queryset.filter(user=user)


def conversation_list(
    *, user: User, activity_id: int | None = None, scenario_id: int | None = None
) -> list[Conversation]:
    queryset = _conversations_visible(user)
    if activity_id is not None:
        queryset = queryset.filter(activity_id=activity_id)
    if scenario_id is not None:
        queryset = queryset.filter(scenario_id=scenario_id)
    return list(queryset.order_by("id"))


def conversation_get(*, user: User, thread_id: str) -> Conversation:
    found = _conversations_visible(user).filter(thread_id=thread_id).first()
    if found is None:
        raise NotFound("Conversation not found")
    return found


def conversation_messages(*, conversation: Conversation) -> list[Message]:
    return list(conversation.messages.order_by("index"))


def transcripts_for_export(*, user: User, activity_id: int | None = None) -> list[Conversation]:
    queryset = _conversations_visible(user).prefetch_related(
        Prefetch("messages", queryset=Message.objects.order_by("index"))
    )
    if activity_id is not None:
        queryset = queryset.filter(activity_id=activity_id)
    return list(queryset.order_by("id"))


def activity_analytics(*, activity_id: int) -> dict:
    """Attempts, pass rate, score distribution, each criterion's miss rate, and progress over
    attempts (attempt k of every learner), from the scores as they stand after overrides."""
    activity = Activity.objects.filter(pk=activity_id).first()
    assessments = list(
        Assessment.objects.filter(activity_ref=activity_id, kind=Assessment.Kind.RUBRIC)
        .select_related("conversation__user")
        .prefetch_related(Prefetch("overrides", queryset=ScoreOverride.objects.order_by("id")))
        .order_by("created_at", "id")
    )
    if activity is None and not assessments:
        raise NotFound("Activity not found")
    finals = [(a, final_result(a)) for a in assessments]
    criteria: dict[int, dict] = {}
    for _assessment, result in finals:
        for category in result.get("categories") or []:
            for c in category.get("criteria") or []:
                row = criteria.setdefault(
                    c["subcategory_id"],
                    {
                        "subcategory_id": c["subcategory_id"],
                        "name": c.get("name", ""),
                        "category_id": category.get("category_id"),
                        "attempts": 0,
                        "missed": 0,
                        "partly": 0,
                        "fully": 0,
                    },
                )
                row["attempts"] += 1
                row[("missed", "partly", "fully")[max(0, min(2, c.get("score", 0)))]] += 1
    for row in criteria.values():
        row["miss_rate"] = row["missed"] / row["attempts"]
    attempt_number: dict[str, int] = defaultdict(int)
    progress: dict[int, list[dict]] = defaultdict(list)
    for assessment, result in finals:
        learner = learner_of(assessment)
        attempt_number[learner] += 1
        progress[attempt_number[learner]].append(result["overall"])
    passed = sum(1 for _a, r in finals if r["overall"]["passed"])
    return {
        "activity_id": activity_id,
        "attempts": len(finals),
        "learners": len(attempt_number),
        "passed": passed,
        "pass_rate": passed / len(finals) if finals else None,
        "mean_score": (
            sum(r["overall"]["total_score"] for _a, r in finals) / len(finals) if finals else None
        ),
        "score_distribution": scoring.distribution(r["overall"]["total_score"] for _a, r in finals),
        "criteria": [criteria[k] for k in sorted(criteria)],
        "progress": [
            {
                "attempt": k,
                "learners": len(rows),
                "mean_score": sum(r["total_score"] for r in rows) / len(rows),
                "pass_rate": sum(1 for r in rows if r["passed"]) / len(rows),
            }
            for k, rows in sorted(progress.items())
        ],
    }


def agreement(*, activity_id: int | None = None) -> dict:
    """Automatic scores against instructors' reviews: every criterion an instructor reviewed
    (an override, or a confirmation at the same score) is one pair (automatic, instructor's)."""
    queryset = Assessment.objects.filter(kind=Assessment.Kind.RUBRIC, overrides__isnull=False)
    if activity_id is not None:
        queryset = queryset.filter(activity_ref=activity_id)
    pairs: list[tuple[int, int]] = []
    for assessment in queryset.distinct().prefetch_related(
        Prefetch("overrides", queryset=ScoreOverride.objects.order_by("id"))
    ):
        automatic = scoring.criterion_scores(assessment.result)
        for sid, final in latest_overrides(assessment).items():
            if sid in automatic:
                pairs.append((automatic[sid], final))
    kappa = scoring.weighted_kappa(pairs)
    exact = scoring.exact_agreement(pairs)
    return {
        "activity_id": activity_id,
        "pairs": len(pairs),
        "exact_agreement": exact,
        "weighted_kappa": kappa,
        "confusion": [
            {"automatic": a, "instructor": b, "count": sum(1 for p in pairs if p == (a, b))}
            for a in scoring.SCORES
            for b in scoring.SCORES
        ],
    }
