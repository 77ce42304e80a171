"""Dashboard: the aggregates (web.selectors) and the page with charts and their numbers."""

from datetime import date
from http import HTTPStatus

import pytest

from tests.analysis.factories import AnalysisTaskFactory
from tests.factories import StudyFactory, local
from web import selectors

pytestmark = pytest.mark.django_db


@pytest.fixture
def studies():
    StudyFactory(
        exam_id="A",
        equipment_type="CT",
        exam_status="已审核",
        order_datetime=local(2025, 3, 9, 8, 0),
        report_certification_datetime=local(2025, 3, 9, 8, 30),
    )  # 0.5 h
    StudyFactory(
        exam_id="B",
        equipment_type="CT",
        exam_status="已审核",
        order_datetime=local(2025, 3, 10, 8, 0),
        report_certification_datetime=local(2025, 3, 10, 11, 0),
    )  # 3 h
    StudyFactory(
        exam_id="C",
        equipment_type="MR",
        exam_status="已登记",
        order_datetime=local(2025, 3, 10, 23, 59),
    )  # not certified
    StudyFactory(
        exam_id="D",
        equipment_type=None,
        exam_status="已审核",
        order_datetime=local(2025, 3, 10, 9, 0),
        report_certification_datetime=local(2025, 3, 14, 9, 0),
    )  # 96 h
    StudyFactory(
        exam_id="E",
        equipment_type="CT",
        exam_status="已审核",
        order_datetime=local(2025, 3, 10, 9, 0),
        report_certification_datetime=local(2025, 3, 10, 8, 0),
    )  # before the order
    StudyFactory(exam_id="OLD", equipment_type="CT", order_datetime=local(2025, 3, 1, 8, 0))
    StudyFactory(exam_id="LATER", equipment_type="CT", order_datetime=local(2025, 3, 11, 0, 0))
    # fmt: skip


def test_dashboard_counts_studies_per_day_by_modality(studies):
    data = selectors.dashboard_studies(days=2, last_day=date(2025, 3, 10))
    assert data["modalities"] == ["", "CT", "MR"]
    assert [(d["day"], d["counts"], d["total"]) for d in data["per_day"]] == [
        (date(2025, 3, 9), {"": 0, "CT": 1, "MR": 0}, 1),
        (date(2025, 3, 10), {"": 1, "CT": 2, "MR": 1}, 4),
    ]
    assert data["total"] == 5


def test_dashboard_days_follow_the_time_zone(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    StudyFactory(exam_id="TZ", order_datetime=local(2025, 3, 10, 0, 30))
    data = selectors.dashboard_studies(days=1, last_day=date(2025, 3, 10))
    assert data["total"] == 1


def test_dashboard_status_breakdown_largest_first(studies):
    data = selectors.dashboard_studies(days=2, last_day=date(2025, 3, 10))
    assert data["statuses"] == [
        {"status": "已审核", "count": 4},
        {"status": "已登记", "count": 1},
    ]


def test_dashboard_turnaround_histogram(studies):
    turnaround = selectors.dashboard_studies(days=2, last_day=date(2025, 3, 10))["turnaround"]
    counts = {(b["from_hours"], b["to_hours"]): b["count"] for b in turnaround["buckets"]}
    assert counts[(0, 1)] == 1
    assert counts[(2, 4)] == 1
    assert counts[(72, None)] == 1
    assert sum(counts.values()) == turnaround["certified"] == 3
    assert (turnaround["uncertified"], turnaround["negative"]) == (1, 1)
    assert turnaround["mean_hours"] == pytest.approx((0.5 + 3 + 96) / 3, abs=0.01)


def test_dashboard_window_ends_with_the_newest_study_when_the_data_is_old(studies):
    assert selectors.dashboard_last_day() == date(2025, 3, 11)


def test_dashboard_window_ends_today_without_studies(db):
    from django.utils import timezone

    assert selectors.dashboard_last_day() == timezone.localdate()


def test_dashboard_page_has_charts_and_tables(viewer_web, studies):
    AnalysisTaskFactory(status="completed")
    response = viewer_web.get("/dashboard/", {"days": 7, "end": "2025-03-10"})
    assert response.status_code == HTTPStatus.OK
    body = response.content.decode()
    assert "/static/web/vendor/chart.umd.min.js" in body
    assert 'id="chart-data" type="application/json"' in body
    assert 'data-table="turnaround"' in body and 'data-table="analysis"' in body
    assert response.context["charts"]["statuses"]["data"] == [4, 1]
    assert response.context["stats"]["by_status"]["completed"] == 1
    assert "2025-03-04 to 2025-03-10" in body


def test_dashboard_ignores_odd_parameters(viewer_web, studies):
    response = viewer_web.get("/dashboard/", {"days": "abc", "end": "never"})
    assert response.context["days"] == 30
    assert response.context["data"]["last_day"] == date(2025, 3, 11)
    assert viewer_web.get("/dashboard/", {"days": 12}).context["days"] == 30
