"""Reports: search with snippets, detail, filter options."""

from http import HTTPStatus

import pytest
from django.test import Client

from audit.models import AuditEvent
from reports.models import Report
from reports.selectors import snippet
from tests.factories import ReportFactory, StudyFactory, local

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/reports/search"
LONG_EN = (
    "FINDINGS: The heart size is normal. " * 8
    + "There is an 8 mm Nodule in the right upper lobe. "
    + "No pleural effusion. " * 10
)


@pytest.fixture
def reports():
    chest = StudyFactory(exam_id="EXAM001", patient_name="Zhang Wei", exam_item="Chest CT")
    brain = StudyFactory(exam_id="EXAM002", patient_name="王芳", exam_item="头颅CT平扫")
    a = ReportFactory(
        report_id="R1",
        study=chest,
        radiologist="Dr. Li",
        status="finalized",
        content=LONG_EN,
        created_at=local(2025, 11, 6, 11, 0),
        submitted_at=local(2025, 11, 6, 12, 0),
        reviewed_at=local(2025, 11, 6, 14, 30),
    )
    b = ReportFactory(
        report_id="R2",
        study=brain,
        radiologist="王医生",
        status="draft",
        content="检查所见：左侧基底节区见小片状低密度影。诊断意见：考虑腔隙性脑梗死，未见明显出血。",
        created_at=local(2025, 11, 7, 9, 0),
    )
    c = ReportFactory(
        report_id="R3",
        study=chest,
        radiologist="Dr. Li",
        status="reviewed",
        content="IMPRESSION: 100% improved; value_x stays. No pneumothorax.",
        created_at=local(2025, 11, 5, 9, 0),
    )
    return a, b, c


def test_search_body_field_for_field(viewer, reports):
    response = viewer.get(SEARCH, {"q": "基底节"})
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "data": [
            {
                "report_id": "R2",
                "exam_id": "EXAM002",
                "patient_name": "王芳",
                "exam_item": "头颅CT平扫",
                "radiologist": "王医生",
                "status": "draft",
                "created_at": "2025-11-07T09:00:00",
                "submitted_at": None,
                "reviewed_at": None,
                "snippet": "检查所见：左侧基底节区见小片状低密度影。诊断意见：考虑腔隙性脑梗死，未见明显出血。",
            }
        ],
        "total": 1,
        "page": 1,
        "page_size": 20,
        "filters": {
            "statuses": ["draft", "finalized", "reviewed"],
            "radiologists": ["Dr. Li", "王医生"],
        },
    }


def test_detail_body_with_study(viewer, reports):
    response = viewer.get("/api/v1/reports/R3")
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    updated = body.pop("updated_at")
    assert len(updated) == 19
    assert body == {
        "report_id": "R3",
        "exam_id": "EXAM001",
        "radiologist": "Dr. Li",
        "content": "IMPRESSION: 100% improved; value_x stays. No pneumothorax.",
        "status": "reviewed",
        "created_at": "2025-11-05T09:00:00",
        "submitted_at": None,
        "reviewed_at": None,
        "study": viewer.get("/api/v1/studies/search", {"q": "EXAM001"}).json()["data"][0],
    }


def test_detail_of_unknown_report_is_404(viewer):
    response = viewer.get("/api/v1/reports/NOPE")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"detail": "Report not found"}


def test_filter_options(viewer, reports):
    ReportFactory(radiologist="", status="submitted")
    assert viewer.get("/api/v1/reports/filters/options").json() == {
        "statuses": ["draft", "finalized", "reviewed", "submitted"],
        "radiologists": ["Dr. Li", "王医生"],
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "出血"}, ["R2"]),
        ({"q": "nodule"}, ["R1"]),
        ({"q": "NO PNEUMOTHORAX"}, ["R3"]),
        ({"q": "%"}, ["R3"]),
        ({"q": "_x"}, ["R3"]),
        ({"q": "100%"}, ["R3"]),
        ({"q": "a_b"}, []),
        ({"status": "draft"}, ["R2"]),
        ({"radiologist": "Dr. Li"}, ["R1", "R3"]),
        ({"exam_id": "EXAM001"}, ["R1", "R3"]),
        ({"exam_id": "EXAM001", "status": "reviewed", "q": "pneumothorax"}, ["R3"]),
        ({"date_from": "2025-11-06", "date_to": "2025-11-06"}, ["R1"]),
        ({"date_from": "2025-11-06"}, ["R2", "R1"]),
        ({"date_to": "2025-11-05"}, ["R3"]),
        ({}, ["R2", "R1", "R3"]),
    ],
)
def test_search_filters(viewer, reports, params, expected):
    body = viewer.get(SEARCH, params).json()
    assert [r["report_id"] for r in body["data"]] == expected
    assert body["total"] == len(expected)


def test_snippet_is_centred_on_the_match_and_at_most_200_characters(viewer, reports):
    item = viewer.get(SEARCH, {"q": "nodule"}).json()["data"][0]
    assert len(item["snippet"]) == 200
    position = item["snippet"].lower().index("nodule")
    assert 70 <= position <= 130
    assert item["snippet"] in LONG_EN


def test_snippet_without_q_is_the_start_of_the_content(viewer, reports):
    item = viewer.get(SEARCH, {"exam_id": "EXAM001", "status": "finalized"}).json()["data"][0]
    assert item["snippet"] == LONG_EN[:200]


@pytest.mark.parametrize(
    ("content", "q", "expected"),
    [
        ("short text", "text", "short text"),
        ("a" * 300 + "X", "x", "a" * 199 + "X"),
        ("X" + "a" * 300, "x", "X" + "a" * 199),
        ("a" * 150 + "MATCH" + "b" * 150, "match", "a" * 98 + "MATCH" + "b" * 97),
        ("a" * 300, "missing", "a" * 200),
        ("a" * 300, None, "a" * 200),
    ],
)
def test_snippet_function(content, q, expected):
    result = snippet(content, q)
    assert result == expected
    assert len(result) <= 200


def test_pagination_is_stable_across_pages(viewer):
    study = StudyFactory()
    for n in range(23):
        ReportFactory(study=study, created_at=local(2025, 1, 1 + n % 4, 8, 0))
    seen = []
    for page in (1, 2, 3):
        seen += [
            r["report_id"]
            for r in viewer.get(SEARCH, {"page": page, "page_size": 10}).json()["data"]
        ]
    assert len(seen) == len(set(seen)) == 23


@pytest.mark.parametrize(
    ("params", "field"),
    [({"page": 0}, "page"), ({"page_size": 101}, "page_size"), ({"page_size": 0}, "page_size"),
     ({"page": "x"}, "page"), ({"date_from": "2025-02-30"}, "date_from")],
)  # fmt: skip
def test_invalid_parameters_are_422(viewer, params, field):
    response = viewer.get(SEARCH, params)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"][0]["loc"][-1] == field


def test_date_from_after_date_to_is_422(viewer):
    response = viewer.get(SEARCH, {"date_from": "2025-11-07", "date_to": "2025-11-06"})
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY


@pytest.mark.parametrize(
    "path", ["/api/v1/reports/search", "/api/v1/reports/R1", "/api/v1/reports/filters/options"]
)
def test_reports_need_a_login(db, path):
    response = Client().get(path)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"detail": "Not authenticated"}


def test_report_search_and_view_are_audited(viewer, reports):
    viewer.get(SEARCH, {"q": "出血"})
    viewer.get("/api/v1/reports/R1")
    search = AuditEvent.objects.get(action="report.search")
    assert search.object_ids == ["R2"]
    assert search.result_count == 1
    assert search.query == {"q": "出血"}
    assert AuditEvent.objects.get(action="report.view").object_ids == ["R1"]


@pytest.mark.parametrize("walks", [False, True], ids=["sorts", "walks"])
def test_search_uses_a_fixed_number_of_queries(
    viewer, reports, django_assert_num_queries, monkeypatch, walks
):
    from django.db import connection

    from reports.search import SPEC

    # Few matches in a window of 5,000 rows: sorted, unless any window is walked.
    monkeypatch.setattr(SPEC, "walk_window_per_match", 10**9 if walks else 2.0)
    # auth (with the data versions), count, page with studies joined, two filter lists,
    # audit; on PostgreSQL a text search also reads the table's size estimate to choose its
    # plan and, when it walks the date index, the date where the walk stops.
    expected = (8 if walks else 7) if connection.vendor == "postgresql" else 6
    with django_assert_num_queries(expected):
        body = viewer.get(SEARCH, {"q": "no", "page_size": 100}).json()
    assert body["total"] == len(body["data"]) > 0


def test_a_first_search_of_letters_counts_and_pages_in_a_fixed_number_of_queries(
    viewer, reports, django_assert_num_queries
):
    # auth, the page's keys with the total (one scan), their reports with their studies, two
    # filter lists, audit.
    with django_assert_num_queries(6):
        body = viewer.get(SEARCH, {"q": "no pneumo", "page_size": 100}).json()
    assert body["total"] == len(body["data"]) == 1


def test_the_short_search_index_matches_the_search_expression():
    import importlib

    from reports import selectors

    migration = importlib.import_module("reports.migrations.0003_content_chars_index")
    assert migration.CONTENT_CHARS == selectors.CONTENT_CHARS


@pytest.mark.parametrize("q", ["出", "出血", "NO", "n", "no pneumo"])
def test_short_and_long_terms_find_the_same_reports_as_a_plain_scan(viewer, reports, q):
    expected = sorted(r.report_id for r in Report.objects.all() if q.lower() in r.content.lower())
    body = viewer.get(SEARCH, {"q": q, "page_size": 100}).json()
    assert sorted(item["report_id"] for item in body["data"]) == expected
    assert body["total"] == len(expected)
