"""The practice section of the web UI (SPEC-practice §5): learners practise and see their
assessments; instructors follow attempts, override scores and read analytics.

Pages read through the practice selectors and write through its services, as the API does;
the chat streams its replies from /api/v1/practice (web/static/web/practice.js)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Role
from audit.services import audit_note
from core.errors import DomainError, NotFound
from practice.authoring.selectors import sees_all_scenarios
from practice.insights import selectors as insights
from practice.insights import services as insight_services
from practice.models import Activity, Assessment, Category, Message
from web.views import web_page


def _activities_for(user) -> list[Activity]:
    """Activities open to this user: a learner's leave out disabled scenarios."""
    queryset = Activity.objects.select_related("character").prefetch_related("categories")
    if not sees_all_scenarios(user):
        queryset = queryset.filter(character__enable=True)
    return list(queryset.order_by("id"))


@web_page("web.practice.home", role=Role.LEARNER)
def practice_home(request: HttpRequest) -> HttpResponse:
    activities = _activities_for(request.user)
    attempts = insights.assessment_list(user=request.user, learner=request.user.username)
    audit_note(request, object_type="practice.activity", result_count=len(activities))
    return render(
        request,
        "web/practice/home.html",
        {"activities": activities, "recent": attempts[-5:][::-1]},
    )


@require_POST
@web_page("web.practice.start", role=Role.LEARNER)
def practice_start(request: HttpRequest, activity_id: int) -> HttpResponse:
    from practice.conversations import services as conversations

    if not any(a.pk == activity_id for a in _activities_for(request.user)):
        raise NotFound(_("This activity is not open to you."))
    conversation = conversations.conversation_create(user=request.user, activity_id=activity_id)
    audit_note(request, object_type="practice.conversation", object_ids=[conversation.thread_id])
    return redirect("web:practice_chat", thread_id=conversation.thread_id)


def _transcript(conversation) -> list[Message]:
    return list(conversation.messages.order_by("index"))


@web_page("web.practice.chat", role=Role.LEARNER)
def practice_chat(request: HttpRequest, thread_id: str) -> HttpResponse:
    conversation = insights.conversation_get(user=request.user, thread_id=thread_id)
    audit_note(request, object_type="practice.conversation", object_ids=[thread_id])
    activity = conversation.activity
    scenario = conversation.scenario
    return render(
        request,
        "web/practice/chat.html",
        {
            "conversation": conversation,
            "activity": activity,
            "scenario": scenario,
            "messages_": _transcript(conversation),
            "own": conversation.user_id == request.user.pk,
            "assessments": list(conversation.assessments.order_by("-id")),
            "chat_config": json.dumps(
                {
                    "stream": reverse(
                        "api:practice_stream_message", kwargs={"thread_id": thread_id}
                    ),
                    "retry": reverse("api:practice_stream_retry", kwargs={"thread_id": thread_id}),
                    "language": (scenario.language if scenario else "en") or "en",
                }
            ),
        },
    )


@require_POST
@web_page("web.practice.assess", role=Role.LEARNER)
def practice_assess(request: HttpRequest, thread_id: str) -> HttpResponse:
    from practice.assessment import services as assessment_services

    conversation = insights.conversation_get(user=request.user, thread_id=thread_id)
    audit_note(request, object_type="practice.conversation", object_ids=[thread_id])
    if conversation.activity_id is None:
        raise NotFound(_("This conversation belongs to no activity to be assessed against."))
    try:
        assessment = assessment_services.rubric_assessment_create(
            user=request.user, activity_id=conversation.activity_id, thread_id=thread_id
        )
    except DomainError as exc:
        # Too few learner turns, or the grader failed: the learner stays in the conversation.
        messages.error(request, exc.message)
        return redirect("web:practice_chat", thread_id=thread_id)
    return redirect("web:practice_assessment", assessment_id=assessment.pk)


def _highlighted(transcript: list[dict], result: dict) -> list[dict]:
    """The graded messages with the criteria that quote each one (for <mark>s in the page)."""
    quoted: dict[int, list[dict]] = {}
    for category in result.get("categories") or []:
        for criterion in category.get("criteria") or []:
            evidence = criterion.get("evidence") or {}
            for index in evidence.get("message_indices") or []:
                quoted.setdefault(index, []).append(
                    {"name": criterion.get("name", ""), "quotes": evidence.get("quotes") or []}
                )
    offset = max(0, len(transcript) - 40)  # the contract grades the last 40 messages
    rows = []
    for position, message in enumerate(transcript):
        index = position - offset
        text = message.get("content") or message.get("message") or ""
        parts = [{"text": text, "mark": False}]
        for hit in quoted.get(index, []) if index >= 0 else []:
            for quote in hit["quotes"]:
                parts = _mark(parts, quote)
        rows.append(
            {
                "role": message.get("role"),
                "parts": parts,
                "criteria": [h["name"] for h in quoted.get(index, [])] if index >= 0 else [],
            }
        )
    return rows


def _mark(parts: list[dict], quote: str) -> list[dict]:
    """Split unmarked parts around ``quote`` so that it renders inside <mark>."""
    if not quote:
        return parts
    out: list[dict] = []
    for part in parts:
        text = part["text"]
        at = text.find(quote) if not part["mark"] else -1
        if at < 0:
            out.append(part)
            continue
        if at:
            out.append({"text": text[:at], "mark": False})
        out.append({"text": quote, "mark": True})
        if text[at + len(quote) :]:
            out.append({"text": text[at + len(quote) :], "mark": False})
    return out


@web_page("web.practice.assessment", role=Role.LEARNER)
def practice_assessment(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = insights.assessment_get(user=request.user, assessment_id=assessment_id)
    audit_note(request, object_type="practice.assessment", object_ids=[assessment_id])
    result = insights.final_result(assessment)
    return render(
        request,
        "web/practice/assessment.html",
        {
            "assessment": assessment,
            "result": result,
            "learner": insights.learner_of(assessment),
            "transcript": _highlighted(assessment.transcript or [], result),
            "overrides": list(assessment.overrides.all()),
            "can_override": request.user.has_role(Role.INSTRUCTOR)
            and assessment.kind == Assessment.Kind.RUBRIC,
        },
    )


@require_POST
@web_page("web.practice.override", role=Role.INSTRUCTOR)
def practice_override(request: HttpRequest, assessment_id: int) -> HttpResponse:
    try:
        subcategory_id = int(request.POST.get("subcategory_id", ""))
        score = int(request.POST.get("score", ""))
    except ValueError:
        messages.error(request, _("Choose a criterion and a score of 0, 1 or 2."))
        return redirect("web:practice_assessment", assessment_id=assessment_id)
    reason = request.POST.get("reason", "").strip()
    if not reason or score not in (0, 1, 2):
        messages.error(request, _("A score of 0, 1 or 2 and a reason are required."))
        return redirect("web:practice_assessment", assessment_id=assessment_id)
    insight_services.score_override(
        user=request.user,
        assessment_id=assessment_id,
        subcategory_id=subcategory_id,
        score=score,
        reason=reason,
        request=request,
    )
    messages.success(request, _("The score was changed and the change recorded."))
    return redirect("web:practice_assessment", assessment_id=assessment_id)


@web_page("web.practice.attempts", role=Role.LEARNER)
def practice_attempts(request: HttpRequest) -> HttpResponse:
    everyone = request.user.has_role(Role.INSTRUCTOR)
    activity_id = request.GET.get("activity_id", "").strip()
    learner = request.GET.get("learner", "").strip() if everyone else request.user.username
    found = insights.assessment_list(
        user=request.user,
        activity_id=int(activity_id) if activity_id.isdigit() else None,
        learner=learner or None,
    )
    audit_note(
        request,
        object_type="practice.assessment",
        object_ids=[a.pk for a in found],
        result_count=len(found),
    )
    rows = []
    for assessment in found:
        final = insights.final_result(assessment).get("overall") or {}
        rows.append(
            {
                "assessment": assessment,
                "learner": insights.learner_of(assessment),
                "total": final.get("total_score", assessment.total_score),
                "passed": final.get("passed", assessment.passed),
                "overridden": bool(list(assessment.overrides.all())),
            }
        )
    return render(
        request,
        "web/practice/attempts.html",
        {
            "rows": rows[::-1],
            "everyone": everyone,
            "activities": _activities_for(request.user),
            "activity_id": activity_id,
            "learner": learner if everyone else "",
            "chart": [
                {"at": r["assessment"].created_at.isoformat(), "score": r["total"]}
                for r in rows
                if r["assessment"].kind == Assessment.Kind.RUBRIC
            ],
        },
    )


@web_page("web.practice.analytics", role=Role.INSTRUCTOR)
def practice_analytics(request: HttpRequest, activity_id: int) -> HttpResponse:
    analytics = insights.activity_analytics(activity_id=activity_id)
    agreement = insights.agreement(activity_id=activity_id)
    audit_note(request, object_type="practice.activity", object_ids=[activity_id])
    activity = Activity.objects.select_related("character").filter(pk=activity_id).first()
    names = dict(Category.objects.values_list("id", "name"))
    return render(
        request,
        "web/practice/analytics.html",
        {
            "activity": activity,
            "activity_id": activity_id,
            "analytics": analytics,
            "agreement": agreement,
            "category_names": names,
            "chart": {
                "distribution": analytics["score_distribution"],
                "criteria": [
                    {"name": c["name"], "miss_rate": c["miss_rate"]} for c in analytics["criteria"]
                ],
                "progress": analytics["progress"],
                "labels": {
                    "attempts": _("Attempts"),
                    "miss_rate": _("Miss rate"),
                    "mean_score": _("Mean score"),
                    "pass_rate": _("Pass rate"),
                    "score": _("Total score"),
                    "attempt": _("Attempt"),
                },
            },
        },
    )
