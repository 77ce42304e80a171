"""Analysis API: create, list, detail, cancel, statistics, options (SPEC section 3)."""

import json
import re
from datetime import timedelta
from http import HTTPStatus
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import Role
from analysis.models import AnalysisTask
from audit.models import AuditEvent
from tests.analysis.factories import AnalysisTaskFactory
from tests.factories import ReportFactory, StudyFactory, local

pytestmark = pytest.mark.django_db

TASKS = "/api/v1/analysis/tasks"
VOLATILE = ("task_id", "created_at", "updated_at")
DOC = Path(__file__).resolve().parents[2] / "docs" / "api" / "API_CONTRACT.md"


@pytest.fixture
def analyst(api) -> Client:
    return api(Role.ANALYST, username="analyst1")


@pytest.fixture
def study():
    return StudyFactory(exam_id="EXAM001", medical_record_no="MRN001")


def _pop_volatile(body: dict) -> dict:
    for key in VOLATILE:
        value = body.pop(key)
        if key == "task_id":
            assert re.fullmatch(r"[0-9a-f]{32}", value), value
        else:
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", value), value
    return body


# ------------------------------------------------------------------ create


def test_create_returns_201_with_the_pending_task(analyst, study):
    response = analyst.post(
        TASKS,
        {"exam_id": "EXAM001", "analysis_type": "general", "description": "Chest follow-up"},
        content_type="application/json",
    )
    assert response.status_code == HTTPStatus.CREATED
    body = response.json()
    task_id = body["task_id"]
    assert _pop_volatile(body) == {
        "exam_id": "EXAM001",
        "analysis_type": "general",
        "status": "pending",
        "progress": 0,
        "description": "Chest follow-up",
        "result": None,
        "error_message": None,
        "error_code": None,
        "created_by": "analyst1",
        "started_at": None,
        "completed_at": None,
    }
    task = AnalysisTask.objects.get(task_id=task_id)
    assert task.created_by == analyst.user
    assert task.attempts == 0


def test_create_without_description_shows_null(analyst, study):
    body = analyst.post(
        TASKS,
        {"exam_id": "EXAM001", "analysis_type": "comparison"},
        content_type="application/json",
    ).json()
    assert body["description"] is None
    assert body["analysis_type"] == "comparison"


def test_create_queues_one_run_after_commit(analyst, study, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        body = analyst.post(
            TASKS,
            {"exam_id": "EXAM001", "analysis_type": "detailed"},
            content_type="application/json",
        ).json()
    assert len(callbacks) == 1
    entry = DBTaskResult.objects.get()
    assert entry.status == "READY"
    assert entry.task_path == "analysis.tasks.run_analysis_task"
    assert entry.args_kwargs == {"args": [], "kwargs": {"task_id": body["task_id"]}}
    assert AnalysisTask.objects.get(task_id=body["task_id"]).queue_result_id == str(entry.id)


def test_create_for_an_unknown_study_is_404(analyst):
    response = analyst.post(
        TASKS, {"exam_id": "NOPE", "analysis_type": "general"}, content_type="application/json"
    )
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"detail": "Study not found"}
    assert not AnalysisTask.objects.exists()


def test_create_with_an_unknown_type_is_422(analyst, study):
    response = analyst.post(
        TASKS, {"exam_id": "EXAM001", "analysis_type": "magic"}, content_type="application/json"
    )
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {
        "detail": [
            {
                "type": "literal_error",
                "loc": ["body", "payload", "analysis_type"],
                "msg": "Input should be 'general', 'detailed' or 'comparison'",
                "ctx": {"expected": "'general', 'detailed' or 'comparison'"},
            }
        ]
    }


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"analysis_type": "general"}, "exam_id"),
        ({"exam_id": "EXAM001"}, "analysis_type"),
        ({"exam_id": "", "analysis_type": "general"}, "exam_id"),
        (
            {"exam_id": "EXAM001", "analysis_type": "general", "description": "x" * 2001},
            "description",
        ),
    ],
)
def test_create_with_bad_input_is_422(analyst, study, payload, field):
    response = analyst.post(TASKS, payload, content_type="application/json")
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "payload", field]]


# ------------------------------------------------------------------ permissions


ENDPOINTS = [
    ("post", TASKS),
    ("get", TASKS),
    ("get", f"{TASKS}/T1"),
    ("delete", f"{TASKS}/T1"),
    ("get", "/api/v1/analysis/statistics"),
    ("get", "/api/v1/analysis/options"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_needs_a_token(db, method, path):
    response = getattr(Client(), method)(path)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"detail": "Not authenticated"}


@pytest.mark.parametrize(
    ("role", "method", "path", "expected"),
    [
        (Role.VIEWER, "post", TASKS, HTTPStatus.FORBIDDEN),
        (Role.VIEWER, "delete", f"{TASKS}/T1", HTTPStatus.FORBIDDEN),
        (Role.VIEWER, "get", TASKS, HTTPStatus.OK),
        (Role.VIEWER, "get", f"{TASKS}/T1", HTTPStatus.OK),
        (Role.VIEWER, "get", "/api/v1/analysis/statistics", HTTPStatus.OK),
        (Role.VIEWER, "get", "/api/v1/analysis/options", HTTPStatus.OK),
        (Role.ANALYST, "post", TASKS, HTTPStatus.CREATED),
        (Role.ANALYST, "delete", f"{TASKS}/T1", HTTPStatus.OK),
        (Role.ADMIN, "post", TASKS, HTTPStatus.CREATED),
        (Role.ADMIN, "delete", f"{TASKS}/T1", HTTPStatus.OK),
    ],
)
def test_roles(api, study, role, method, path, expected):
    client = api(role)
    # The caller's own task: whose task may be cancelled is tests/security/test_cancel_ownership
    AnalysisTaskFactory(task_id="T1", study=study, created_by=client.user)
    if method == "post":
        response = client.post(
            path,
            {"exam_id": "EXAM001", "analysis_type": "general"},
            content_type="application/json",
        )
    else:
        response = getattr(client, method)(path)
    assert response.status_code == expected
    if expected == HTTPStatus.FORBIDDEN:
        assert response.json() == {"detail": "This action requires the analyst role"}
        assert AnalysisTask.objects.get().status == "pending"


@pytest.mark.parametrize("method", ["get", "delete"])
def test_paths_work_with_a_trailing_slash(analyst, study, method):
    AnalysisTaskFactory(task_id="T1", study=study, created_by=analyst.user)
    response = getattr(analyst, method)(f"{TASKS}/T1/")
    assert response.status_code == HTTPStatus.OK
    assert analyst.get(f"{TASKS}/").status_code == HTTPStatus.OK


# ------------------------------------------------------------------ list and detail


@pytest.fixture
def listed(study):
    other = StudyFactory(exam_id="EXAM002")
    t0 = local(2025, 11, 6, 10, 0)
    return [
        AnalysisTaskFactory(task_id="a1", study=study, created_at=t0, analysis_type="general"),
        AnalysisTaskFactory(
            task_id="b2",
            study=study,
            created_at=t0 + timedelta(hours=1),
            analysis_type="detailed",
            status="completed",
            progress=100,
            result={"analysis_type": "detailed"},
        ),
        AnalysisTaskFactory(
            task_id="c3",
            study=other,
            created_at=t0 + timedelta(hours=1),
            analysis_type="comparison",
            status="failed",
            error_message="It broke",
        ),
        AnalysisTaskFactory(
            task_id="d4",
            study=other,
            created_at=t0 + timedelta(hours=2),
            status="cancelled",
            created_by_username="",
        ),
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["d4", "b2", "c3", "a1"]),
        ({"status": "completed"}, ["b2"]),
        ({"status": "pending"}, ["a1"]),
        ({"analysis_type": "general"}, ["d4", "a1"]),
        ({"exam_id": "EXAM001"}, ["b2", "a1"]),
        ({"exam_id": "EXAM002", "status": "failed", "analysis_type": "comparison"}, ["c3"]),
        ({"exam_id": "NOPE"}, []),
        ({"page_size": 2}, ["d4", "b2"]),
        ({"page_size": 2, "page": 2}, ["c3", "a1"]),
        ({"page_size": 2, "page": 3}, []),
    ],
)
def test_list_filters_newest_first_with_ties_by_task_id(viewer, listed, params, expected):
    body = viewer.get(TASKS, params).json()
    assert [t["task_id"] for t in body["data"]] == expected
    filtered = {k: v for k, v in params.items() if k not in ("page", "page_size")}
    assert (
        body["total"]
        == AnalysisTask.objects.filter(
            **{("study_id" if k == "exam_id" else k): v for k, v in filtered.items()}
        ).count()
    )
    assert body["page"] == params.get("page", 1)
    assert body["page_size"] == params.get("page_size", 20)


def test_list_items_are_whole_tasks(viewer, listed):
    body = viewer.get(TASKS, {"status": "failed"}).json()
    item = body["data"][0]
    assert item.pop("updated_at")
    assert body == {
        "data": [
            {
                "task_id": "c3",
                "exam_id": "EXAM002",
                "analysis_type": "comparison",
                "status": "failed",
                "progress": 0,
                "description": None,
                "result": None,
                "error_message": "It broke",
                "error_code": None,
                "created_by": "analyst1",
                "created_at": "2025-11-06T11:00:00",
                "started_at": None,
                "completed_at": None,
            }
        ],
        "total": 1,
        "page": 1,
        "page_size": 20,
    }


def test_list_query_count_does_not_grow_with_the_page(viewer, listed, django_assert_num_queries):
    # Authentication (1) + count (1) + page (1); the audit event (1) is written after.
    with django_assert_num_queries(4):
        viewer.get(TASKS)
    AnalysisTaskFactory.create_batch(10)
    with django_assert_num_queries(4):
        assert len(viewer.get(TASKS).json()["data"]) == 14


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "done"}, "status"),
        ({"analysis_type": "magic"}, "analysis_type"),
        ({"page": 0}, "page"),
        ({"page_size": 101}, "page_size"),
    ],
)
def test_list_with_bad_parameters_is_422(viewer, params, field):
    response = viewer.get(TASKS, params)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert [e["loc"] for e in response.json()["detail"]] == [["query", field]]


def test_detail_shows_progress_result_and_timestamps(viewer, study):
    AnalysisTaskFactory(
        task_id="T1",
        study=study,
        analysis_type="detailed",
        status="completed",
        progress=100,
        description="Look closely",
        result={"analysis_type": "detailed", "counts": {"sentences": 3}},
        created_at=local(2025, 11, 6, 10, 0),
        started_at=local(2025, 11, 6, 10, 0, 5),
        completed_at=local(2025, 11, 6, 10, 0, 6),
    )
    response = viewer.get(f"{TASKS}/T1")
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body.pop("updated_at")
    assert body == {
        "task_id": "T1",
        "exam_id": "EXAM001",
        "analysis_type": "detailed",
        "status": "completed",
        "progress": 100,
        "description": "Look closely",
        "result": {"analysis_type": "detailed", "counts": {"sentences": 3}},
        "error_message": None,
        "error_code": None,
        "created_by": "analyst1",
        "created_at": "2025-11-06T10:00:00",
        "started_at": "2025-11-06T10:00:05",
        "completed_at": "2025-11-06T10:00:06",
    }


def test_detail_of_an_unknown_task_is_404(viewer):
    response = viewer.get(f"{TASKS}/NOPE")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"detail": "Analysis task not found"}


# ------------------------------------------------------------------ cancel


@pytest.mark.parametrize("status", ["pending", "processing"])
def test_cancel_an_active_task(analyst, study, status):
    AnalysisTaskFactory(
        task_id="T1", study=study, status=status, progress=30, created_by=analyst.user
    )
    response = analyst.delete(f"{TASKS}/T1")
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["progress"] == 30
    assert body["result"] is None
    assert body["completed_at"] is not None
    assert AnalysisTask.objects.get().status == "cancelled"


@pytest.mark.parametrize("status", ["completed", "failed", "cancelled"])
def test_cancel_a_finished_task_is_409(analyst, study, status):
    result = {"analysis_type": "general"} if status == "completed" else None
    AnalysisTaskFactory(
        task_id="T1", study=study, status=status, result=result, created_by=analyst.user
    )
    response = analyst.delete(f"{TASKS}/T1")
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json() == {
        "detail": f"Analysis task is already {status} and cannot be cancelled"
    }
    task = AnalysisTask.objects.get()
    assert (task.status, task.result) == (status, result)


def test_cancel_an_unknown_task_is_404(analyst):
    response = analyst.delete(f"{TASKS}/NOPE")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"detail": "Analysis task not found"}


# ------------------------------------------------------------------ statistics and options


def test_statistics_of_no_tasks(viewer):
    assert viewer.get("/api/v1/analysis/statistics").json() == {
        "total": 0,
        "by_status": {"pending": 0, "processing": 0, "completed": 0, "failed": 0, "cancelled": 0},
        "by_type": {"general": 0, "detailed": 0, "comparison": 0},
        "completed_last_24h": 0,
        "mean_processing_seconds": None,
        "success_rate": None,
    }


def test_statistics_agree_with_a_mix_of_tasks(viewer, study):
    now = timezone.now()

    def completed(seconds: float, finished_ago: timedelta, kind: str = "general"):
        done = now - finished_ago
        return AnalysisTaskFactory(
            study=study,
            analysis_type=kind,
            status="completed",
            progress=100,
            result={},
            started_at=done - timedelta(seconds=seconds),
            completed_at=done,
        )

    completed(2.0, timedelta(hours=1))
    completed(4.0, timedelta(hours=23, minutes=59), kind="detailed")
    completed(9.0, timedelta(hours=25), kind="comparison")  # outside the last 24 h
    AnalysisTaskFactory(study=study, status="failed", analysis_type="comparison")
    AnalysisTaskFactory(study=study, status="cancelled", completed_at=now)
    AnalysisTaskFactory(study=study, status="processing", analysis_type="detailed")
    AnalysisTaskFactory.create_batch(2, study=study, status="pending", analysis_type="comparison")

    assert viewer.get("/api/v1/analysis/statistics").json() == {
        "total": 8,
        "by_status": {"pending": 2, "processing": 1, "completed": 3, "failed": 1, "cancelled": 1},
        "by_type": {"general": 2, "detailed": 2, "comparison": 4},
        "completed_last_24h": 2,
        "mean_processing_seconds": 5.0,
        "success_rate": 0.75,
    }


def test_options(viewer):
    body = viewer.get("/api/v1/analysis/options").json()
    assert [(t["value"], t["label"]) for t in body["analysis_types"]] == [
        ("general", "General analysis"),
        ("detailed", "Detailed analysis"),
        ("comparison", "Comparison analysis"),
    ]
    assert all(t["description"] for t in body["analysis_types"])
    assert body["statuses"] == [
        {"value": "pending", "label": "Pending"},
        {"value": "processing", "label": "Processing"},
        {"value": "completed", "label": "Completed"},
        {"value": "failed", "label": "Failed"},
        {"value": "cancelled", "label": "Cancelled"},
    ]


# ------------------------------------------------------------------ audit


def test_each_call_is_audited_with_its_action(analyst, study):
    AnalysisTaskFactory(task_id="T1", study=study, created_by=analyst.user)
    created = analyst.post(
        TASKS, {"exam_id": "EXAM001", "analysis_type": "general"}, content_type="application/json"
    ).json()
    analyst.get(TASKS)
    analyst.get(f"{TASKS}/T1")
    analyst.delete(f"{TASKS}/T1")
    analyst.get("/api/v1/analysis/statistics")
    analyst.get("/api/v1/analysis/options")
    analyst.post(
        TASKS, {"exam_id": "NOPE", "analysis_type": "general"}, content_type="application/json"
    )
    events = list(
        AuditEvent.objects.filter(action__startswith="analysis.")
        .order_by("id")
        .values_list("action", "outcome", "object_ids", "username")
    )
    assert events == [
        ("analysis.create", "success", [created["task_id"]], "analyst1"),
        ("analysis.list", "success", [created["task_id"], "T1"], "analyst1"),
        ("analysis.view", "success", ["T1"], "analyst1"),
        ("analysis.cancel", "success", ["T1"], "analyst1"),
        ("analysis.statistics", "success", [], "analyst1"),
        ("analysis.options", "success", [], "analyst1"),
        ("analysis.create", "failure", [], "analyst1"),
    ]
    assert AuditEvent.objects.filter(action="analysis.create").order_by("id").first().detail == {
        "exam_id": "EXAM001",
        "analysis_type": "general",
    }


# ------------------------------------------------------------------ the contract document


def _doc_examples() -> list:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    return [json.loads(block) for block in blocks]


def _keys(value: object) -> object:
    if isinstance(value, dict):
        return {k: _keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_keys(value[0])] if value and isinstance(value[0], dict) else []
    return None


def test_contract_examples_have_the_keys_the_api_returns(analyst, study):
    AnalysisTaskFactory(task_id="T1", study=study)
    documented = [_keys(e) for e in _doc_examples()]
    live = {
        "task": analyst.get(f"{TASKS}/T1").json(),
        "list": analyst.get(TASKS).json(),
        "statistics": analyst.get("/api/v1/analysis/statistics").json(),
        "options": analyst.get("/api/v1/analysis/options").json(),
    }
    for name, body in live.items():
        assert _keys(body) in documented, name


@pytest.mark.parametrize("kind", ["general", "detailed", "comparison"])
def test_contract_has_an_example_result_of_each_type(kind):
    """Each type's documented result has the top-level keys the analysis produces."""
    import nlp
    from analysis import selectors

    mrn = "MRN-DOC"
    prior = StudyFactory(medical_record_no=mrn, order_datetime=local(2025, 1, 1, 9, 0))
    current = StudyFactory(medical_record_no=mrn, order_datetime=local(2025, 4, 1, 9, 0))
    ReportFactory(study=prior, content="FINDINGS: 6 mm nodule in the right upper lobe.")
    ReportFactory(study=current, content="FINDINGS: 9 mm nodule in the right upper lobe.")
    study_dict = selectors.study_payload(current)
    reports = selectors.report_payloads(exam_id=current.exam_id)
    if kind == "general":
        live = nlp.analyze_general(study_dict, reports)
    elif kind == "detailed":
        live = nlp.analyze_detailed(study_dict, reports)
    else:
        prior_dict = nlp.select_prior(study_dict, selectors.prior_candidates(current))
        live = nlp.analyze_comparison(
            study_dict, reports, prior_dict, selectors.report_payloads(exam_id=prior.exam_id)
        )
    results = [
        e["result"]
        for e in _doc_examples()
        if isinstance(e, dict) and isinstance(e.get("result"), dict)
    ]
    documented = [r for r in results if r.get("analysis_type") == kind]
    assert documented, f"no documented {kind} result"
    assert set(documented[0]) == set(live)
