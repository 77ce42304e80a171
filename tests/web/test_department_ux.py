"""The patient's studies on the study page and the patient page, translated status and source
values and time units, the idle timer's session endpoint, the favicon."""

import time
from http import HTTPStatus

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from tests.factories import ReportFactory, StudyFactory, local
from web.middleware import LAST_ACTIVITY

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


@pytest.fixture
def patient():
    """钱七 (MRN-FU): three studies, the oldest with a finalized and a draft report."""
    old = StudyFactory(
        exam_id="CT-OLD", medical_record_no="MRN-FU", patient_name="钱七", exam_status="已审核",
        exam_source="住院", exam_item="胸部CT平扫", order_datetime=local(2024, 9, 1, 9, 0),
        report_certification_datetime=local(2024, 9, 1, 15, 0),
    )  # fmt: skip
    ReportFactory(study=old, report_id="R-OLD", status="finalized", created_at=local(2024, 9, 2))
    ReportFactory(study=old, report_id="R-DRAFT", status="draft", created_at=local(2024, 9, 1))
    StudyFactory(
        exam_id="MR-MID", medical_record_no="MRN-FU", patient_name="钱七", exam_status="已登记",
        exam_source="急诊", exam_item="头颅MR平扫", equipment_type="MR",
        order_datetime=local(2025, 1, 1, 9, 0),
    )  # fmt: skip
    StudyFactory(
        exam_id="CT-NOW", medical_record_no="MRN-FU", patient_name="钱七", exam_status="已报告",
        exam_source="门诊", order_datetime=local(2025, 3, 1, 9, 0),
    )  # fmt: skip
    StudyFactory(exam_id="OTHER", medical_record_no="MRN-X", patient_name="李四")


def test_study_page_lists_the_patients_other_studies_with_their_reports(viewer_web, patient):
    response = viewer_web.get("/studies/CT-NOW/")
    assert [s.exam_id for s in response.context["patient_studies"]] == ["MR-MID", "CT-OLD"]
    body = response.content.decode()
    start = body.index('id="other-studies"')
    section = body[start : body.index("</section>", start)]
    assert 'href="/studies/MR-MID/"' in section and 'href="/studies/CT-OLD/"' in section
    assert "CT-NOW" not in section and "OTHER" not in section
    # The newest report of a study, linked, with the count of the others.
    assert 'href="/reports/R-OLD/" data-report="R-OLD">Finalized</a>' in section
    assert "+1 more" in section
    assert "No report" in section
    assert "2024-09-01 09:00" in section and "头颅MR平扫" in section
    # The record number opens the patient's page.
    assert 'href="/patients/MRN-FU/" data-patient-link' in body
    # The audit event of the study names the other studies it showed.
    event = AuditEvent.objects.get()
    assert (event.action, event.object_ids) == ("web.study.view", ["CT-NOW"])
    assert event.detail == {"patient_studies": ["MR-MID", "CT-OLD"]}


def test_study_page_title_is_the_exam_and_the_other_studies_stand_once(viewer_web, patient):
    # The other studies' section once, in the page's content: not also inside its <title>.
    body = viewer_web.get("/studies/CT-NOW/").content.decode()
    title = body[body.index("<title>") + len("<title>") : body.index("</title>")]
    assert title == "CT-NOW · Medical Imaging Data Platform"
    assert body.count('id="other-studies"') == 1


def test_study_page_shows_ten_other_studies_and_links_to_all(viewer_web):
    for n in range(12):
        StudyFactory(exam_id=f"S{n:02d}", medical_record_no="MRN-MANY")
    response = viewer_web.get("/studies/S00/")
    assert len(response.context["patient_studies"]) == 10
    assert response.context["patient_studies_total"] == 11
    assert b"All 11 other studies of this patient" in response.content


def test_study_page_without_a_record_number_says_why_there_is_no_history(viewer_web):
    StudyFactory(exam_id="NO-MRN", medical_record_no=None)
    StudyFactory(exam_id="NO-MRN-2", medical_record_no=None)
    response = viewer_web.get("/studies/NO-MRN/")
    assert response.context["patient_studies"] == []
    assert b"This study has no medical record number" in response.content
    assert b"data-patient-link" not in response.content


def test_study_page_of_a_patient_with_one_study(viewer_web):
    StudyFactory(exam_id="ALONE", medical_record_no="MRN-1")
    assert (
        b"No other study has this medical record number."
        in viewer_web.get("/studies/ALONE/").content
    )


def test_patient_page_lists_every_study_of_the_record_number(viewer_web, patient):
    response = viewer_web.get("/patients/MRN-FU/")
    assert response.status_code == HTTPStatus.OK
    assert [s.exam_id for s in response.context["patient_studies"]] == [
        "CT-NOW", "MR-MID", "CT-OLD",
    ]  # fmt: skip
    body = response.content.decode()
    assert "钱七" in body and "3 studies with this medical record number" in body
    event = AuditEvent.objects.get()
    assert (event.action, event.object_ids, event.result_count) == (
        "web.patient.view", ["CT-NOW", "MR-MID", "CT-OLD"], 3,
    )  # fmt: skip
    assert event.detail["medical_record_no"] == "MRN-FU"


@pytest.mark.django_db(transaction=True)  # answers are cached outside a transaction only
def test_patient_page_shows_the_reports_of_a_history_read_before(viewer_web, patient):
    first = viewer_web.get("/patients/MRN-FU/").content.decode()
    with CaptureQueriesContext(connection) as queries:
        again = viewer_web.get("/patients/MRN-FU/").content.decode()
    assert not any('"studies_study"' in q["sql"] for q in queries.captured_queries)
    # The newest report links from its study, the other one counted, as on the first view.
    for body in (first, again):
        assert 'data-report="R-OLD"' in body and "+1 more" in body
    assert AuditEvent.objects.filter(action="web.patient.view").count() == 2


def test_patient_page_is_paged(viewer_web):
    for n in range(25):
        StudyFactory(exam_id=f"P{n:02d}", medical_record_no="MRN-P")
    response = viewer_web.get("/patients/MRN-P/", {"page": 2})
    assert len(response.context["patient_studies"]) == 5
    assert "21–25 of 25" in response.content.decode()


def test_patient_page_of_a_record_number_with_a_slash(viewer_web):
    StudyFactory(exam_id="SL1", medical_record_no="2025/0042")
    assert b'href="/patients/2025/0042/"' in viewer_web.get("/studies/SL1/").content
    assert viewer_web.get("/patients/2025/0042/").status_code == HTTPStatus.OK


def test_patient_page_of_an_unknown_record_number_is_an_html_404(viewer_web, patient):
    response = viewer_web.get("/patients/MRN-NONE/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert b"Patient not found" in response.content
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome, event.status_code) == ("web.patient.view", "failure", 404)


def test_patient_page_needs_a_login(client, patient):
    response = client.get("/patients/MRN-FU/")
    assert response["Location"] == "/login/?next=/patients/MRN-FU/"


def test_patient_page_refuses_a_learner(signed_in, patient):
    response = signed_in("learner").get("/patients/MRN-FU/")
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert b"Your role does not allow this action." in response.content


def test_patient_page_in_chinese(viewer_web, patient):
    body = viewer_web.get("/patients/MRN-FU/", **ZH).content.decode()
    assert "此病历号共有 3 项检查" in body and "该患者的检查" in body
    study = viewer_web.get("/studies/CT-NOW/", **ZH).content.decode()
    assert "该患者的其他检查" in study and "另有 1 份" in study and "无报告" in study


# ---------------------------------------------------------------- labels and units


def test_status_and_source_values_are_translated_on_english_pages(viewer_web, patient):
    body = viewer_web.get("/studies/").content.decode()
    table = body[body.index("<tbody>") :]
    for english in ("Certified", "Checked in", "Reported", "Inpatient", "Emergency", "Outpatient"):
        assert f"<td>{english}</td>" in table, english
    assert "<td>已审核</td>" not in table and "<td>门诊</td>" not in table
    # The filter lists show the label and keep the stored value.
    assert '<option value="已审核">Certified</option>' in body
    assert '<option value="住院">Inpatient</option>' in body
    detail = viewer_web.get("/studies/CT-NOW/").content.decode()
    assert "<td>Reported</td>" in detail and "<td>Outpatient</td>" in detail


def test_status_and_source_values_stay_as_the_ris_writes_them_on_chinese_pages(viewer_web, patient):
    body = viewer_web.get("/studies/", **ZH).content.decode()
    assert "<td>已审核</td>" in body and "<td>住院</td>" in body
    assert '<option value="已审核">已审核</option>' in body


def test_unknown_status_and_older_english_values(viewer_web):
    StudyFactory(exam_status="completed", exam_source="CT", exam_id="E1")
    StudyFactory(exam_status="待定", exam_source="外院", exam_id="E2")
    english = viewer_web.get("/studies/").content.decode()
    assert "<td>Completed</td>" in english and "<td>待定</td>" in english
    assert "<td>CT</td>" in english and "<td>外院</td>" in english
    chinese = viewer_web.get("/studies/", **ZH).content.decode()
    assert "<td>已完成</td>" in chinese and "<td>待定</td>" in chinese


@pytest.mark.parametrize(
    ("language", "durations"),
    [
        ("en", ["6 h 00 min", "30 min"]),
        ("zh-hans", ["6 小时 00 分钟", "30 分钟"]),
    ],
)
def test_time_units_follow_the_language(viewer_web, language, durations):
    StudyFactory(
        exam_id="T1",
        order_datetime=local(2025, 5, 1, 8, 0),
        check_in_datetime=local(2025, 5, 1, 8, 30),
        report_certification_datetime=local(2025, 5, 1, 14, 0),
    )
    body = viewer_web.get("/studies/T1/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    for duration in durations:
        assert duration in body


def test_the_search_field_has_a_short_placeholder_and_the_whole_rule_as_its_title(viewer_web):
    body = viewer_web.get("/studies/").content.decode()
    assert 'placeholder="Name, exam item, exam ID, MRN"' in body
    assert (
        'title="Name (or its pinyin, initials: zhangwei, zw), exam item, description; exact '
        'exam ID, MRN, order no. Several words: each must match."'
    ) in body
    zh = viewer_web.get("/studies/", **ZH).content.decode()
    assert 'placeholder="姓名、检查项目、检查号、病历号"' in zh
    assert "（或其拼音、首字母：zhangwei、zw）" in zh


# ---------------------------------------------------------------- the idle timer's endpoint


def _age_session(client: Client, seconds: float) -> None:
    session = client.session
    session[LAST_ACTIVITY] = time.time() - seconds
    session.save()


def test_activity_reported_by_the_page_renews_the_session(viewer_web, settings):
    settings.WEB_IDLE_TIMEOUT_MINUTES = 30
    _age_session(viewer_web, 25 * 60)
    response = viewer_web.get("/session/")
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"remaining_seconds": 1800.0, "idle_seconds": 1800.0}
    assert time.time() - viewer_web.session[LAST_ACTIVITY] < 5
    assert (
        response["Cache-Control"].startswith("no-store") or "no-store" in response["Cache-Control"]
    )
    assert not AuditEvent.objects.exists()  # nothing about patients was read


def test_the_timer_asking_in_the_background_does_not_renew_the_session(viewer_web, settings):
    settings.WEB_IDLE_TIMEOUT_MINUTES = 30
    _age_session(viewer_web, 25 * 60)
    response = viewer_web.get("/session/", HTTP_X_BACKGROUND_REQUEST="1")
    remaining = response.json()["remaining_seconds"]
    assert 295 <= remaining <= 300
    assert time.time() - viewer_web.session[LAST_ACTIVITY] > 24 * 60


def test_the_timer_asking_after_the_timeout_sends_the_page_to_the_login_form(viewer_web, settings):
    settings.WEB_IDLE_TIMEOUT_MINUTES = 30
    _age_session(viewer_web, 31 * 60)
    response = viewer_web.get(
        "/session/",
        HTTP_HX_REQUEST="true",
        HTTP_X_BACKGROUND_REQUEST="1",
        HTTP_HX_CURRENT_URL="http://testserver/studies/?q=x",
    )
    assert response["HX-Redirect"] == "/login/?next=/studies/%3Fq%3Dx"
    assert AuditEvent.objects.get(action="auth.logout").detail == {"via": "web", "reason": "idle"}
    follow = viewer_web.get("/login/?next=/studies/%3Fq%3Dx")
    assert b"You were signed out after 30 minutes without activity." in follow.content


def test_the_session_endpoint_signed_out(client):
    assert client.get("/session/")["Location"] == "/login/?next=/"
    response = client.get(
        "/session/", HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/reports/"
    )
    assert response["HX-Redirect"] == "/login/?next=/reports/"


def test_the_session_endpoint_answers_every_role(signed_in):
    for role in ("viewer", "learner", "instructor", "admin"):
        assert signed_in(role).get("/session/").status_code == HTTPStatus.OK, role


def test_the_session_endpoint_takes_get_only(viewer_web):
    assert viewer_web.post("/session/").status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_pages_carry_the_idle_warning_with_its_countdown(viewer_web, settings):
    settings.WEB_IDLE_TIMEOUT_MINUTES = 30
    body = viewer_web.get("/studies/").content.decode()
    assert 'data-idle-seconds="1800"' in body
    assert 'id="idle-warning"' in body and 'data-session-url="/session/"' in body
    assert "you will be signed out in <strong data-idle-countdown></strong>." in body
    zh = viewer_web.get("/studies/", **ZH).content.decode()
    assert "将在 <strong data-idle-countdown></strong> 后自动退出登录" in zh
    assert "保持登录" in zh


def test_signed_out_pages_have_no_idle_warning(client):
    assert b"idle-warning" not in client.get("/login/").content


# ---------------------------------------------------------------- favicon


def test_pages_name_the_favicon_and_favicon_ico_leads_to_it(client):
    assert b'<link rel="icon" href="/static/web/favicon.svg" type="image/svg+xml">' in (
        client.get("/login/").content
    )
    response = client.get("/favicon.ico")
    assert (response.status_code, response["Location"]) == (
        HTTPStatus.FOUND, "/static/web/favicon.svg",
    )  # fmt: skip
    icon = client.get("/static/web/favicon.svg")
    assert icon.status_code == HTTPStatus.OK
    assert b"<svg" in b"".join(icon.streaming_content)
