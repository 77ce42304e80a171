"""The locked studies contract: whole bodies, validation, sorting, trailing slashes."""

from http import HTTPStatus

import pytest

from studies.models import Study
from tests.factories import StudyFactory, local
from tests.studies.factories import make_studies

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/studies/search"


@pytest.fixture
def three_studies():
    # `...`: the factory's value, where the tests do not look at that field.
    return make_studies(
        "exam_id medical_record_no application_order_no patient_name patient_gender patient_age"
        " exam_status exam_source exam_item equipment_type exam_description order_datetime"
        " check_in_datetime report_certification_datetime certified_physician",
        ("EXAM001", "MRN001", "AO001", "Zhang Wei", "M", 45, "completed", "CT", "Chest CT", "CT",
         "Small nodule in the right upper lobe", local(2025, 11, 6, 10, 30),
         local(2025, 11, 6, 10, 45), local(2025, 11, 6, 14, 30), "Dr. Li"),
        ("EXAM002", "MRN002", None, "王芳", "F", None, "pending", "MRI", "Abdominal CT", None,
         None, local(2025, 11, 7, 9, 0), None, None, None),
        ("EXAM003", "MRN001", ..., "张伟", None, 3, "completed", "X-ray", "Chest CT", "DR",
         ..., local(2025, 11, 5, 8, 0), None, None, None),
    )  # fmt: skip


def test_search_body_matches_the_contract_field_for_field(viewer, three_studies):
    # exam_source: "zhang" also finds 张伟 (EXAM003, from X-ray) by its pinyin.
    response = viewer.get(SEARCH, {"q": "zhang", "exam_source": "CT"})
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "data": [
            {
                "exam_id": "EXAM001",
                "patient_name": "Zhang Wei",
                "patient_gender": "M",
                "patient_age": 45,
                "exam_status": "completed",
                "exam_source": "CT",
                "exam_item": "Chest CT",
                "order_datetime": "2025-11-06T10:30:00",
                "check_in_datetime": "2025-11-06T10:45:00",
                "report_certification_datetime": "2025-11-06T14:30:00",
            }
        ],
        "total": 1,
        "page": 1,
        "page_size": 20,
        "filters": {
            "exam_statuses": ["completed", "pending"],
            "exam_sources": ["CT", "MRI", "X-ray"],
            "exam_items": ["Abdominal CT", "Chest CT"],
        },
    }
    assert list(response.json()) == ["data", "total", "page", "page_size", "filters"]
    assert list(response.json()["data"][0]) == [
        "exam_id", "patient_name", "patient_gender", "patient_age", "exam_status", "exam_source",
        "exam_item", "order_datetime", "check_in_datetime", "report_certification_datetime",
    ]  # fmt: skip


def test_search_default_order_is_newest_first(viewer, three_studies):
    body = viewer.get(SEARCH).json()
    assert [s["exam_id"] for s in body["data"]] == ["EXAM002", "EXAM001", "EXAM003"]
    assert body["data"][0]["patient_age"] is None
    assert body["data"][0]["check_in_datetime"] is None


def test_detail_body_has_every_study_field(viewer, three_studies):
    response = viewer.get("/api/v1/studies/EXAM002")
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "exam_id": "EXAM002",
        "medical_record_no": "MRN002",
        "application_order_no": None,
        "patient_name": "王芳",
        "patient_gender": "F",
        "patient_age": None,
        "exam_status": "pending",
        "exam_source": "MRI",
        "exam_item": "Abdominal CT",
        "equipment_type": None,
        "exam_description": None,
        "order_datetime": "2025-11-07T09:00:00",
        "check_in_datetime": None,
        "report_certification_datetime": None,
        "certified_physician": None,
    }


def test_detail_of_unknown_study_is_404(viewer):
    response = viewer.get("/api/v1/studies/NOPE")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"detail": "Study not found"}


def test_filter_options_body(viewer, three_studies):
    StudyFactory(exam_status="", exam_source="门诊", exam_item="头颅CT平扫", equipment_type="")
    response = viewer.get("/api/v1/studies/filters/options")
    assert response.json() == {
        "exam_statuses": ["completed", "pending"],
        "exam_sources": ["CT", "MRI", "X-ray", "门诊"],
        "exam_items": ["Abdominal CT", "Chest CT", "头颅CT平扫"],
        "equipment_types": ["CT", "DR"],
    }


def test_filter_lists_cover_all_studies_not_only_matches(viewer, three_studies):
    body = viewer.get(SEARCH, {"exam_status": "pending"}).json()
    assert body["total"] == 1
    assert body["filters"]["exam_statuses"] == ["completed", "pending"]


def test_filter_lists_sort_by_code_point_not_locale(viewer):
    for value in ["b", "B", "a", "Ä", "张", "A"]:
        StudyFactory(exam_item=value)
    items = viewer.get(SEARCH).json()["filters"]["exam_items"]
    assert items == ["A", "B", "a", "b", "Ä", "张"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"exam_status": "completed"}, ["EXAM001", "EXAM003"]),
        ({"exam_source": "MRI"}, ["EXAM002"]),
        ({"exam_item": "Chest CT"}, ["EXAM001", "EXAM003"]),
        ({"equipment_type": "DR"}, ["EXAM003"]),
        ({"patient_gender": "F"}, ["EXAM002"]),
        ({"exam_status": "completed", "exam_item": "Chest CT", "exam_source": "CT"}, ["EXAM001"]),
        ({"date_from": "2025-11-06", "date_to": "2025-11-06"}, ["EXAM001"]),
        ({"date_from": "2025-11-06"}, ["EXAM002", "EXAM001"]),
        ({"date_to": "2025-11-05"}, ["EXAM003"]),
        ({"q": "NODULE"}, ["EXAM001"]),
        ({"q": "张"}, ["EXAM003"]),
        ({"q": "abdominal"}, ["EXAM002"]),
        ({"q": "exam003"}, ["EXAM003"]),
        ({"q": "MRN001"}, ["EXAM001", "EXAM003"]),
        ({"q": "AO001"}, ["EXAM001"]),
        ({"q": "  Wei  "}, ["EXAM001", "EXAM003"]),  # 张伟 by its pinyin, zhangwei
        ({"q": ""}, ["EXAM002", "EXAM001", "EXAM003"]),
    ],
)
def test_search_filters(viewer, three_studies, params, expected):
    body = viewer.get(SEARCH, params).json()
    assert [s["exam_id"] for s in body["data"]] == expected
    assert body["total"] == len(expected)


@pytest.mark.parametrize(
    "q", ["%", "_", "'", '"', "'; DROP TABLE studies_study; --", "1 OR 1=1", "\\", "%_%"]
)
def test_search_q_special_characters_are_plain_text(viewer, three_studies, q):
    StudyFactory(exam_id="LIT", patient_name=f"a{q}b")
    body = viewer.get(SEARCH, {"q": q}).json()
    assert [s["exam_id"] for s in body["data"]] == ["LIT"]


def test_search_q_chinese_text(viewer, three_studies):
    StudyFactory(exam_id="CN1", patient_name="李明", exam_description="右肺上叶见结节")
    body = viewer.get(SEARCH, {"q": "结节"}).json()
    assert [s["exam_id"] for s in body["data"]] == ["CN1"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("order_datetime", ["EXAM003", "EXAM001", "EXAM002"]),
        ("-order_datetime", ["EXAM002", "EXAM001", "EXAM003"]),
        ("patient_name", ["EXAM001", "EXAM003", "EXAM002"]),
        ("-patient_name", ["EXAM002", "EXAM003", "EXAM001"]),
        ("exam_id", ["EXAM001", "EXAM002", "EXAM003"]),
        ("-exam_id", ["EXAM003", "EXAM002", "EXAM001"]),
        ("patient_age", ["EXAM003", "EXAM001", "EXAM002"]),
        ("-patient_age", ["EXAM001", "EXAM003", "EXAM002"]),
        ("exam_status", ["EXAM001", "EXAM003", "EXAM002"]),
        ("-exam_item", ["EXAM001", "EXAM003", "EXAM002"]),
    ],
)
def test_search_sorting_with_nulls_last_and_ties_by_exam_id(viewer, three_studies, sort, expected):
    body = viewer.get(SEARCH, {"sort": sort}).json()
    assert [s["exam_id"] for s in body["data"]] == expected


def test_pagination_is_stable_and_complete(viewer):
    for n in range(25):
        StudyFactory(exam_id=f"P{n:03d}", order_datetime=local(2025, 1, 1 + n % 3, 8, 0))
    seen = []
    for page in (1, 2, 3):
        body = viewer.get(SEARCH, {"page": page, "page_size": 10}).json()
        assert body["total"] == 25
        assert body["page"] == page
        assert body["page_size"] == 10
        seen += [s["exam_id"] for s in body["data"]]
    assert len(seen) == 25
    assert len(set(seen)) == 25


def test_page_past_the_end_is_empty_with_true_total(viewer, three_studies):
    body = viewer.get(SEARCH, {"page": 99}).json()
    assert body["data"] == []
    assert body["total"] == 3
    assert body["page"] == 99


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": 0}, "page"),
        ({"page": -1}, "page"),
        ({"page": "abc"}, "page"),
        ({"page": "1.5"}, "page"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 101}, "page_size"),
        ({"page_size": "x"}, "page_size"),
        ({"sort": "unknown_field"}, "sort"),
        ({"sort": "-exam_description"}, "sort"),
        ({"date_from": "2025-13-01"}, "date_from"),
        ({"date_to": "yesterday"}, "date_to"),
        ({"patient_gender": "X"}, "patient_gender"),
    ],
)
def test_invalid_search_parameters_are_422_with_field_errors(viewer, params, field):
    response = viewer.get(SEARCH, params)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    errors = response.json()["detail"]
    assert isinstance(errors, list)
    assert errors[0]["loc"][-1] == field


def test_date_from_after_date_to_is_422(viewer):
    response = viewer.get(SEARCH, {"date_from": "2025-11-07", "date_to": "2025-11-06"})
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    detail = response.json()["detail"]
    assert isinstance(detail, list)
    assert "date_from must not be after date_to" in detail[0]["msg"]


def test_page_size_bounds_are_accepted(viewer, three_studies):
    assert viewer.get(SEARCH, {"page_size": 1}).json()["page_size"] == 1
    assert viewer.get(SEARCH, {"page_size": 100}).json()["page_size"] == 100


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/studies/search",
        "/api/v1/studies/search/",
        "/api/v1/studies/EXAM001",
        "/api/v1/studies/EXAM001/",
        "/api/v1/studies/filters/options",
        "/api/v1/studies/filters/options/",
        "/api/v1/health/",
        "/api/v1/auth/me/",
    ],
)
def test_paths_work_with_and_without_trailing_slash(viewer, three_studies, path):
    response = viewer.get(path)
    assert response.status_code == HTTPStatus.OK


def test_datetimes_show_local_wall_clock_time(viewer, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    StudyFactory(exam_id="TZ1", order_datetime=local(2025, 11, 6, 10, 30))
    body = viewer.get("/api/v1/studies/TZ1").json()
    assert body["order_datetime"] == "2025-11-06T10:30:00"


def test_search_uses_a_fixed_number_of_queries(viewer, three_studies, django_assert_num_queries):

    # auth (with the data versions), count, page, four filter lists (uncached inside the
    # test's transaction), audit; on PostgreSQL the first search of a term reads its page's
    # keys with the total (a window count) instead of the count, then the page's rows.
    with django_assert_num_queries(8):
        viewer.get(SEARCH, {"q": "zhang", "exam_status": "completed"})


def test_detail_uses_a_fixed_number_of_queries(viewer, three_studies, django_assert_num_queries):
    # auth, the study, audit
    with django_assert_num_queries(3):
        viewer.get("/api/v1/studies/EXAM001")


def test_export_uses_a_fixed_number_of_queries(viewer, three_studies, django_assert_num_queries):
    # auth, the count, the rows (one cursor, however many rows), audit
    with django_assert_num_queries(4):
        response = viewer.get("/api/v1/studies/export")
        b"".join(response.streaming_content)


def _assert_finds_what_a_plain_scan_finds(viewer, q: str) -> None:
    expected = sorted(
        s.exam_id
        for s in Study.objects.all()
        if any(
            q.lower() in (v or "").lower()
            for v in (s.patient_name, s.exam_item, s.exam_description)
        )
        or q in (s.exam_id, s.medical_record_no, s.application_order_no)
    )
    body = viewer.get(SEARCH, {"q": q, "page_size": 100}).json()
    assert sorted(s["exam_id"] for s in body["data"]) == expected
    assert body["total"] == len(expected)


@pytest.mark.parametrize("q", ["王伟", "伟Z", "12", "zz", "ße", "１２", "结节"])
def test_two_character_terms_find_the_same_studies_as_a_plain_scan(viewer, three_studies, q):
    # Terms without case (Chinese, digits) are matched without UPPER(); the rows are the same.
    StudyFactory(exam_id="TWO1", patient_name="王伟", exam_item="Straße 12")
    StudyFactory(exam_id="TWO2", patient_name="A伟z", exam_description="ZZ 伟Z 结节")
    StudyFactory(exam_id="TWO3", patient_name="王 伟", exam_description="１２ 结 节")
    _assert_finds_what_a_plain_scan_finds(viewer, q)


def test_only_terms_without_letter_case_skip_upper():
    from core.search.query import is_caseless

    assert [is_caseless(q) for q in ("结节", "12", "１２", "王3")] == [True] * 4
    assert [is_caseless(q) for q in ("", "ab", "王a", "ß", "ⓐ", "Σ", "王 伟", "%")] == [False] * 8


def test_the_short_search_index_matches_the_search_expression():
    import importlib

    from studies import selectors

    migration = importlib.import_module("studies.migrations.0006_text_chars_codepoint")
    assert migration.TEXT_CHARS == selectors.TEXT_CHARS


@pytest.mark.parametrize("q", ["王", "z", "Z", "%", "_", "\\", "ß", "伟"])
def test_one_character_terms_find_the_same_studies_as_a_plain_scan(viewer, three_studies, q):
    StudyFactory(exam_id="ONE1", patient_name="王z%", exam_item="Straße")
    StudyFactory(exam_id="ONE2", patient_name="a_b\\c", exam_description="ZZ 伟")
    _assert_finds_what_a_plain_scan_finds(viewer, q)
