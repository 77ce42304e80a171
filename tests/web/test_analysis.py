"""Analysis pages: start, live progress, cancel, and the result a radiologist checks."""

from http import HTTPStatus

import pytest

from analysis import services
from analysis.models import AnalysisTask
from audit.models import AuditEvent
from tests.analysis.factories import AnalysisTaskFactory
from tests.factories import ReportFactory, StudyFactory, local

pytestmark = pytest.mark.django_db

FRAGMENT = {"HTTP_HX_REQUEST": "true", "HTTP_X_BACKGROUND_REQUEST": "1"}


@pytest.fixture
def followup():
    """A study with a prior of the same patient; the nodule grew from 8 to 12 mm."""
    prior = StudyFactory(
        exam_id="CT-PRIOR", medical_record_no="MRN1", order_datetime=local(2024, 9, 1, 9, 0)
    )
    ReportFactory(
        study=prior,
        report_id="R-PRIOR",
        content="FINDINGS: A 8 mm nodule in the right upper lobe. Mild emphysema.\n"
        "IMPRESSION: Right upper lobe nodule.",
    )
    current = StudyFactory(
        exam_id="CT-NOW", medical_record_no="MRN1", order_datetime=local(2025, 3, 1, 9, 0)
    )
    ReportFactory(
        study=current,
        report_id="R-NOW",
        content="检查所见：右肺上叶结节，大小约12x10mm。左侧少量胸腔积液。未见气胸。\n"
        "诊断意见：右肺上叶结节，较前增大。",
    )
    return current


def run(client, exam_id: str, kind: str) -> AnalysisTask:
    response = client.post("/analysis/new/", {"exam_id": exam_id, "analysis_type": kind})
    assert response.status_code == HTTPStatus.FOUND, response.content
    task = AnalysisTask.objects.get(task_id=response["Location"].split("/")[2])
    assert services.analysis_run(task_id=task.task_id) == "completed"
    return task


def test_analyst_starts_an_analysis_and_lands_on_its_page(analyst_web, followup):
    response = analyst_web.post(
        "/analysis/new/", {"exam_id": "CT-NOW", "analysis_type": "comparison"}
    )
    task = AnalysisTask.objects.get()
    assert response["Location"] == f"/analysis/{task.task_id}/"
    assert (task.status, task.analysis_type, task.created_by) == (
        "pending", "comparison", analyst_web.user,
    )  # fmt: skip
    event = AuditEvent.objects.get()
    assert (event.action, event.object_ids) == ("web.analysis.create", [task.task_id])
    assert event.detail == {"exam_id": "CT-NOW", "analysis_type": "comparison"}


def test_starting_an_unknown_analysis_type_is_refused(analyst_web, followup):
    response = analyst_web.post("/analysis/new/", {"exam_id": "CT-NOW", "analysis_type": "magic"})
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert not AnalysisTask.objects.exists()


def test_starting_an_analysis_of_an_unknown_study_is_a_404(analyst_web):
    response = analyst_web.post("/analysis/new/", {"exam_id": "NOPE", "analysis_type": "general"})
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert b"Study not found" in response.content


def test_running_task_page_polls_for_its_progress(viewer_web, followup):
    task = AnalysisTaskFactory(study=followup, status="processing", progress=30)
    page = viewer_web.get(f"/analysis/{task.task_id}/").content.decode()
    assert 'hx-trigger="every 1s"' in page and "data-poll" in page
    fragment = viewer_web.get(f"/analysis/{task.task_id}/", HTTP_HX_TARGET="task-body", **FRAGMENT)
    body = fragment.content.decode()
    assert body.startswith('<div id="task-body" data-status="processing"')
    assert 'aria-valuenow="30"' in body


def test_finished_task_fragment_stops_polling_and_brings_the_result(
    viewer_web, analyst_web, followup
):
    task = run(analyst_web, "CT-NOW", "general")
    fragment = viewer_web.get(f"/analysis/{task.task_id}/", HTTP_HX_TARGET="task-body", **FRAGMENT)
    body = fragment.content.decode()
    assert 'data-status="completed"' in body
    assert "hx-trigger" not in body
    assert 'data-result="general"' in body


def test_general_result_lists_findings_by_assertion_with_highlighted_sentences(
    viewer_web, analyst_web, followup
):
    task = run(analyst_web, "CT-NOW", "general")
    response = viewer_web.get(f"/analysis/{task.task_id}/")
    rows = response.context["view"]["findings"]
    assert [(r["key"], r["assertion"], r["laterality"]) for r in rows] == [
        ("nodule", "positive", "right"),
        ("pleural_effusion", "positive", "left"),
        ("pneumothorax", "negated", None),
    ]
    assert rows[0]["size_mm"] == 12.0
    body = response.content.decode()
    assert (
        '右肺上叶<mark class="finding">结节</mark>，大小约<mark class="size">12x10mm</mark>' in body
    )
    assert '<mark class="cue">未见</mark><mark class="finding">气胸</mark>' in body
    # Negated pneumothorax is not a critical flag.
    assert "data-critical" not in body


def test_critical_findings_are_shown_above_everything_else(viewer_web, analyst_web):
    study = StudyFactory(exam_id="CT-CRIT")
    ReportFactory(study=study, content="检查所见：右侧气胸，肺组织压缩约30%。诊断意见：右侧气胸。")
    task = run(analyst_web, "CT-CRIT", "general")
    body = viewer_web.get(f"/analysis/{task.task_id}/").content.decode()
    assert 0 < body.index("data-critical") < body.index('class="findings"')
    assert [
        r["key"] for r in viewer_web.get(f"/analysis/{task.task_id}/").context["view"]["critical"]
    ] == ["pneumothorax"]


def test_detailed_result_lists_each_mention_with_side_and_size(viewer_web, analyst_web, followup):
    task = run(analyst_web, "CT-NOW", "detailed")
    view = viewer_web.get(f"/analysis/{task.task_id}/").context["view"]
    nodule = next(r for r in view["findings"] if r["key"] == "nodule" and r["size_mm"])
    assert (nodule["laterality"], nodule["size_mm"], nodule["section"]) == (
        "right",
        12.0,
        "findings",
    )
    assert [s["key"] for s in view["sections"]] == ["findings", "impression"]
    assert view["measurements"][0]["sizes"][0]["max_mm"] == 12.0


def test_comparison_result_is_a_side_by_side_table(viewer_web, analyst_web, followup):
    task = run(analyst_web, "CT-NOW", "comparison")
    response = viewer_web.get(f"/analysis/{task.task_id}/")
    view = response.context["view"]
    changes = {(r["change"], r["laterality"], r["name"]) for r in view["rows"]}
    assert changes == {
        ("new", "left", "Pleural effusion"),
        ("persistent", "right", "Nodule"),
        ("resolved", None, "Emphysema"),
    }
    persistent = next(r for r in view["rows"] if r["change"] == "persistent")
    assert (persistent["size"]["prior_max_mm"], persistent["size"]["current_max_mm"]) == (8.0, 12.0)
    assert persistent["size"]["trend"] == "increased"
    body = response.content.decode()
    assert 'data-prior="CT-PRIOR"' in body
    assert "181 days earlier" in body
    assert 'A <mark class="size">8 mm</mark> <mark class="finding">nodule</mark>' in body
    assert "data-size-changes" in body


def test_comparison_without_a_prior_says_so(viewer_web, analyst_web):
    ReportFactory(study=StudyFactory(exam_id="CT-ALONE", medical_record_no="MRN-X"))
    task = run(analyst_web, "CT-ALONE", "comparison")
    body = viewer_web.get(f"/analysis/{task.task_id}/").content.decode()
    assert "data-no-prior" in body
    assert "No prior study of this patient to compare with." in body


def test_result_text_from_the_report_is_escaped(viewer_web, analyst_web):
    study = StudyFactory(exam_id="CT-XSS")
    ReportFactory(study=study, content="<script>alert(1)</script> 右肺结节，大小约5mm。")
    task = run(analyst_web, "CT-XSS", "detailed")
    body = viewer_web.get(f"/analysis/{task.task_id}/").content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_failed_task_shows_its_error(viewer_web, followup):
    task = AnalysisTaskFactory(study=followup, status="failed", error_message="The worker died")
    body = viewer_web.get(f"/analysis/{task.task_id}/").content.decode()
    assert "The worker died" in body
    assert "hx-trigger" not in body


def test_unknown_task_is_a_404(viewer_web):
    assert viewer_web.get("/analysis/nope/").status_code == HTTPStatus.NOT_FOUND


def test_task_list_polls_only_while_a_task_is_active(viewer_web, followup):
    task = AnalysisTaskFactory(study=followup, status="pending")
    assert b"data-poll" in viewer_web.get("/analysis/").content
    AnalysisTask.objects.filter(pk=task.pk).update(status="completed", progress=100)
    fragment = viewer_web.get("/analysis/", HTTP_HX_TARGET="task-table", **FRAGMENT)
    body = fragment.content.decode()
    assert body.startswith('<section id="task-table"')
    assert "data-poll" not in body
    assert 'aria-valuenow="100"' in body


def test_task_list_filters_and_shows_the_patient(viewer_web, followup):
    AnalysisTaskFactory(study=followup, analysis_type="general", status="completed")
    AnalysisTaskFactory(study=followup, analysis_type="comparison", status="failed")
    response = viewer_web.get("/analysis/", {"status": "failed"})
    assert [t.analysis_type for t in response.context["tasks"]] == ["comparison"]
    assert "张伟".encode() in response.content


def test_task_list_reads_each_study_in_the_same_query(viewer_web, django_assert_max_num_queries):
    for n in range(15):
        AnalysisTaskFactory(study=StudyFactory(exam_id=f"S{n}"))
    # session, user, one page of tasks with their studies, the count, audit, session save
    with django_assert_max_num_queries(8):
        viewer_web.get("/analysis/")


def test_cancel_of_a_running_task(analyst_web, followup):
    task = AnalysisTaskFactory(study=followup, status="processing", created_by=analyst_web.user)
    response = analyst_web.post(
        f"/analysis/{task.task_id}/cancel/", {"next": "/analysis/?status=processing"}
    )
    assert response["Location"] == "/analysis/?status=processing"
    task.refresh_from_db()
    assert task.status == "cancelled"
    page = analyst_web.get(f"/analysis/{task.task_id}/").content
    assert b"The analysis was cancelled." in page


def test_cancel_of_a_finished_task_changes_nothing(analyst_web, followup):
    task = AnalysisTaskFactory(
        study=followup,
        status="completed",
        result={"analysis_type": "general"},
        created_by=analyst_web.user,
    )
    response = analyst_web.post(
        f"/analysis/{task.task_id}/cancel/", {"next": "https://evil.example/"}
    )
    assert response["Location"] == f"/analysis/{task.task_id}/"
    task.refresh_from_db()
    assert task.status == "completed"
    assert (
        b"Not cancelled: the task had already finished."
        in analyst_web.get(response["Location"]).content
    )


def test_task_pages_are_audited(viewer_web, followup):
    task = AnalysisTaskFactory(study=followup)
    viewer_web.get(f"/analysis/{task.task_id}/")
    viewer_web.get("/analysis/")
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "object_ids"))
    assert actions == [("web.analysis.view", [task.task_id]), ("web.analysis.list", [task.task_id])]


@pytest.mark.parametrize("kind", ["general", "detailed", "comparison"])
def test_a_resolving_haemorrhage_raises_no_banner_in_any_analysis(viewer_web, analyst_web, kind):
    # Issue 24: 脑出血吸收期 was raised as a critical haemorrhage in every analysis type.
    study = StudyFactory(exam_id="CT-RESOLVING", exam_item="头颅CT平扫")
    ReportFactory(study=study, content="检查所见：右侧基底节区脑出血吸收期，软化灶形成。")
    task = run(analyst_web, "CT-RESOLVING", kind)
    response = viewer_web.get(f"/analysis/{task.task_id}/", HTTP_ACCEPT_LANGUAGE="en")
    body = response.content.decode()
    assert "data-critical" not in body
    assert response.context["view"]["critical"] == []
    if kind == "general":
        assert "Hemorrhage (Right) — resolving: <q>吸收期</q>" in body


@pytest.mark.parametrize("kind", ["detailed", "comparison"])
def test_an_affirmed_critical_finding_raises_the_banner_in_every_analysis(
    viewer_web, analyst_web, kind
):
    study = StudyFactory(exam_id="CT-PTX")
    ReportFactory(study=study, content="检查所见：右侧气胸，肺组织压缩约30%。")
    task = run(analyst_web, "CT-PTX", kind)
    view = viewer_web.get(f"/analysis/{task.task_id}/").context["view"]
    assert [r["key"] for r in view["critical"]] == ["pneumothorax"]


# ------------------------------------------------------------ the page's language (issue 26)


def test_the_result_page_shows_the_summary_in_the_pages_language(viewer_web, analyst_web):
    study = StudyFactory(exam_id="CT-PTX", medical_record_no="MRN-PTX")
    ReportFactory(study=study, report_id="R-PTX", content="检查所见：左侧气胸。未见胸腔积液。")
    task = run(analyst_web, "CT-PTX", "general")
    english = viewer_web.get(f"/analysis/{task.task_id}/", HTTP_ACCEPT_LANGUAGE="en")
    chinese = viewer_web.get(f"/analysis/{task.task_id}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    english, chinese = english.content.decode(), chinese.content.decode()
    assert 'data-summary data-code="summary.general"' in english
    assert (
        "Report R-PTX (finalized). CRITICAL: Pneumothorax (left). Positive: Pneumothorax (left). "
        "Negated: Pleural effusion. Not certified yet."
    ) in english
    assert "分析摘要" in chinese
    assert (
        "报告 R-PTX（已定稿）。危急值：左侧气胸。阳性所见：左侧气胸。未见：胸腔积液。报告尚未审核。"
        in (chinese)
    )
    assert "Critical result" not in chinese.split("<details")[0]


def test_the_page_names_an_unflagged_critical_finding_in_its_language(viewer_web, analyst_web):
    study = StudyFactory(exam_id="CT-NEG", medical_record_no="MRN-NEG")
    ReportFactory(study=study, content="检查所见：双肺纹理清晰，未见气胸。")
    task = run(analyst_web, "CT-NEG", "general")
    body = viewer_web.get(f"/analysis/{task.task_id}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert '<span data-finding="pneumothorax">气胸' in body.content.decode()


def test_the_comparison_note_is_in_the_pages_language(viewer_web, analyst_web):
    ReportFactory(study=StudyFactory(exam_id="CT-ONE", medical_record_no="MRN-ONE"))
    task = run(analyst_web, "CT-ONE", "comparison")
    body = viewer_web.get(f"/analysis/{task.task_id}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert 'data-code="summary.no_prior"' in body.content.decode()
    assert "该患者没有可供对比的既往检查。" in body.content.decode()


def test_a_result_stored_without_codes_shows_its_english_summary(viewer_web, followup):
    result = {"analysis_type": "general", "source": "none", "summary": "Old English summary."}
    task = AnalysisTaskFactory(study=followup, status="completed", progress=100, result=result)
    body = viewer_web.get(f"/analysis/{task.task_id}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    body = body.content.decode()
    assert '<section class="panel" data-summary>' in body
    assert "Old English summary." in body


def test_a_failed_tasks_error_is_in_the_pages_language(viewer_web, followup):
    task = AnalysisTaskFactory(
        study=followup,
        status="failed",
        error_message="The task queue could not run this analysis; the details are in its log.",
        error_code="task.queue_failed",
    )
    body = viewer_web.get(f"/analysis/{task.task_id}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert 'data-code="task.queue_failed">任务队列无法运行此分析；详情见其日志。' in (
        body.content.decode()
    )
