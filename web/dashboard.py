"""The dashboard and the data-quality pages: the department's figures (studies.statistics).

Their filters are the studies list's (date range, modality, source, status), parsed with the
API's own parameter schemas; every bar and count links to the rows it counts, on the studies
list where its filters can say which (a modality, a status, a period), else on the data-quality
list of that check.
"""

from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analysis import selectors as analysis_selectors
from audit.services import audit_note
from core.errors import NotFound
from core.pagination import DEFAULT_PAGE_SIZE
from studies import quality as data_quality
from studies import selectors as study_selectors
from studies import statistics
from studies.statistics_schemas import QualityRowsParams, StatisticsFilterParams
from studies.statistics_xlsx import statistics_response
from web import labels
from web.views import _form_values, _page_info, parse_query, web_page

DASHBOARD_DAYS = (7, 30, 90, 365)
PAGE_SIZES = (20, 50, 100)
# What the quality pages show for each check, in the order they list them.
CHECK_TITLES = {
    "certified_before_order": gettext_lazy("Certified before the order"),
    "checked_in_before_order": gettext_lazy("Checked in before the order"),
    "reported_without_physician": gettext_lazy("Certified without a physician"),
    "stuck": gettext_lazy("Stuck: not certified, no step for longer than the limit"),
    "duplicate_patients": gettext_lazy(
        "Duplicate-looking patients: same name and birth year, several record numbers"
    ),
}


def _filters_of(request: HttpRequest) -> tuple[StatisticsFilterParams, list[str], int]:
    """The page's filters, what was wrong with them, and the number of days chosen."""
    params, problems = parse_query(StatisticsFilterParams, request.GET, ignore=("days", "end"))
    try:
        days = int(request.GET.get("days", str(statistics.DEFAULT_DAYS)))
    except ValueError:
        days = statistics.DEFAULT_DAYS
    if days not in DASHBOARD_DAYS:
        days = statistics.DEFAULT_DAYS
    return params, problems, days


def _windowed(request: HttpRequest) -> tuple[statistics.Filters, StatisticsFilterParams, list, int]:
    params, problems, days = _filters_of(request)
    if params.date_from or params.date_to:
        first, last = statistics.window(
            date_from=params.date_from, date_to=params.date_to, days=days
        )
    else:
        try:
            end = date.fromisoformat(request.GET.get("end", ""))
        except ValueError:
            end = None
        first, last = statistics.window(days=days, last_day=end)
    filters = statistics.Filters(
        **{**params.filters().as_dict(), "date_from": first, "date_to": last}
    )
    return filters, params, problems, days


def _query(filters: statistics.Filters, **override: Any) -> str:
    """The filters (and ``override``) as a query string, empty values left out."""
    values = {**filters.as_dict(), **override}
    return urlencode({k: str(v) for k, v in values.items() if v not in (None, "")})


def _studies_link(filters: statistics.Filters, **override: Any) -> str:
    return reverse("web:studies") + "?" + _query(filters, **override)


def _modality_name(modality: str | None) -> str:
    return modality if modality is not None else _("(none)")


def _period_label(period: dict[str, Any], unit: str) -> str:
    if unit == "month":
        return period["start"].strftime("%Y-%m")
    return period["start"].isoformat()


@web_page("web.dashboard")
def dashboard(request: HttpRequest) -> HttpResponse:
    filters, params, problems, days = _windowed(request)
    data = statistics.study_statistics(filters=filters)
    stats = analysis_selectors.analysis_statistics()
    turnaround = data["turnaround"]
    unit = data["unit"]
    modalities = data["modalities"]
    periods = data["periods"]

    def period_link(period: dict[str, Any], modality: str | None) -> str | None:
        # A study without a modality cannot be asked for by the studies list's filters.
        if modality is None:
            return None
        return _studies_link(
            filters, date_from=period["start"], date_to=period["end"], equipment_type=modality
        )

    charts = {
        "perPeriod": {
            "labels": [_period_label(p, unit) for p in periods],
            "series": [
                {
                    "label": _modality_name(m),
                    "data": [p["counts"][i]["count"] for p in periods],
                    "links": [period_link(p, m) for p in periods],
                }
                for i, m in enumerate(modalities)
            ],
        },
        "statuses": {
            "labels": [s["exam_status"] for s in data["statuses"]],
            "data": [s["count"] for s in data["statuses"]],
            "links": [
                _studies_link(filters, exam_status=s["exam_status"]) for s in data["statuses"]
            ],
        },
        "turnaround": {
            "labels": [_bucket_label(b) for b in turnaround["buckets"]],
            "data": [b["count"] for b in turnaround["buckets"]],
        },
        "byModality": _percentile_chart(
            [_modality_name(g["equipment_type"]) for g in turnaround["by_modality"]],
            turnaround["by_modality"],
            [
                _studies_link(filters, equipment_type=g["equipment_type"])
                if g["equipment_type"] is not None
                else None
                for g in turnaround["by_modality"]
            ],
        ),
        "bySource": _percentile_chart(
            [g["exam_source"] for g in turnaround["by_source"]],
            turnaround["by_source"],
            [_studies_link(filters, exam_source=g["exam_source"]) for g in turnaround["by_source"]],
        ),
        "analysis": {
            "labels": [labels.label("task_status", s) for s in stats["by_status"]],
            "data": list(stats["by_status"].values()),
        },
        "text": {
            "studies": _("Studies"),
            "tasks": _("Tasks"),
            "hours": _("Hours"),
            "median": _("Median"),
            "p90": _("90th percentile"),
        },
    }
    context = {
        "days": days,
        "explicit": bool(params.date_from or params.date_to),
        "day_choices": DASHBOARD_DAYS,
        "data": data,
        "turnaround": turnaround,
        "unit": unit,
        "form": _form_values(params)
        | {"date_from": str(filters.date_from), "date_to": str(filters.date_to)},
        "options": study_selectors.study_filter_options(),
        "problems": problems,
        "modality_names": [_modality_name(m) for m in modalities],
        "period_rows": [
            {
                "label": _period_label(p, unit),
                "start": p["start"],
                "end": p["end"],
                "counts": [c["count"] for c in p["counts"]],
                "total": p["total"],
            }
            for p in periods
        ],
        "buckets": [
            {"label": _bucket_label(b), "count": b["count"]} for b in turnaround["buckets"]
        ],
        "by_modality": [
            {**g, "name": _modality_name(g["equipment_type"]), "link": link}
            for g, link in zip(
                turnaround["by_modality"], charts["byModality"]["links"], strict=True
            )
        ],
        "by_source": [
            {**g, "name": g["exam_source"], "link": link}
            for g, link in zip(turnaround["by_source"], charts["bySource"]["links"], strict=True)
        ],
        "query": _query(filters),
        "studies_link": _studies_link(filters),
        "stats": stats,
        "charts": charts,
    }
    audit_note(request, result_count=data["total"], detail=filters.given())
    return render(request, "web/dashboard.html", context)


def _percentile_chart(names: list[str], groups: list[dict], links: list) -> dict[str, Any]:
    return {
        "labels": names,
        "median": [g["median_hours"] for g in groups],
        "p90": [g["p90_hours"] for g in groups],
        "links": links,
    }


def _bucket_label(bucket: dict[str, Any]) -> str:
    if bucket["to_hours"] is None:
        return _("≥ %(hours)s h") % {"hours": bucket["from_hours"]}
    return f"{bucket['from_hours']}–{bucket['to_hours']} h"


@web_page("web.dashboard.export")
def dashboard_export(request: HttpRequest) -> HttpResponse:
    """The dashboard's figures, for the same filters, as an .xlsx workbook."""
    filters, _params, _problems, _days = _windowed(request)
    data = statistics.study_statistics(filters=filters)
    audit_note(request, result_count=data["total"], detail=filters.given())
    return statistics_response(data, filters=filters.as_dict())


def _quality_params(query: QueryDict) -> tuple[QualityRowsParams, list[str]]:
    params, problems = parse_query(QualityRowsParams, query)
    if params.page_size not in PAGE_SIZES:
        params.page_size = DEFAULT_PAGE_SIZE
    return params, problems


@web_page("web.quality")
def quality(request: HttpRequest) -> HttpResponse:
    params, problems = _quality_params(request.GET)
    filters = params.filters()
    counts = data_quality.quality_counts(filters=filters, stuck_hours=params.stuck())
    query = _query(filters, stuck_hours=params.stuck_hours)
    checks = [
        {
            "name": check,
            "title": str(CHECK_TITLES[check]),
            "count": counts["counts"][check],
            "link": reverse("web:quality_rows", args=[check]) + ("?" + query if query else ""),
        }
        for check in data_quality.QUALITY_CHECKS
    ]
    audit_note(request, detail=filters.given())
    context = {
        "checks": checks,
        "counts": counts,
        "form": _form_values(params),
        "stuck_hours": params.stuck(),
        "options": study_selectors.study_filter_options(),
        "problems": problems,
    }
    return render(request, "web/quality/page.html", context)


@web_page("web.quality.rows")
def quality_rows(request: HttpRequest, check: str) -> HttpResponse:
    if check not in data_quality.QUALITY_CHECKS:
        raise NotFound(_("There is no such data-quality check."))
    params, problems = _quality_params(request.GET)
    filters = params.filters()
    if check == data_quality.DUPLICATE_PATIENTS:
        rows, total = data_quality.duplicate_patients(
            filters=filters, page=params.page, page_size=params.page_size
        )
        rows = [
            {
                **row,
                "records": [
                    {**r, "link": _studies_link(statistics.Filters(), q=r["medical_record_no"])}
                    for r in row["records"]
                ],
            }
            for row in rows
        ]
        ids = [r["medical_record_no"] for row in rows for r in row["records"]]
        audit_note(request, object_type="patient", object_ids=ids, result_count=total)
    else:
        rows, total = data_quality.quality_page(
            check=check,
            filters=filters,
            stuck_hours=params.stuck(),
            page=params.page,
            page_size=params.page_size,
        )
        ids = [s.exam_id for s in rows]
        audit_note(request, object_type="study", object_ids=ids, result_count=total)
    query = _query(filters, stuck_hours=params.stuck_hours)
    context = {
        "check": check,
        "title": str(CHECK_TITLES[check]),
        "rows": rows,
        "duplicates": check == data_quality.DUPLICATE_PATIENTS,
        "pager": _page_info(params.page, params.page_size, total),
        "back": reverse("web:quality") + ("?" + query if query else ""),
        "stuck_hours": params.stuck(),
        "problems": problems,
    }
    return render(request, "web/quality/rows.html", context)
