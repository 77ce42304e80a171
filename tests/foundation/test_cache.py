"""Cached totals and filter lists are exact: any write to the data makes them recompute."""

import pytest
from django.db import connection

from core.cache import data_version
from reports.models import Report
from studies.models import Study
from studies.selectors import study_list
from tests.factories import ReportFactory, StudyFactory

pytestmark = pytest.mark.django_db(transaction=True)

SEARCH = "/api/v1/studies/search"


def test_every_kind_of_write_bumps_the_data_version(db):
    versions = [data_version("studies")]
    study = StudyFactory()
    versions.append(data_version("studies"))
    Study.objects.filter(pk=study.pk).update(exam_status="已取消")
    versions.append(data_version("studies"))
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM studies_study")
    versions.append(data_version("studies"))
    assert versions == sorted(set(versions))
    report_version = data_version("reports")
    ReportFactory()
    assert data_version("reports") > report_version


def test_cached_answers_match_uncached_ones_after_writes(viewer):
    for n in range(5):
        StudyFactory(exam_status="已审核" if n % 2 else "已登记", exam_item="胸部CT平扫")
    first = viewer.get(SEARCH, {"exam_status": "已审核"}).json()
    again = viewer.get(SEARCH, {"exam_status": "已审核"}).json()
    assert first == again
    assert first["total"] == study_list(exam_status="已审核").count() == 2

    StudyFactory(exam_status="已审核", exam_item="头颅MR平扫")
    after = viewer.get(SEARCH, {"exam_status": "已审核"}).json()
    assert after["total"] == study_list(exam_status="已审核").count() == 3
    assert after["filters"]["exam_items"] == ["头颅MR平扫", "胸部CT平扫"]
    options = viewer.get("/api/v1/studies/filters/options").json()
    assert options["exam_items"] == ["头颅MR平扫", "胸部CT平扫"]

    Study.objects.filter(exam_item="头颅MR平扫").delete()
    final = viewer.get(SEARCH, {"exam_status": "已审核"}).json()
    assert final["total"] == 2
    assert final["filters"]["exam_items"] == ["胸部CT平扫"]


def test_report_filter_options_follow_writes(viewer):
    ReportFactory(radiologist="Dr. A")
    assert viewer.get("/api/v1/reports/filters/options").json()["radiologists"] == ["Dr. A"]
    ReportFactory(radiologist="Dr. B")
    assert viewer.get("/api/v1/reports/search").json()["filters"]["radiologists"] == [
        "Dr. A",
        "Dr. B",
    ]
    Report.objects.all().delete()
    assert viewer.get("/api/v1/reports/search").json()["total"] == 0
