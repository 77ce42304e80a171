"""Instructors' authoring pages: scenarios with a form for the case sheet and a "try it" chat
beside it, categories and criteria, activities. Writes go through practice.authoring.services,
as the contract's routes do."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import Role
from audit.services import audit_note
from core.errors import DomainError, NotFound
from practice.casesheet import TOPICS
from practice.models import Activity, Category, Scenario
from web.views import web_page

AVATARS = (
    "Adult",
    "Adult Man",
    "Adult Woman",
    "Elderly Man",
    "Elderly Woman",
    "Toddler",
    "Boy",
    "Girl",
)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def case_from_form(data: QueryDict) -> dict | None:
    """The case sheet the form describes (None when its every field is empty). The field
    lists ``fact_*`` are parallel: one entry per fact row, in the page's order."""
    facts = []
    rows = zip(
        data.getlist("fact_topic"),
        data.getlist("fact_answer"),
        data.getlist("fact_questions"),
        data.getlist("fact_volunteer"),
        strict=False,
    )
    for topic, answer, questions, volunteer in rows:
        if not (answer.strip() or questions.strip()):
            continue
        fact: dict[str, Any] = {
            "topic": topic,
            "answer": answer.strip(),
            "volunteer": volunteer == "yes",
        }
        if _lines(questions):
            fact["questions"] = _lines(questions)
        facts.append(fact)
    texts = {k: data.get(k, "").strip() for k in ("opening", "unknown_answer", "empathy_answer")}
    patient = {
        k: v
        for k, v in {
            "name": data.get("patient_name", "").strip(),
            "age": int(data["patient_age"])
            if data.get("patient_age", "").strip().isdigit()
            else None,
            "sex": data.get("patient_sex", "").strip(),
        }.items()
        if v not in ("", None)
    }
    diagnosis = data.get("diagnosis", "").strip()
    if not facts and not any(texts.values()) and not patient and not diagnosis:
        return None
    case: dict[str, Any] = {**texts, "facts": facts}
    if patient:
        case["patient"] = patient
    if diagnosis:
        case["hidden"] = {"diagnosis": diagnosis}
    return case


def _scenario_data(data: QueryDict) -> dict[str, Any]:
    return {
        "scenario_text": data.get("scenario_text", "").strip(),
        "additional_instructions": data.get("additional_instructions", "").strip(),
        "communication_preferences": data.get("communication_preferences", "").strip() or None,
        "role": data.get("role", "").strip(),
        "language": data.get("language", "en"),
        "enable": data.get("enable") == "on",
        "tags": [t.strip() for t in data.get("tags", "").split(",") if t.strip()],
        "case": case_from_form(data),
    }


@web_page("web.practice.manage", role=Role.INSTRUCTOR)
def manage(request: HttpRequest) -> HttpResponse:
    scenarios = list(Scenario.objects.prefetch_related("tags").order_by("id"))
    categories = list(Category.objects.prefetch_related("subcategories").order_by("id"))
    activities = list(
        Activity.objects.select_related("character").prefetch_related("categories").order_by("id")
    )
    audit_note(request, object_type="practice.scenario", result_count=len(scenarios))
    return render(
        request,
        "web/practice/manage.html",
        {"scenarios": scenarios, "categories": categories, "activities": activities},
    )


def _fact_rows(case: dict | None) -> list[dict]:
    rows = [
        {
            "topic": f.get("topic"),
            "answer": f.get("answer", ""),
            "questions": "\n".join(f.get("questions") or []),
            "volunteer": bool(f.get("volunteer")),
        }
        for f in (case or {}).get("facts") or []
    ]
    return rows or [
        {"topic": "presenting_complaint", "answer": "", "questions": "", "volunteer": True}
    ]


@web_page("web.practice.scenario_edit", role=Role.INSTRUCTOR)
def scenario_edit(request: HttpRequest, scenario_id: int | None = None) -> HttpResponse:
    from practice.authoring import services

    scenario = Scenario.objects.filter(pk=scenario_id).first() if scenario_id else None
    if scenario_id and scenario is None:
        raise NotFound(_("Scenario not found"))
    audit_note(
        request, object_type="practice.scenario", object_ids=[scenario_id] if scenario_id else []
    )
    error = ""
    if request.method == "POST":
        data = _scenario_data(request.POST)
        if not data["scenario_text"]:
            error = _("The persona (scenario text) is required.")
        else:
            try:
                if scenario is None:
                    scenario = services.scenario_create(request=request, by=request.user, data=data)
                else:
                    scenario = services.scenario_update(
                        request=request, by=request.user, scenario_id=scenario.pk, data=data
                    )
            except DomainError as exc:
                error = exc.message
            else:
                messages.success(request, _("The scenario was saved."))
                return redirect("web:practice_scenario_edit", scenario_id=scenario.pk)
        form = {**data, "tags": ", ".join(data["tags"])}
        case = data["case"]
    else:
        form = {
            "scenario_text": scenario.scenario_text if scenario else "",
            "additional_instructions": (scenario.additional_instructions or "") if scenario else "",
            "communication_preferences": (scenario.communication_preferences or "")
            if scenario
            else "",
            "role": (scenario.role or "Adult") if scenario else "Adult",
            "language": (scenario.language or "en") if scenario else "en",
            "enable": scenario.enable is not False if scenario else True,
            "tags": ", ".join(t.tag or "" for t in scenario.tags.all()) if scenario else "",
        }
        case = scenario.case if scenario else None
    return render(
        request,
        "web/practice/scenario_form.html",
        {
            "scenario": scenario,
            "form": form,
            "case": case or {},
            "facts": _fact_rows(case),
            "topics": TOPICS,
            "avatars": AVATARS,
            "error": error,
            "try_config": json.dumps({"url": reverse("api:try_scenario")}),
        },
        status=400 if error else 200,
    )


@web_page("web.practice.rubrics", role=Role.INSTRUCTOR)
def rubrics(request: HttpRequest) -> HttpResponse:
    from practice.authoring import services

    if request.method == "POST":
        kind = request.POST.get("kind")
        try:
            if kind == "category":
                services.category_save(
                    request=request,
                    by=request.user,
                    category_id=int(request.POST["id"]) if request.POST.get("id") else None,
                    name=request.POST.get("name", "").strip(),
                    total_required_to_pass=int(request.POST.get("total_required_to_pass") or 0),
                )
            elif kind == "criterion":
                services.criterion_save(
                    request=request,
                    by=request.user,
                    criterion_id=int(request.POST["id"]) if request.POST.get("id") else None,
                    data={
                        "name": request.POST.get("name", "").strip(),
                        "marking_instructions": request.POST.get(
                            "marking_instructions", ""
                        ).strip(),
                        "category_id": int(request.POST.get("category_id") or 0),
                        "evidence": _lines(request.POST.get("evidence", "")) or None,
                    },
                )
        except (DomainError, ValueError) as exc:
            messages.error(request, getattr(exc, "message", _("Check the values and try again.")))
        else:
            messages.success(request, _("Saved."))
        return redirect("web:practice_rubrics")
    categories = list(Category.objects.prefetch_related("subcategories").order_by("id"))
    for category in categories:
        for criterion in category.subcategories.all():
            criterion.evidence_text = "\n".join(criterion.evidence or [])
    audit_note(request, object_type="practice.category", result_count=len(categories))
    return render(request, "web/practice/rubrics.html", {"categories": categories})


@web_page("web.practice.activities", role=Role.INSTRUCTOR)
def activities(request: HttpRequest) -> HttpResponse:
    from practice.authoring import services

    if request.method == "POST":
        try:
            services.activity_save(
                request=request,
                by=request.user,
                activity_id=int(request.POST["id"]) if request.POST.get("id") else None,
                pre_brief=request.POST.get("pre_brief", "").strip(),
                character_id=int(request.POST.get("character_id") or 0),
                category_ids=[int(c) for c in request.POST.getlist("categories")],
            )
        except (DomainError, ValueError) as exc:
            messages.error(request, getattr(exc, "message", _("Check the values and try again.")))
        else:
            messages.success(request, _("Saved."))
        return redirect("web:practice_activities")
    found = list(
        Activity.objects.select_related("character").prefetch_related("categories").order_by("id")
    )
    audit_note(request, object_type="practice.activity", result_count=len(found))
    return render(
        request,
        "web/practice/activities.html",
        {
            "activities": found,
            "scenarios": Scenario.objects.order_by("id"),
            "categories": Category.objects.order_by("id"),
        },
    )
