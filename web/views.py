"""The web UI's pages.

Each view parses its input (query strings with the API's own parameter schemas), calls the same
selectors and services as the API, notes what it showed for the audit log (the audit middleware
writes one event per page, as for the API) and renders a template. htmx requests for a part of
a page get only that part (``_fragment``).
"""

import math
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    QueryDict,
)
from django.shortcuts import redirect, render
from django.template import loader
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect
from ninja import Schema
from pydantic import ValidationError as PydanticValidationError

import nlp
from accounts.models import Role
from accounts.services import session_login, session_logout
from analysis import messages as analysis_messages
from analysis import selectors as analysis_selectors
from analysis import services as analysis_services
from analysis.models import ACTIVE_STATUSES, AnalysisType
from analysis.schemas import AnalysisTaskIn, AnalysisTaskListParams
from audit.services import audit_note
from core.badinput import NulField, answer_nul
from core.errors import Conflict, DomainError, InvalidInput, NotAuthenticated, TooManyRequests
from core.pagination import PageParams, paginate
from ingest import api as ingest_api
from ingest import messages as ingest_messages
from ingest import selectors as ingest_selectors
from ingest import services as ingest_services
from reports import selectors as report_selectors
from reports.exports import report_export
from reports.schemas import ReportExportParams, ReportSearchParams
from reports.search import report_search
from studies import exports, patients
from studies import selectors as study_selectors
from studies.schemas import StudyExportParams, StudyListParams
from studies.search import study_search
from web import labels
from web import selectors as web_selectors
from web.forms import ImportForm, LoginForm
from web.middleware import idle_seconds_left, idle_timeout_seconds
from web.results import result_view

PAGE_SIZES = (20, 50, 100)
STUDY_TASKS_SHOWN = 50
# The patient's other studies on a study page; the patient page lists them all.
OTHER_STUDIES_SHOWN = 10
BATCHES_PER_PAGE = 15
# How often a page with a running analysis asks for its progress.
POLL_SECONDS = 1


# ---------------------------------------------------------------- plumbing


def web_page(action: str, *, role: str = Role.VIEWER) -> Callable:
    """Login required, ``role`` required (else 403), audited as ``action``.

    The audit note is attached before the role check, so a refused attempt is recorded too
    (outcome ``denied``). Domain errors (not found, conflict, …) become an error page with
    their status, as config/api.py maps them for the API.
    """

    def decorate(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                if request.htmx:
                    next_url = request.htmx.current_url_abs_path or request.get_full_path()
                    return HttpResponseClientRedirect(redirect_to_login(next_url).url)
                return redirect_to_login(request.get_full_path())
            audit_note(request, action=action)
            if not request.user.has_role(role):
                return forbidden(request)
            try:
                return view(request, *args, **kwargs)
            except DomainError as exc:
                return error_page(request, exc.status_code, exc.message)

        return wrapper

    return decorate


def _fragment(request: HttpRequest, target: str) -> bool:
    """True for an htmx request that replaces the element ``#target`` (not a history restore)."""
    htmx = request.htmx
    return bool(htmx) and not htmx.history_restore_request and htmx.target == target


def _query_data(query: QueryDict) -> dict[str, str]:
    """The query string's non-empty values (the last one of a repeated key)."""
    return {key: value.strip() for key, value in query.items() if value.strip()}


def parse_query(schema: type[Schema], query: QueryDict, *, ignore: tuple[str, ...] = ()) -> tuple:
    """The query string validated by ``schema`` (the API's own), and what was wrong with it.

    An invalid value is dropped with a message instead of failing the page: a person editing
    a bookmarked URL gets the search without that filter and is told so.
    """
    data = {k: v for k, v in _query_data(query).items() if k not in ignore}
    problems: list[str] = []
    while True:
        try:
            return schema.model_validate(data), problems
        except PydanticValidationError as exc:
            dropped = set()
            for error in exc.errors():
                name = error["loc"][0] if error["loc"] else None
                if name in data:
                    dropped.add(name)
                    problems.append(
                        _("Ignored the invalid value of “%(field)s”.") % {"field": name}
                    )
                elif not error["loc"] and {"date_from", "date_to"} <= data.keys():
                    # The one rule across fields: a date range that ends before it starts.
                    dropped |= {"date_from", "date_to"}
                    problems.append(_("The date range ends before it starts; it was ignored."))
                elif not error["loc"] and "finding" not in data:
                    # Report search: an assertion or a size without a finding to apply to.
                    dropped |= {"assertion", "min_size_mm"} & data.keys()
                    problems.append(_("Choose a finding for the assertion and size filters."))
            if not dropped:
                raise  # not a problem of the query string: a bug
            for name in dropped:
                del data[name]


def _paged_query(schema: type[Schema], query: QueryDict) -> tuple:
    """``parse_query`` for a page with a page-size choice: a size it does not offer is its first."""
    params, problems = parse_query(schema, query)
    if params.page_size not in PAGE_SIZES:
        params.page_size = PAGE_SIZES[0]
    return params, problems


def _form_values(params: Schema) -> dict[str, str]:
    """The parsed parameters as the form fields show them."""
    values = {}
    for key, value in params.model_dump().items():
        values[key] = "" if value is None else str(value)
    return values


def _page_info(page: int, page_size: int, total: int) -> dict[str, Any]:
    pages = max(1, math.ceil(total / page_size))
    shown = bool(total) and page <= pages
    return {
        "page": page,
        "page_size": page_size,
        "total": total,
        "pages": pages,
        "first": (page - 1) * page_size + 1 if shown else 0,
        "last": min(page * page_size, total) if shown else 0,
        "has_previous": page > 1,
        "has_next": page < pages,
        "previous": min(page - 1, pages),
        "next": page + 1,
    }


def _safe_next(request: HttpRequest, fallback: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback


def _start_for(user: Any, next_url: str) -> str:
    """Learners and instructors start in the practice section, not on the studies list."""
    if getattr(user, "is_practice_only", False) and next_url == reverse(
        settings.LOGIN_REDIRECT_URL
    ):
        return reverse("web:practice_home")
    return next_url


def error_page(request: HttpRequest, status: int, message: str = "") -> HttpResponse:
    titles = {
        403: _("Not allowed"),
        404: _("Not found"),
        409: _("Conflict"),
        422: _("Invalid request"),
    }
    return render(
        request,
        "web/errors/error.html",
        {"status": status, "title": titles.get(status, _("Error")), "message": message},
        status=status,
    )


@answer_nul("/")
def bad_input_page(request: HttpRequest, field: NulField) -> HttpResponse:
    """The page for a request refused by core.badinput (a NUL character in ``field``).

    Bilingual and without context processors, like the 500 page: it must not read the session
    (whose cookie may be the field at fault)."""
    template = loader.get_template("web/errors/bad_input.html")
    return HttpResponse(template.render({"field": field.label}), status=400)


def forbidden(request: HttpRequest) -> HttpResponse:
    return error_page(request, 403, _("Your role does not allow this action."))


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 404, _("There is no page at this address."))


def server_error(request: HttpRequest) -> HttpResponse:
    # No context processors and no database: this must render even when they are broken.
    return HttpResponse(loader.get_template("web/errors/500.html").render(), status=500)


# ---------------------------------------------------------------- login / logout


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Each role's own start: learners and instructors practise, the others see studies."""
    user = request.user
    if user.is_authenticated and getattr(user, "is_practice_only", False):
        return redirect("web:practice_home")
    return redirect("web:studies")


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    """Session login with the API login's lockout (accounts.services.session_login)."""
    next_url = _safe_next(request, reverse(settings.LOGIN_REDIRECT_URL))
    if request.method == "GET" and request.user.is_authenticated:
        return redirect(_start_for(request.user, next_url))
    form = LoginForm(request.POST or None)
    status = 200
    retry_after = 0
    if request.method == "POST" and form.is_valid():
        try:
            user = session_login(
                request=request,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
            )
        except TooManyRequests as exc:
            retry_after = exc.retry_after or 60
            minutes = math.ceil(retry_after / 60)
            form.add_error(
                None,
                _("Too many failed attempts. Try again in %(minutes)s minute(s).")
                % {"minutes": minutes},
            )
            status = 429
        except NotAuthenticated:
            form.add_error(None, _("Invalid username or password."))
        else:
            return redirect(_start_for(user, next_url))
    response = render(request, "web/login.html", {"form": form, "next": next_url}, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


@require_POST
@csrf_protect
def logout_view(request: HttpRequest) -> HttpResponse:
    session_logout(request=request)
    messages.info(request, _("You have been signed out."))
    return redirect(settings.LOGOUT_REDIRECT_URL)


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that name no icon (the API docs, the admin)."""
    return redirect(static("web/favicon.svg"))


@require_GET
@never_cache
def session_activity(request: HttpRequest) -> HttpResponse:
    """The page's idle timer talks to the server here (web/static/web/app.js).

    A plain call is the user's activity on the page (typing, clicks that sent no request):
    the idle middleware renews the session. A call marked X-Background-Request only asks, at
    the end of the countdown, whether another tab kept the session alive. Either way the
    answer is the seconds left before the automatic sign-out. A session that is over was
    signed out by the middleware, which sends the page to the login form; nothing here is
    patient data, so nothing is audited.
    """
    if not request.user.is_authenticated:
        if request.htmx:
            next_url = request.htmx.current_url_abs_path or reverse("web:home")
            return HttpResponseClientRedirect(redirect_to_login(next_url).url)
        return redirect_to_login(reverse("web:home"))
    return JsonResponse(
        {
            "remaining_seconds": round(idle_seconds_left(request), 1),
            "idle_seconds": idle_timeout_seconds(),
        }
    )


# ---------------------------------------------------------------- studies


@web_page("web.study.search")
def studies(request: HttpRequest) -> HttpResponse:
    params, problems = _paged_query(StudyListParams, request.GET)
    groups = None
    if params.group == "patient":
        groups, total, options = patients.patient_groups_page(
            page=params.page, page_size=params.page_size, **params.filters()
        )
        rows = [s for group in groups for s in group.studies]
    else:
        rows, total, options = study_search(
            page=params.page, page_size=params.page_size, **params.filters()
        )
    audit_note(
        request,
        object_type="study",
        object_ids=[s.exam_id for s in rows],
        result_count=total,
    )
    context = {
        "rows": rows,
        "groups": groups,
        "options": options,
        "form": _form_values(params),
        "sort": params.sort,
        "problems": problems,
        "page_sizes": PAGE_SIZES,
        "genders": labels.choices("gender"),
        "pager": _page_info(params.page, params.page_size, total),
        "export_query": _export_query(request.GET),
    }
    if _fragment(request, "results"):
        return render(request, "web/studies/_results.html", {**context, "fragment": True})
    return render(request, "web/studies/list.html", context)


def _export_query(query: QueryDict) -> str:
    """The current search's filters, without paging or grouping, for the export links."""
    kept = query.copy()
    for key in ("page", "page_size", "format", "group"):
        kept.pop(key, None)
    return kept.urlencode()


@web_page("web.study.export")
def studies_export(request: HttpRequest) -> HttpResponseBase:
    """The API's export (same selector, same writers) of the current search."""
    params, _problems = parse_query(StudyExportParams, request.GET, ignore=("page", "page_size"))
    queryset = study_selectors.study_list(**params.filters())
    return exports.audited_export(request, queryset, params.format, object_type="study")


@web_page("web.study.view")
def study_detail(request: HttpRequest, exam_id: str) -> HttpResponse:
    audit_note(request, object_type="study", object_ids=[exam_id])
    study = study_selectors.study_get(exam_id=exam_id)
    reports = list(report_selectors.report_list(exam_id=study.exam_id))
    tasks = list(analysis_selectors.analysis_task_list(exam_id=study.exam_id)[:STUDY_TASKS_SHOWN])
    timeline = nlp.compute_timeline(
        timezone.localtime(study.order_datetime),
        study.check_in_datetime and timezone.localtime(study.check_in_datetime),
        study.report_certification_datetime
        and timezone.localtime(study.report_certification_datetime),
        turnaround_limit_hours=settings.ANALYSIS_TURNAROUND_LIMIT_HOURS,
    )
    others, others_total = patients.patient_other_studies(study=study, limit=OTHER_STUDIES_SHOWN)
    if others:
        # The page shows these studies too.
        audit_note(request, detail={"patient_studies": [s.exam_id for s in others]})
    context = {
        "study": study,
        "reports": reports,
        "tasks": tasks,
        "patient_studies": others,
        "patient_studies_total": others_total,
        "timeline": timeline,
        "timeline_over": {f["interval"] for f in timeline["flags"] if f["kind"] == "exceeds_limit"},
        "analysis_types": AnalysisType.values,
    }
    return render(request, "web/studies/detail.html", context)


@web_page("web.patient.view")
def patient_detail(request: HttpRequest, medical_record_no: str) -> HttpResponse:
    """Every study of a medical record number, newest first, with their reports."""
    audit_note(request, object_type="study", detail={"medical_record_no": medical_record_no})
    params, _problems = _paged_query(PageParams, request.GET)
    rows, total = patients.patient_studies_page(
        medical_record_no=medical_record_no,
        page=params.page,
        page_size=params.page_size,
        request=request,
    )
    audit_note(request, object_ids=[s.exam_id for s in rows], result_count=total)
    context = {
        "medical_record_no": medical_record_no,
        "names": sorted({s.patient_name for s in rows}),
        "patient_studies": rows,
        "pager": _page_info(params.page, params.page_size, total),
    }
    return render(request, "web/studies/patient.html", context)


# ---------------------------------------------------------------- reports


@web_page("web.report.search")
def reports(request: HttpRequest) -> HttpResponse:
    params, problems = _paged_query(ReportSearchParams, request.GET)
    items, total, options = report_search(
        page=params.page, page_size=params.page_size, **params.filters()
    )
    audit_note(
        request,
        object_type="report",
        object_ids=[item["report_id"] for item in items],
        result_count=total,
    )
    context = {
        "items": items,
        "options": options,
        "findings": report_selectors.finding_options(),
        "form": _form_values(params),
        "query": params.q or "",
        "problems": problems,
        "pager": _page_info(params.page, params.page_size, total),
        "page_sizes": PAGE_SIZES,
        "export_query": _export_query(request.GET),
    }
    if _fragment(request, "results"):
        return render(request, "web/reports/_results.html", context)
    return render(request, "web/reports/list.html", context)


@web_page("web.report.export")
def reports_export(request: HttpRequest) -> HttpResponseBase:
    """The API's export (same selector, same writers) of the current report search."""
    params, _problems = parse_query(ReportExportParams, request.GET, ignore=("page", "page_size"))
    queryset = report_selectors.report_export_list(**params.filters())
    return report_export(request, queryset, params.format)


@web_page("web.report.view")
def report_detail(request: HttpRequest, report_id: str) -> HttpResponse:
    audit_note(request, object_type="report", object_ids=[report_id])
    report = report_selectors.report_get(report_id=report_id)
    audit_note(request, detail={"exam_id": report.study_id})
    context = {
        "report": report,
        "study": report.study,
        "sections": nlp.split_sections(report.content),
        "query": request.GET.get("q", ""),
    }
    return render(request, "web/reports/detail.html", context)


# ---------------------------------------------------------------- analysis


@web_page("web.analysis.list")
def analysis_list(request: HttpRequest) -> HttpResponse:
    params, problems = parse_query(AnalysisTaskListParams, request.GET)
    tasks, total = web_selectors.analysis_task_page(
        page=params.page, page_size=params.page_size, **params.filters()
    )
    audit_note(
        request,
        object_type="analysis_task",
        object_ids=[t.task_id for t in tasks],
        result_count=total,
    )
    context = {
        "tasks": tasks,
        "form": _form_values(params),
        "problems": problems,
        "pager": _page_info(params.page, params.page_size, total),
        "statuses": labels.choices("task_status"),
        "types": labels.choices("analysis_type"),
        "polling": any(t.status in ACTIVE_STATUSES for t in tasks),
        "poll_seconds": POLL_SECONDS,
    }
    if _fragment(request, "task-table"):
        return render(request, "web/analysis/_table.html", context)
    return render(request, "web/analysis/list.html", context)


@web_page("web.analysis.create", role=Role.ANALYST)
@require_POST
def analysis_create(request: HttpRequest) -> HttpResponse:
    try:
        payload = AnalysisTaskIn.model_validate(_query_data(request.POST))
    except PydanticValidationError as exc:
        raise InvalidInput(_("Choose a study and an analysis type.")) from exc
    task = analysis_services.analysis_create_audited(request, payload, user=request.user)
    return redirect("web:analysis_detail", task_id=task.task_id)


@web_page("web.analysis.view")
def analysis_detail(request: HttpRequest, task_id: str) -> HttpResponse:
    audit_note(request, object_type="analysis_task", object_ids=[task_id])
    task = analysis_selectors.analysis_task_get(task_id=task_id)
    audit_note(request, detail={"exam_id": task.study_id})
    context = {
        "task": task,
        "study": task.study,
        "error_message": analysis_messages.task_error(task, translation.get_language()),
        "view": result_view(task.result),
        "active": task.status in ACTIVE_STATUSES,
        "poll_seconds": POLL_SECONDS,
    }
    if _fragment(request, "task-body"):
        return render(request, "web/analysis/_task_body.html", context)
    return render(request, "web/analysis/detail.html", context)


@web_page("web.analysis.cancel", role=Role.ANALYST)
@require_POST
def analysis_cancel(request: HttpRequest, task_id: str) -> HttpResponse:
    audit_note(request, object_type="analysis_task", object_ids=[task_id])
    try:
        analysis_services.analysis_cancel(task_id=task_id, user=request.user)
    except Conflict as exc:
        messages.warning(request, _("Not cancelled: the task had already finished."))
        audit_note(request, detail={"refused": exc.message})
    else:
        messages.success(request, _("The analysis was cancelled."))
    return redirect(_safe_next(request, reverse("web:analysis_detail", args=[task_id])))


# ---------------------------------------------------------------- import (admin)


@web_page("web.import", role=Role.ADMIN)
def import_page(request: HttpRequest) -> HttpResponse:
    """Upload -> dry-run preview (row errors listed) -> commit of the same file; the history."""
    form = ImportForm(request.POST or None, request.FILES or None)
    outcome = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            outcome = _run_import(request, form)
            status = outcome["status"]
        else:
            status = 422
    try:
        batch_page = int(request.GET.get("page", "1"))
    except ValueError:
        batch_page = 1
    batches, total = paginate(
        ingest_selectors.import_batch_list(), page=max(batch_page, 1), page_size=BATCHES_PER_PAGE
    )
    context = {
        "form": form,
        "outcome": outcome,
        "batches": batches,
        "pager": _page_info(max(batch_page, 1), BATCHES_PER_PAGE, total),
        "max_upload_mb": f"{settings.MAX_UPLOAD_MB:g}",
    }
    if request.method == "POST" and _fragment(request, "import-outcome"):
        return render(request, "web/import/_outcome.html", context, status=status)
    return render(request, "web/import/page.html", context, status=status)


def _run_import(request: HttpRequest, form: ImportForm) -> dict[str, Any]:
    upload = form.cleaned_data["file"]
    kind = form.cleaned_data["kind"]
    dry_run = request.POST.get("action") != "commit"
    options = {
        "on_duplicate": form.cleaned_data["on_duplicate"],
        "dry_run": dry_run,
        "on_invalid": form.cleaned_data["on_invalid"] or "reject",
    }
    audit_note(
        request,
        action=f"web.import.{kind}",
        object_type="import",
        detail={"file_name": upload.name, **options},
    )
    try:
        result = ingest_services.import_file(
            kind=kind,
            source=upload,
            file_name=upload.name,
            user=request.user,
            origin="web",
            **options,
        )
        message, code, status, ok = "", "", 200, True
    except ingest_services.ImportRefused as exc:
        result, status, ok = exc.result, exc.status_code, False
        message, code = (
            "; ".join(ingest_messages.text(p.code, p.params) for p in exc.problems),
            exc.code,
        )
    language = translation.get_language()
    result = {
        **result,
        "errors": ingest_messages.localize_problems(result.get("errors", []), language),
        "warnings": ingest_messages.localize_problems(result.get("warnings", []), language),
    }
    if result.get("batch_id"):
        audit_note(request, object_ids=[result["batch_id"]], result_count=result.get("rows_total"))
    return {
        "ok": ok,
        "dry_run": dry_run,
        "kind": kind,
        "on_duplicate": options["on_duplicate"],
        "message": message,
        "code": code,
        "status": status,
        "result": result,
    }


@web_page("web.import.rejected", role=Role.ADMIN)
@require_GET
def import_rejected(request: HttpRequest, batch_id: str) -> HttpResponse:
    """The rows a partial import left out, with their problems in the page's language."""
    audit_note(request, object_type="import", object_ids=[batch_id])
    batch, rows = ingest_api.kept_rejected_rows(batch_id, translation.get_language())
    audit_note(request, result_count=len(rows["rows"]))
    return ingest_api.rejected_response(batch, rows, translation.get_language())
