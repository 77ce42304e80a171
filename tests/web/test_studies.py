"""The studies pages: search, filters, sort, paging, export, detail."""

import csv
import io
from datetime import UTC, datetime
from http import HTTPStatus

import openpyxl
import pytest

from analysis.models import AnalysisTask
from audit.models import AuditEvent
from core.cache import clear
from tests.analysis.factories import AnalysisTaskFactory
from tests.factories import ReportFactory, StudyFactory, local

pytestmark = pytest.mark.django_db

STUDIES = "/studies/"
# The session save runs in a transaction: its BEGIN and COMMIT are counted too.
SESSION_SAVE_TRANSACTION = 2


def exam_ids(response) -> list[str]:
    return [s.exam_id for s in response.context["rows"]]


@pytest.fixture
def studies():
    return [
        StudyFactory(exam_id="CT001", patient_name="王小明", exam_status="已审核",
                     equipment_type="CT", order_datetime=local(2025, 3, 1, 9, 0)),
        StudyFactory(exam_id="CT002", patient_name="李四", exam_status="已登记",
                     equipment_type="CT", order_datetime=local(2025, 3, 2, 9, 0)),
        StudyFactory(exam_id="MR001", patient_name="王小红", exam_status="已登记",
                     equipment_type="MR", exam_item="头颅MR平扫",
                     order_datetime=local(2025, 3, 3, 9, 0)),
        StudyFactory(exam_id="DR001", patient_name="Zhang Wei", exam_status="已审核",
                     equipment_type="DR", exam_item="胸部正位片", patient_age=None,
                     order_datetime=local(2025, 3, 4, 9, 0)),
    ]  # fmt: skip


def test_studies_page_lists_newest_first_with_total(viewer_web, studies):
    response = viewer_web.get(STUDIES)
    assert response.status_code == HTTPStatus.OK
    assert exam_ids(response) == ["DR001", "MR001", "CT002", "CT001"]
    assert response.context["pager"]["total"] == 4
    assert b'data-total="4"' in response.content


def test_studies_search_by_chinese_name_matches_a_substring(viewer_web, studies):
    response = viewer_web.get(STUDIES, {"q": "王小"})
    assert sorted(exam_ids(response)) == ["CT001", "MR001"]
    assert "王小明".encode() in response.content


def test_studies_filters_combine_and_fill_the_dropdowns(viewer_web, studies):
    response = viewer_web.get(STUDIES, {"exam_status": "已登记", "equipment_type": "CT"})
    assert exam_ids(response) == ["CT002"]
    # The dropdowns list every value in the database, not only the matches.
    assert response.context["options"]["equipment_types"] == ["CT", "DR", "MR"]
    assert '<option value="已登记" selected>'.encode() in response.content


def test_studies_date_range_is_inclusive(viewer_web, studies):
    response = viewer_web.get(STUDIES, {"date_from": "2025-03-02", "date_to": "2025-03-03"})
    assert exam_ids(response) == ["MR001", "CT002"]


def test_studies_sort_by_column_both_directions(viewer_web, studies):
    ascending = viewer_web.get(STUDIES, {"sort": "exam_id"})
    descending = viewer_web.get(STUDIES, {"sort": "-exam_id"})
    assert exam_ids(ascending) == ["CT001", "CT002", "DR001", "MR001"]
    assert exam_ids(descending) == ["MR001", "DR001", "CT002", "CT001"]
    # The header of the sorted column links to the other direction, from page 1.
    assert b'href="?sort=-exam_id"' in ascending.content


def test_studies_pagination_shows_the_total_and_the_next_page(viewer_web):
    for n in range(45):
        StudyFactory(exam_id=f"P{n:03d}")
    first = viewer_web.get(STUDIES, {"sort": "exam_id"})
    third = viewer_web.get(STUDIES, {"sort": "exam_id", "page": 3})
    assert exam_ids(first)[0] == "P000"
    assert first.context["pager"]["pages"] == 3
    assert b'href="?sort=exam_id&amp;page=2"' in first.content
    assert exam_ids(third) == ["P040", "P041", "P042", "P043", "P044"]
    assert "41–45 of 45".encode() in third.content


def test_studies_page_size_is_one_of_the_offered_sizes(viewer_web):
    for n in range(60):
        StudyFactory(exam_id=f"P{n:03d}")
    assert len(exam_ids(viewer_web.get(STUDIES, {"page_size": 50}))) == 50
    assert len(exam_ids(viewer_web.get(STUDIES, {"page_size": 37}))) == 20


def test_studies_invalid_parameters_are_ignored_with_a_message(viewer_web, studies):
    response = viewer_web.get(
        STUDIES, {"sort": "password", "date_from": "2025-13-40", "q": "王小明"}
    )
    assert response.status_code == HTTPStatus.OK
    assert exam_ids(response) == ["CT001"]
    assert len(response.context["problems"]) == 2
    assert response.context["sort"] == "-order_datetime"


def test_studies_reversed_date_range_is_ignored_with_a_message(viewer_web, studies):
    response = viewer_web.get(STUDIES, {"date_from": "2025-03-04", "date_to": "2025-03-01"})
    assert len(exam_ids(response)) == 4
    assert response.context["problems"] == ["The date range ends before it starts; it was ignored."]


def test_studies_htmx_filter_change_returns_only_the_results(viewer_web, studies):
    response = viewer_web.get(
        STUDIES, {"q": "王"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results"
    )
    body = response.content.decode()
    assert body.startswith('<section id="results"')
    assert "<html" not in body
    # The form's hidden sort field follows the results (out-of-band swap).
    assert 'id="f-sort" value="-order_datetime" hx-swap-oob="true"' in body


def test_studies_history_restore_gets_the_whole_page(viewer_web, studies):
    response = viewer_web.get(
        STUDIES,
        {"q": "王"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="results",
        HTTP_HX_HISTORY_RESTORE_REQUEST="true",
    )
    assert b"<html" in response.content


def test_studies_search_state_lives_in_the_links(viewer_web, studies):
    response = viewer_web.get(STUDIES, {"q": "王", "exam_status": "已登记"})
    body = response.content.decode()
    assert 'value="王"' in body
    assert (
        "/studies/export/?q=%E7%8E%8B&amp;exam_status=%E5%B7%B2%E7%99%BB%E8%AE%B0&amp;format=xlsx"
        in body
    )


def test_studies_export_xlsx_holds_the_current_search(viewer_web, studies):
    response = viewer_web.get("/studies/export/", {"q": "王小", "format": "xlsx", "page": 2})
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Disposition"].startswith('attachment; filename="studies_')
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(workbook.active.values)
    assert rows[0][:4] == ("检查号", "病历号", "申请单号", "姓名")
    assert sorted(r[0] for r in rows[1:]) == ["CT001", "MR001"]


def test_studies_export_csv_holds_the_current_search(viewer_web, studies):
    response = viewer_web.get("/studies/export/", {"equipment_type": "CT", "format": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert [r[0] for r in rows[1:]] == ["CT002", "CT001"]


def test_studies_export_is_audited_with_its_count(viewer_web, studies):
    viewer_web.get("/studies/export/", {"q": "王小", "format": "csv"})
    event = AuditEvent.objects.get(action="web.study.export")
    assert event.result_count == 2
    assert event.query == {"q": "王小", "format": "csv"}
    assert event.username == viewer_web.user.username


def test_studies_search_is_audited_with_the_shown_ids(viewer_web, studies):
    viewer_web.get(STUDIES, {"q": "王小"})
    event = AuditEvent.objects.get()
    assert event.action == "web.study.search"
    assert event.outcome == "success"
    assert sorted(event.object_ids) == ["CT001", "MR001"]
    assert event.result_count == 2
    assert event.path == "/studies/"


def test_study_detail_shows_every_field_timeline_reports_and_tasks(viewer_web):
    study = StudyFactory(
        exam_id="CT100",
        medical_record_no="MRN-9",
        application_order_no="AO-9",
        patient_name="赵六",
        certified_physician="钱医生",
        exam_description="双肺纹理清晰",
        order_datetime=local(2025, 5, 1, 8, 0),
        check_in_datetime=local(2025, 5, 1, 8, 30),
        report_certification_datetime=local(2025, 5, 2, 12, 0),
    )
    ReportFactory(study=study, report_id="R-1")
    AnalysisTaskFactory(study=study, task_id="T-1", status="completed")
    response = viewer_web.get("/studies/CT100/")
    body = response.content.decode()
    for text in ("MRN-9", "AO-9", "赵六", "钱医生", "双肺纹理清晰", "R-1", "/analysis/T-1/"):
        assert text in body
    assert "2025-05-01 08:00" in body and "2025-05-02 12:00" in body
    # 28 h from order to certification is over the 24 h limit: flagged.
    assert 'data-flag="exceeds_limit"' in body
    assert response.context["timeline"]["intervals_minutes"]["order_to_certification"] == 1680.0
    event = AuditEvent.objects.get()
    assert (event.action, event.object_ids) == ("web.study.view", ["CT100"])


def test_study_detail_shows_times_in_the_time_zone(viewer_web, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    StudyFactory(exam_id="TZ1", order_datetime=datetime(2025, 5, 1, 0, 0, tzinfo=UTC))
    response = viewer_web.get("/studies/TZ1/")
    assert "2025-05-01 08:00:00" in response.content.decode()


def test_study_detail_of_an_unknown_study_is_an_html_404(viewer_web):
    response = viewer_web.get("/studies/NOPE/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert b"<html" in response.content
    assert b"Study not found" in response.content


def test_study_detail_with_a_slash_in_the_exam_id(viewer_web):
    StudyFactory(exam_id="CT/2025/7")
    response = viewer_web.get("/studies/")
    assert b'href="/studies/CT/2025/7/"' in response.content
    assert viewer_web.get("/studies/CT/2025/7/").status_code == HTTPStatus.OK


@pytest.mark.django_db(transaction=True)
def test_studies_page_runs_one_search_with_warm_caches(viewer_web, django_assert_num_queries):
    for n in range(30):
        StudyFactory(exam_id=f"Q{n:03d}")
    viewer_web.get(STUDIES, {"q": "张"})  # warms the count and the filter options
    # session, user, data version, one page of studies, audit event, session save
    with django_assert_num_queries(6 + SESSION_SAVE_TRANSACTION):
        response = viewer_web.get(STUDIES, {"q": "张"})
    assert len(response.context["rows"]) == 20


@pytest.mark.django_db(transaction=True)
def test_studies_page_cold_cache_adds_only_the_count_and_the_options(
    viewer_web, django_assert_num_queries
):
    for n in range(30):
        StudyFactory(exam_id=f"Q{n:03d}")
    clear()
    # the warm six; for the grouped count and for the filter lists each, a look in the shared
    # cache, the computation (1 and 4 queries: one per list) and storing it there (1), the
    # first store of the new version also removing older answers (1)
    with django_assert_num_queries(6 + 4 + 6 + SESSION_SAVE_TRANSACTION):
        viewer_web.get(STUDIES)


def test_study_detail_lists_tasks_newest_first(viewer_web):
    study = StudyFactory(exam_id="CT200")
    AnalysisTaskFactory(study=study, task_id="old", created_at=local(2025, 1, 1, 8, 0))
    AnalysisTaskFactory(study=study, task_id="new", created_at=local(2025, 1, 2, 8, 0))
    response = viewer_web.get("/studies/CT200/")
    assert [t.task_id for t in response.context["tasks"]] == ["new", "old"]
    assert AnalysisTask.objects.count() == 2


def test_studies_page_past_the_end_shows_the_total_and_a_way_back(viewer_web, studies):
    response = viewer_web.get(STUDIES, {"page": 9})
    assert exam_ids(response) == []
    body = response.content.decode()
    assert "4 in all" in body
    assert 'href="?page=1"' in body


def test_study_detail_of_an_unknown_study_is_audited_as_a_failure(viewer_web):
    viewer_web.get("/studies/NOPE/")
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome, event.status_code, event.object_ids) == (
        "web.study.view", "failure", 404, ["NOPE"],
    )  # fmt: skip
