"""Report search with highlighted snippets, and the report page with its sections."""

import csv
import io
from http import HTTPStatus

import pytest

from audit.models import AuditEvent
from tests.factories import ReportFactory, StudyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reports():
    study = StudyFactory(exam_id="CT001", patient_name="王小明")
    return [
        ReportFactory(study=study, report_id="R1", radiologist="李医生", status="finalized",
                      content="检查所见：右肺上叶结节，大小约8mm。诊断意见：右肺上叶结节。"),
        ReportFactory(study=study, report_id="R2", radiologist="张医生", status="draft",
                      content="FINDINGS: <b>Nodule</b> & effusion.\nIMPRESSION: Nodule."),
    ]  # fmt: skip


def test_report_search_highlights_the_match_in_the_snippet(viewer_web, reports):
    response = viewer_web.get("/reports/", {"q": "结节"})
    assert [i["report_id"] for i in response.context["items"]] == ["R1"]
    body = response.content.decode()
    assert "右肺上叶<mark>结节</mark>，大小约8mm。诊断意见：右肺上叶<mark>结节</mark>。" in body
    assert "王小明" in body


def test_report_search_escapes_the_text_before_highlighting(viewer_web, reports):
    body = viewer_web.get("/reports/", {"q": "nodule"}).content.decode()
    assert "FINDINGS: &lt;b&gt;<mark>Nodule</mark>&lt;/b&gt; &amp; effusion." in body
    assert "<b>Nodule</b>" not in body


def test_report_search_query_cannot_inject_markup(viewer_web):
    ReportFactory(content="a <i> b")
    body = viewer_web.get("/reports/", {"q": "<i>"}).content.decode()
    assert "a <mark>&lt;i&gt;</mark> b" in body


def test_report_search_filters_by_status_and_radiologist(viewer_web, reports):
    response = viewer_web.get("/reports/", {"status": "draft", "radiologist": "张医生"})
    assert [i["report_id"] for i in response.context["items"]] == ["R2"]
    assert response.context["options"]["radiologists"] == ["张医生", "李医生"]


def test_report_search_htmx_returns_only_the_results(viewer_web, reports):
    response = viewer_web.get(
        "/reports/", {"q": "结节"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results"
    )
    assert response.content.decode().startswith('<section id="results"')


def test_report_search_is_audited(viewer_web, reports):
    viewer_web.get("/reports/", {"q": "结节"})
    event = AuditEvent.objects.get()
    assert (event.action, event.object_ids, event.result_count) == ("web.report.search", ["R1"], 1)


def test_report_page_shows_its_sections(viewer_web, reports):
    response = viewer_web.get("/reports/R1/", {"q": "结节"})
    sections = response.context["sections"]
    assert [(s.key, s.title) for s in sections] == [
        ("findings", "检查所见"),
        ("impression", "诊断意见"),
    ]
    body = response.content.decode()
    assert 'data-section="impression"' in body
    assert "右肺上叶<mark>结节</mark>。" in body
    event = AuditEvent.objects.get()
    assert (event.action, event.object_ids, event.detail) == (
        "web.report.view", ["R1"], {"exam_id": "CT001"},
    )  # fmt: skip


def test_report_page_escapes_the_content(viewer_web, reports):
    body = viewer_web.get("/reports/R2/").content.decode()
    assert "&lt;b&gt;Nodule&lt;/b&gt; &amp; effusion." in body


def test_unknown_report_is_a_404(viewer_web):
    assert viewer_web.get("/reports/NOPE/").status_code == HTTPStatus.NOT_FOUND


# ------------------------------------------------------------ the finding picker (issue 24)


@pytest.fixture
def with_findings(reports):
    from reports.findings import refresh_report_findings

    ReportFactory(study=reports[0].study, report_id="R3", content="双肺未见结节。")
    refresh_report_findings()
    return reports


def test_the_finding_picker_lists_the_lexicon_and_keeps_the_choice(viewer_web, with_findings):
    response = viewer_web.get(
        "/reports/", {"finding": "nodule", "min_size_mm": "8"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == HTTPStatus.OK
    assert [i["report_id"] for i in response.context["items"]] == ["R1"]
    body = response.content.decode()
    assert '<option value="nodule" selected>Nodule · 结节</option>' in body
    assert '<option value="" selected>Present</option>' in body
    assert 'name="min_size_mm" value="8.0"' in body


def test_the_finding_picker_finds_negated_findings(viewer_web, with_findings):
    response = viewer_web.get("/reports/", {"finding": "nodule", "assertion": "absent"})
    assert [i["report_id"] for i in response.context["items"]] == ["R3"]


def test_the_search_form_without_a_finding_sends_no_finding_filter(viewer_web, with_findings):
    # What the form submits when no finding is picked: every field, the defaults empty.
    response = viewer_web.get(
        "/reports/", {"q": "", "finding": "", "assertion": "", "min_size_mm": ""}
    )
    assert len(response.context["items"]) == 3
    assert response.context["problems"] == []


def test_a_size_without_a_finding_is_ignored_with_a_message(viewer_web, with_findings):
    response = viewer_web.get("/reports/", {"min_size_mm": "8"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == HTTPStatus.OK
    assert len(response.context["items"]) == 3
    assert response.context["problems"] == ["Choose a finding for the assertion and size filters."]


def test_an_unknown_finding_is_ignored_with_a_message(viewer_web, with_findings):
    response = viewer_web.get("/reports/", {"finding": "unicorn"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == HTTPStatus.OK
    assert len(response.context["items"]) == 3
    assert response.context["problems"] == ["Ignored the invalid value of “finding”."]


def test_report_search_by_patient_name_keeps_it_in_the_form_and_the_export_links(viewer_web):
    ReportFactory(report_id="R-W", study=StudyFactory(patient_name="王小明"))
    ReportFactory(report_id="R-L", study=StudyFactory(patient_name="李四"))
    response = viewer_web.get("/reports/", {"patient_name": "小明", "page": 1})
    assert [i["report_id"] for i in response.context["items"]] == ["R-W"]
    body = response.content.decode()
    assert 'name="patient_name" value="小明"' in body
    assert 'href="/reports/export/?patient_name=%E5%B0%8F%E6%98%8E&amp;format=csv" download' in body


def test_reports_export_holds_the_current_search_and_is_audited(viewer_web, reports):
    response = viewer_web.get(
        "/reports/export/", {"patient_name": "王小明", "status": "draft", "format": "csv"}
    )
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Disposition"].startswith('attachment; filename="reports_')
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert [row[0] for row in rows[1:]] == ["R2"]
    assert rows[1][-1] == "FINDINGS: <b>Nodule</b> & effusion.\nIMPRESSION: Nodule."
    event = AuditEvent.objects.get(action="web.report.export")
    assert (event.result_count, event.detail["format"]) == (1, "csv")
    assert event.username == viewer_web.user.username
