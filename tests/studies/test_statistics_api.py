"""/api/v1/statistics: exact figures of a known department, filters, bad input, access."""

import io
from http import HTTPStatus

import openpyxl
import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db

STUDIES = "/api/v1/statistics/studies"
EXPORT = "/api/v1/statistics/studies/export"
QUALITY = "/api/v1/statistics/quality"
WINDOW = {"date_from": "2025-03-09", "date_to": "2025-03-10"}


def summary(certified, median, p90, mean, within, share):  # noqa: ANN001, ANN201
    return {
        "certified": certified,
        "median_hours": median,
        "p90_hours": p90,
        "mean_hours": mean,
        "within_limit": within,
        "within_limit_share": share,
    }


def test_statistics_of_a_known_window(viewer, department):
    body = viewer.get(STUDIES, WINDOW).json()
    assert body == {
        "date_from": "2025-03-09",
        "date_to": "2025-03-10",
        "unit": "day",
        "total": 6,
        "modalities": ["CT", "MR", None],
        "periods": [
            {
                "start": "2025-03-09",
                "end": "2025-03-09",
                "counts": [
                    {"equipment_type": "CT", "count": 2},
                    {"equipment_type": "MR", "count": 0},
                    {"equipment_type": None, "count": 0},
                ],
                "total": 2,
            },
            {
                "start": "2025-03-10",
                "end": "2025-03-10",
                "counts": [
                    {"equipment_type": "CT", "count": 2},
                    {"equipment_type": "MR", "count": 1},
                    {"equipment_type": None, "count": 1},
                ],
                "total": 4,
            },
        ],
        "statuses": [
            {"exam_status": "已审核", "count": 5},
            {"exam_status": "已登记", "count": 1},
        ],
        "turnaround": {
            "limit_hours": 24.0,
            "certified": 4,
            "uncertified": 1,
            "certified_before_order": 1,
            "buckets": [
                {"from_hours": 0, "to_hours": 1, "count": 1},
                {"from_hours": 1, "to_hours": 2, "count": 0},
                {"from_hours": 2, "to_hours": 4, "count": 1},
                {"from_hours": 4, "to_hours": 8, "count": 0},
                {"from_hours": 8, "to_hours": 24, "count": 0},
                {"from_hours": 24, "to_hours": 48, "count": 1},
                {"from_hours": 48, "to_hours": 72, "count": 0},
                {"from_hours": 72, "to_hours": None, "count": 1},
            ],
            # [0.5, 3, 24, 96] h: the median between 3 and 24, the 90th percentile 70% of the
            # way from 24 to 96 (interpolated as PostgreSQL's percentile_cont).
            "overall": summary(4, 13.5, 74.4, 30.88, 3, 0.75),
            "by_modality": [
                {"equipment_type": "CT", **summary(3, 3.0, 19.8, 9.17, 3, 1.0)},
                {"equipment_type": None, **summary(1, 96.0, 96.0, 96.0, 0, 0.0)},
            ],
            "by_source": [
                {"exam_source": "住院", **summary(1, 96.0, 96.0, 96.0, 0, 0.0)},
                {"exam_source": "门诊", **summary(3, 3.0, 19.8, 9.17, 3, 1.0)},
            ],
        },
    }


@pytest.mark.parametrize(
    ("params", "total", "overall"),
    [
        ({"equipment_type": "CT"}, 4, summary(3, 3.0, 19.8, 9.17, 3, 1.0)),
        ({"exam_source": "住院"}, 2, summary(1, 96.0, 96.0, 96.0, 0, 0.0)),
        ({"exam_status": "已登记"}, 1, summary(0, None, None, None, 0, None)),
        ({"equipment_type": "US"}, 0, summary(0, None, None, None, 0, None)),
    ],
)
def test_statistics_follow_the_studies_list_filters(viewer, department, params, total, overall):
    body = viewer.get(STUDIES, {**WINDOW, **params}).json()
    assert (body["total"], body["turnaround"]["overall"]) == (total, overall)
    listed = viewer.get("/api/v1/studies/search", {**WINDOW, **params}).json()["total"]
    assert listed == total


def test_the_limit_is_the_study_pages_setting(viewer, department, settings):
    settings.ANALYSIS_TURNAROUND_LIMIT_HOURS = 2.5
    overall = viewer.get(STUDIES, WINDOW).json()["turnaround"]["overall"]
    assert (overall["within_limit"], overall["within_limit_share"]) == (1, 0.25)


def test_without_dates_the_window_is_the_30_days_up_to_the_newest_order(viewer, department):
    body = viewer.get(STUDIES).json()
    assert (body["date_from"], body["date_to"], body["total"]) == ("2025-02-10", "2025-03-11", 8)
    only_end = viewer.get(STUDIES, {"date_to": "2025-03-09"}).json()
    assert (only_end["date_from"], only_end["total"]) == ("2025-02-08", 3)
    only_start = viewer.get(STUDIES, {"date_from": "2025-03-10"}).json()
    assert (only_start["date_to"], only_start["total"]) == ("2025-03-11", 5)


@pytest.mark.parametrize(
    ("date_from", "date_to", "unit", "periods", "first", "last"),
    [
        ("2025-01-01", "2025-03-03", "day", 62, ("2025-01-01", "2025-01-01"), ("2025-03-03",) * 2),
        # A year per week, the first and last weeks cut to the window (2025-01-01 a Wednesday).
        ("2025-01-01", "2025-12-31", "week", 53, ("2025-01-01", "2025-01-05"),
         ("2025-12-29", "2025-12-31")),
        ("2024-03-09", "2025-03-10", "month", 13, ("2024-03-09", "2024-03-31"),
         ("2025-03-01", "2025-03-10")),
    ],
)  # fmt: skip
def test_long_windows_are_charted_per_week_or_month(
    viewer, department, date_from, date_to, unit, periods, first, last
):
    body = viewer.get(STUDIES, {"date_from": date_from, "date_to": date_to}).json()
    assert (body["unit"], len(body["periods"])) == (unit, periods)
    assert (body["periods"][0]["start"], body["periods"][0]["end"]) == first
    assert (body["periods"][-1]["start"], body["periods"][-1]["end"]) == last
    assert sum(p["total"] for p in body["periods"]) == body["total"]


def test_a_month_counts_its_studies(viewer, department):
    body = viewer.get(STUDIES, {"date_from": "2024-03-01", "date_to": "2025-03-31"}).json()
    assert [(p["start"], p["end"], p["total"]) for p in body["periods"][-2:]] == [
        ("2025-02-01", "2025-02-28", 0),
        ("2025-03-01", "2025-03-31", 8),
    ]


def test_the_figures_export_to_excel(viewer, department):
    response = viewer.get(EXPORT, {**WINDOW, "exam_source": "门诊"})
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"].startswith('attachment; filename="statistics_')
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [
        "Summary",
        "Turnaround",
        "Studies per period",
        "Exam status",
        "Turnaround histogram",
    ]
    summary_rows = list(book["Summary"].iter_rows(values_only=True))
    assert summary_rows[4] == ("Source", "门诊")
    assert summary_rows[6] == ("Studies", 3)
    turnaround = list(book["Turnaround"].iter_rows(values_only=True))
    assert turnaround[0] == (
        "Group", "Value", "Certified", "Median (h)", "90th percentile (h)", "Mean (h)",
        "Within the limit", "Share within the limit",
    )  # fmt: skip
    assert turnaround[1] == ("All studies", None, 3, 3, 19.8, 9.17, 3, 1)
    assert turnaround[2] == ("Modality", "CT", 3, 3, 19.8, 9.17, 3, 1)
    assert turnaround[3] == ("Source", "门诊", 3, 3, 19.8, 9.17, 3, 1)
    periods = list(book["Studies per period"].iter_rows(values_only=True))
    assert periods[0] == ("From", "To", "CT", "Total")
    assert [row[2:] for row in periods[1:]] == [(2, 2), (1, 1)]
    assert book["Summary"].freeze_panes == "A2"


def test_a_text_that_looks_like_a_formula_stays_text(viewer):
    StudyFactory(exam_source="=1+1", order_datetime=timezone.now())
    response = viewer.get(EXPORT, {"exam_source": "=1+1"})
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    cell = book["Summary"]["B5"]
    assert (cell.value, cell.data_type) == ("=1+1", "s")


def test_quality_counts_of_the_department(viewer, department):
    body = viewer.get(QUALITY).json()
    assert body["stuck_hours"] == 72.0
    assert body["counts"] == {
        "certified_before_order": 1,
        "checked_in_before_order": 1,
        "reported_without_physician": 2,
        "stuck": 3,
        "duplicate_patients": 1,
    }
    assert body["stuck_by_status"] == [
        {"exam_status": "已检查", "count": 2},
        {"exam_status": "已登记", "count": 1},
    ]


def test_quality_counts_follow_the_filters(viewer, department):
    body = viewer.get(QUALITY, {**WINDOW, "exam_source": "门诊"}).json()
    assert body["counts"] == {
        "certified_before_order": 0,
        "checked_in_before_order": 0,
        "reported_without_physician": 1,
        "stuck": 0,
        "duplicate_patients": 0,
    }


def test_a_study_is_stuck_only_past_the_limit(viewer, department):
    now = timezone.now()
    StudyFactory(
        exam_id="RECENT", exam_status="已登记", order_datetime=now - timezone.timedelta(hours=3)
    )
    StudyFactory(exam_id="CHECKED", exam_status="已检查", order_datetime=now - timezone.timedelta(days=9),
                 check_in_datetime=now - timezone.timedelta(hours=3))  # fmt: skip
    assert viewer.get(QUALITY).json()["counts"]["stuck"] == 3
    assert viewer.get(QUALITY, {"stuck_hours": 2}).json()["counts"]["stuck"] == 5
    rows = viewer.get(f"{QUALITY}/stuck", {"stuck_hours": 2}).json()
    assert [s["exam_id"] for s in rows["data"]] == ["RECENT", "CHECKED", "LATER", "C", "OLD"]


@pytest.mark.parametrize(
    ("check", "ids"),
    [
        ("certified_before_order", ["E"]),
        ("checked_in_before_order", ["E"]),
        ("reported_without_physician", ["D", "F"]),
        ("stuck", ["LATER", "C", "OLD"]),
    ],
)
def test_each_check_lists_its_studies(viewer, department, check, ids):
    body = viewer.get(f"{QUALITY}/{check}").json()
    assert (body["check"], body["total"], body["page"], body["page_size"]) == (
        check,
        len(ids),
        1,
        20,
    )
    assert [s["exam_id"] for s in body["data"]] == ids


def test_a_listed_study_has_the_fields_to_judge_it(viewer, department):
    body = viewer.get(f"{QUALITY}/certified_before_order").json()
    assert body["data"] == [
        {
            "exam_id": "E",
            "medical_record_no": "M2",
            "patient_name": "张伟",
            "exam_status": "已审核",
            "exam_source": "急诊",
            "exam_item": "胸部CT平扫",
            "equipment_type": "CT",
            "order_datetime": "2025-03-10T09:00:00",
            "check_in_datetime": "2025-03-10T08:30:00",
            "report_certification_datetime": "2025-03-10T08:00:00",
            "certified_physician": "王医生",
        }
    ]


def test_quality_rows_are_paged(viewer, department):
    body = viewer.get(f"{QUALITY}/stuck", {"page": 2, "page_size": 2}).json()
    assert ([s["exam_id"] for s in body["data"]], body["total"]) == (["OLD"], 3)


def test_duplicate_patients_are_listed_with_their_records(viewer, department):
    body = viewer.get(f"{QUALITY}/duplicate_patients").json()
    assert body == {
        "data": [
            {
                "patient_name": "张伟",
                "birth_year": 1980,
                "records": [
                    {"medical_record_no": "M1", "studies": 2},
                    {"medical_record_no": "M2", "studies": 1},
                ],
            }
        ],
        "total": 1,
        "page": 1,
        "page_size": 20,
    }
    # The same name born another year is another person.
    assert (
        viewer.get(f"{QUALITY}/duplicate_patients", {"date_to": "2025-03-09"}).json()["total"] == 0
    )


@pytest.mark.parametrize(
    ("path", "params", "loc", "msg"),
    [
        (STUDIES, {"date_from": "2025-03-10", "date_to": "2025-03-09"}, ["query", "params"],
         "Value error, date_from must not be after date_to"),
        (STUDIES, {"date_from": "2025-3-1"}, ["query", "date_from"],
         "Value error, Input should be a date as YYYY-MM-DD"),
        (STUDIES, {"date_to": "2025-02-30"}, ["query", "date_to"],
         "Input should be a valid date or datetime, day value is outside expected range"),
        (EXPORT, {"date_from": "2025-03-10", "date_to": "2025-03-09"}, ["query", "params"],
         "Value error, date_from must not be after date_to"),
        (STUDIES, {"exam_status": "x" * 21}, ["query", "exam_status"],
         "String should have at most 20 characters"),
        (QUALITY, {"stuck_hours": "0"}, ["query", "stuck_hours"], "Input should be greater than 0"),
        (QUALITY, {"stuck_hours": "abc"}, ["query", "stuck_hours"],
         "Input should be a valid number, unable to parse string as a number"),
        (QUALITY, {"stuck_hours": "87601"}, ["query", "stuck_hours"],
         "Input should be less than or equal to 87600"),
        (f"{QUALITY}/stuck", {"page": "0"}, ["query", "page"], "Input should be greater than or equal to 1"),
        (f"{QUALITY}/duplicate_patients", {"page_size": "101"}, ["query", "page_size"],
         "Input should be less than or equal to 100"),
    ],
)  # fmt: skip
def test_bad_input_is_422_with_the_reason(viewer, path, params, loc, msg):
    response = viewer.get(path, params)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    error = response.json()["detail"][0]
    assert (error["loc"], error["msg"]) == (loc, msg)


def test_an_unknown_check_is_404(viewer):
    response = viewer.get(f"{QUALITY}/everything")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"detail": "Data-quality check not found"}


@pytest.mark.parametrize("path", [STUDIES, EXPORT, QUALITY, f"{QUALITY}/stuck"])
def test_anonymous_callers_are_refused(db, path):
    response = Client().get(path)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"detail": "Not authenticated"}


@pytest.mark.parametrize("path", [STUDIES, EXPORT, QUALITY, f"{QUALITY}/duplicate_patients"])
def test_practice_roles_are_refused(api, path):
    response = api(Role.LEARNER).get(path)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"detail": "This action requires the viewer role"}


def test_the_figures_are_computed_once_until_the_studies_change(
    viewer, department, django_assert_max_num_queries
):
    viewer.get(STUDIES, WINDOW)
    with django_assert_max_num_queries(6):
        assert viewer.get(STUDIES, WINDOW).json()["total"] == 6
    StudyFactory(exam_id="NEW", order_datetime=department_day())
    assert viewer.get(STUDIES, WINDOW).json()["total"] == 7


def department_day():  # noqa: ANN201
    from tests.factories import local

    return local(2025, 3, 10, 12, 0)


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai", "Etc/GMT+12"])
@pytest.mark.parametrize(
    ("params", "total"),
    [
        ({"date_from": "0001-01-01", "date_to": "9999-12-31"}, 8),
        ({"date_from": "9999-12-31"}, 0),
        ({"date_to": "0001-01-01"}, 0),
        ({"date_from": "0001-01-01", "date_to": "0001-01-01"}, 0),
    ],
)
def test_every_date_at_the_edges_of_the_calendar_is_answered(
    viewer, department, settings, zone, params, total
):
    settings.TIME_ZONE = zone
    body = viewer.get(STUDIES, params).json()
    assert body["total"] == total
    assert sum(p["total"] for p in body["periods"]) == total
    quality = viewer.get(QUALITY, params)
    assert quality.status_code == HTTPStatus.OK
    assert viewer.get(EXPORT, params).status_code == HTTPStatus.OK


def test_a_long_window_is_charted_per_year(viewer, department):
    body = viewer.get(STUDIES, {"date_from": "2020-06-01", "date_to": "2025-12-31"}).json()
    assert body["unit"] == "year"
    assert [(p["start"], p["end"]) for p in body["periods"]][:2] == [
        ("2020-06-01", "2020-12-31"),
        ("2021-01-01", "2021-12-31"),
    ]
    assert body["periods"][-1]["total"] == 8


def test_the_contract_doc_shows_the_keys_the_api_returns(viewer, department):
    from tests.core.test_contract_doc import _examples, _keys

    documented = [_keys(example) for example in _examples()]
    for path in (
        STUDIES,
        QUALITY,
        f"{QUALITY}/certified_before_order",
        f"{QUALITY}/duplicate_patients",
    ):
        assert _keys(viewer.get(path, WINDOW).json()) in documented, path
