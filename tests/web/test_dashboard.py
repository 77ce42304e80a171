"""Dashboard and data-quality pages: the figures of studies.statistics, their filters and links.

The figures themselves are checked exactly through the API (tests/studies/test_statistics_api.py);
these tests check what the pages add: the window, the links to the rows, the languages, the
export.
"""

import io
from datetime import date
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import openpyxl
import pytest
from django.test import Client

from tests.analysis.factories import AnalysisTaskFactory
from tests.factories import StudyFactory, local
from tests.studies.conftest import department  # noqa: F401 - the known data set

pytestmark = pytest.mark.django_db
WINDOW = {"date_from": "2025-03-09", "date_to": "2025-03-10"}


def query_of(link: str) -> dict[str, str]:
    parts = urlsplit(link)
    return {"path": parts.path, **{k: v[0] for k, v in parse_qs(parts.query).items()}}


def test_dashboard_page_has_charts_and_tables(viewer_web, department):  # noqa: F811
    AnalysisTaskFactory(status="completed")
    response = viewer_web.get("/dashboard/", {"days": 7, "end": "2025-03-10"})
    assert response.status_code == HTTPStatus.OK
    body = response.content.decode()
    assert "/static/web/vendor/chart.umd.min.js" in body
    assert 'id="chart-data" type="application/json"' in body
    for table in ("turnaround", "analysis", "by-modality", "by-source", "periods", "statuses"):
        assert f'data-table="{table}"' in body
    assert response.context["charts"]["statuses"]["data"] == [5, 1]
    assert response.context["stats"]["by_status"]["completed"] == 1
    assert "2025-03-04 to 2025-03-10" in body
    assert '<div class="value" data-kpi="median">13.5 h</div>' in body
    assert '<div class="value" data-kpi="p90">74.4 h</div>' in body
    assert '<div class="value" data-kpi="within">75.0 %</div>' in body
    assert "Certified within 24 h" in body


def test_dashboard_follows_the_studies_list_filters(viewer_web, department):  # noqa: F811
    response = viewer_web.get("/dashboard/", {**WINDOW, "exam_source": "门诊"})
    assert response.context["data"]["total"] == 3
    assert response.context["form"]["exam_source"] == "门诊"
    assert '<option value="门诊" selected>' in response.content.decode()
    assert query_of(response.context["studies_link"]) == {
        "path": "/studies/",
        "date_from": "2025-03-09",
        "date_to": "2025-03-10",
        "exam_source": "门诊",
    }
    # The link opens a studies list of exactly as many rows as the dashboard counted.
    listed = viewer_web.get(response.context["studies_link"])
    assert listed.context["pager"]["total"] == 3


def test_a_bar_links_to_its_studies(viewer_web, department):  # noqa: F811
    charts = viewer_web.get("/dashboard/", WINDOW).context["charts"]
    series = {s["label"]: s for s in charts["perPeriod"]["series"]}
    assert list(series) == ["CT", "MR", "(none)"]
    link = series["CT"]["links"][1]
    assert query_of(link) == {
        "path": "/studies/",
        "date_from": "2025-03-10",
        "date_to": "2025-03-10",
        "equipment_type": "CT",
    }
    rows = viewer_web.get(link).context["rows"]
    assert sorted(s.exam_id for s in rows) == ["B", "E"]
    # Studies without a modality cannot be asked for by the list's filters: no link.
    assert series["(none)"]["links"] == [None, None]
    status_link = charts["statuses"]["links"][1]
    assert [s.exam_id for s in viewer_web.get(status_link).context["rows"]] == ["C"]
    assert charts["byModality"]["links"][1] is None
    assert query_of(charts["bySource"]["links"][1])["exam_source"] == "门诊"


def test_a_year_is_charted_per_week(viewer_web, department):  # noqa: F811
    response = viewer_web.get("/dashboard/", {"days": 365, "end": "2025-03-10"})
    charts = response.context["charts"]
    assert response.context["unit"] == "week"
    assert len(charts["perPeriod"]["labels"]) == 53
    assert "Studies per week by modality" in response.content.decode()
    link = charts["perPeriod"]["series"][0]["links"][-1]
    assert query_of(link) == {
        "path": "/studies/",
        "date_from": "2025-03-10",
        "date_to": "2025-03-10",
        "equipment_type": "CT",
    }
    assert query_of(charts["perPeriod"]["series"][0]["links"][-2])["date_from"] == "2025-03-03"


def test_dashboard_window_ends_with_the_newest_study_when_the_data_is_old(
    viewer_web,
    department,  # noqa: F811
):
    response = viewer_web.get("/dashboard/")
    assert (response.context["data"]["date_to"], response.context["days"]) == (
        date(2025, 3, 11),
        30,
    )


def test_dashboard_days_follow_the_time_zone(viewer_web, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    StudyFactory(exam_id="TZ", order_datetime=local(2025, 3, 10, 0, 30))
    response = viewer_web.get("/dashboard/", {"days": 7, "end": "2025-03-10"})
    assert response.context["data"]["total"] == 1


def test_dashboard_ignores_odd_parameters(viewer_web, department):  # noqa: F811
    response = viewer_web.get("/dashboard/", {"days": "abc", "end": "never"})
    assert response.context["days"] == 30
    assert response.context["data"]["date_to"] == date(2025, 3, 11)
    assert viewer_web.get("/dashboard/", {"days": 12}).context["days"] == 30
    odd = viewer_web.get("/dashboard/", {"date_from": "2025-03-10", "date_to": "2025-03-01"})
    assert odd.status_code == HTTPStatus.OK
    assert odd.context["problems"] == ["The date range ends before it starts; it was ignored."]
    bad = viewer_web.get("/dashboard/", {"date_from": "yesterday"})
    assert bad.context["problems"] == ["Ignored the invalid value of “date_from”."]


def test_dashboard_in_chinese(viewer_web, department):  # noqa: F811
    body = viewer_web.get("/dashboard/", WINDOW, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert '<html lang="zh-hans">' in body
    for text in ("中位数", "第 90 百分位", "导出到 Excel", "数据质量", "按设备类型"):
        assert text in body


def test_dashboard_exports_its_figures(viewer_web, department):  # noqa: F811
    response = viewer_web.get("/dashboard/export/", {**WINDOW, "equipment_type": "CT"})
    assert response.status_code == HTTPStatus.OK
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    rows = list(book["Turnaround"].iter_rows(values_only=True))
    assert rows[1] == ("All studies", None, 3, 3, 19.8, 9.17, 3, 1)
    chinese = viewer_web.get("/dashboard/export/", WINDOW, HTTP_ACCEPT_LANGUAGE="zh-CN")
    book = openpyxl.load_workbook(io.BytesIO(chinese.content))
    assert book.sheetnames[0] == "汇总"


def test_quality_page_counts_and_links(viewer_web, department):  # noqa: F811
    response = viewer_web.get("/dashboard/quality/")
    assert response.status_code == HTTPStatus.OK
    checks = {c["name"]: c for c in response.context["checks"]}
    assert {name: c["count"] for name, c in checks.items()} == {
        "certified_before_order": 1,
        "checked_in_before_order": 1,
        "reported_without_physician": 2,
        "stuck": 3,
        "duplicate_patients": 1,
    }
    assert checks["stuck"]["link"] == "/dashboard/quality/stuck/"
    rows = viewer_web.get(checks["reported_without_physician"]["link"])
    assert [s.exam_id for s in rows.context["rows"]] == ["D", "F"]
    assert 'href="/studies/D/"' in rows.content.decode()


def test_quality_links_carry_the_filters(viewer_web, department):  # noqa: F811
    response = viewer_web.get("/dashboard/quality/", {**WINDOW, "stuck_hours": "1"})
    link = {c["name"]: c["link"] for c in response.context["checks"]}["stuck"]
    assert query_of(link) == {
        "path": "/dashboard/quality/stuck/",
        "date_from": "2025-03-09",
        "date_to": "2025-03-10",
        "stuck_hours": "1.0",
    }
    assert [s.exam_id for s in viewer_web.get(link).context["rows"]] == ["C"]


def test_duplicate_patients_page_links_each_record(viewer_web, department):  # noqa: F811
    response = viewer_web.get("/dashboard/quality/duplicate_patients/")
    [group] = response.context["rows"]
    assert [r["link"] for r in group["records"]] == ["/studies/?q=M1", "/studies/?q=M2"]
    assert viewer_web.get("/studies/?q=M1").context["pager"]["total"] == 2


def test_quality_page_in_chinese(viewer_web, department):  # noqa: F811
    body = viewer_web.get("/dashboard/quality/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "数据质量" in body and "审核时间早于开单时间" in body


def test_an_unknown_check_is_a_404_page(viewer_web):
    response = viewer_web.get("/dashboard/quality/everything/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "There is no such data-quality check." in response.content.decode()


def test_quality_page_drops_a_bad_limit_with_a_message(viewer_web, department):  # noqa: F811
    response = viewer_web.get("/dashboard/quality/", {"stuck_hours": "-1"})
    assert response.status_code == HTTPStatus.OK
    assert response.context["problems"] == ["Ignored the invalid value of “stuck_hours”."]
    assert response.context["stuck_hours"] == 72.0


@pytest.mark.parametrize(
    "path",
    ["/dashboard/", "/dashboard/export/", "/dashboard/quality/", "/dashboard/quality/stuck/"],
)
def test_signed_out_visitors_are_sent_to_sign_in(db, path):
    response = Client().get(path)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/login/?next=")
