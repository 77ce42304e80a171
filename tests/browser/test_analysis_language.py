"""Issue 26 in a real browser: an analysis run by the real worker, its summary read in English
and in Chinese (the page's language from the browser's), with no error in the console."""

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from analysis.models import AnalysisTask
from tests.browser.conftest import sign_in
from tests.factories import ReportFactory, StudyFactory, local

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SUMMARIES = {
    "general": (
        "Report R-PTX (finalized). CRITICAL: Pneumothorax (left). Positive: Pneumothorax (left). "
        "Negated: Pleural effusion. Not certified yet.",
        "报告 R-PTX（已定稿）。危急值：左侧气胸。阳性所见：左侧气胸。未见：胸腔积液。报告尚未审核。",
    ),
    "comparison": (
        "Compared with CT-BEFORE, 90 day(s) earlier: 1 new (Pneumothorax (left)); "
        "0 resolved; 1 persistent. Nodule (right) 6 -> 9 mm (+3 mm, +50%, increased).",
        "与 90 天前的前片 CT-BEFORE 比较：新发 1 项（左侧气胸）；消失 0 项；持续存在 1 项。"
        "右侧结节 6 → 9 mm（+3 mm，+50%，增大）。",
    ),
}


def _watch(page: Any, errors: list[str]) -> Any:
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page


def _run_from_the_study_page(page: Any, exam_id: str, kind: str, worker: Any) -> str:
    page.goto(f"/studies/{exam_id}/")
    page.click(f"button[data-analysis-type={kind}]")
    expect(page).to_have_url(re.compile(r"/analysis/[0-9a-f]{32}/$"))
    # The page follows the run (the real worker) until it completes, without a reload.
    status = page.locator("#task-body")
    for _ in range(600):
        if status.get_attribute("data-status") in ("completed", "failed", "cancelled"):
            break
        page.wait_for_timeout(100)
    assert status.get_attribute("data-status") == "completed", worker.output()
    return page.url.rstrip("/").rsplit("/", 1)[1]


def test_the_summary_in_the_pages_language(new_page, user_of, analysis_worker):
    ReportFactory(
        report_id="R-PTX",
        study=StudyFactory(exam_id="CT-PTX", medical_record_no="MRN-PTX"),
        content="检查所见：左侧气胸。未见胸腔积液。",
    )
    before = StudyFactory(
        exam_id="CT-BEFORE", medical_record_no="MRN-FU", order_datetime=local(2025, 1, 1, 9, 0)
    )
    ReportFactory(study=before, content="检查所见：右肺上叶结节，大小约6mm。")
    now = StudyFactory(
        exam_id="CT-AFTER", medical_record_no="MRN-FU", order_datetime=local(2025, 4, 1, 9, 0)
    )
    ReportFactory(study=now, content="检查所见：右肺上叶结节，大小约9mm。左侧气胸。")
    user_of(Role.ANALYST, username="analyst26")
    errors: list[str] = []

    english = _watch(new_page("en-US"), errors)
    sign_in(english, "analyst26")
    tasks = {
        "general": _run_from_the_study_page(english, "CT-PTX", "general", analysis_worker),
        "comparison": _run_from_the_study_page(english, "CT-AFTER", "comparison", analysis_worker),
    }
    assert AnalysisTask.objects.filter(status="completed").count() == 2

    chinese = _watch(new_page("zh-CN"), errors)
    sign_in(chinese, "analyst26")
    for kind, task_id in tasks.items():
        text_en, text_zh = SUMMARIES[kind]
        english.goto(f"/analysis/{task_id}/")
        summary = english.locator("[data-summary]")
        expect(summary).to_contain_text(text_en)
        expect(summary).to_contain_text("Analysis summary")
        expect(summary).to_have_attribute("data-code", f"summary.{kind}")

        chinese.goto(f"/analysis/{task_id}/")
        expect(chinese.locator("html")).to_have_attribute("lang", "zh-hans")
        summary = chinese.locator("[data-summary]")
        expect(summary).to_contain_text(text_zh)
        expect(summary).to_contain_text("分析摘要")
        expect(summary).to_have_attribute("data-code", f"summary.{kind}")
        expect(summary).not_to_contain_text(text_en)

    # The critical banner and the page switched by its language switch say the same.
    chinese.goto(f"/analysis/{tasks['general']}/")
    expect(chinese.locator("[data-critical]")).to_contain_text("气胸")
    english.goto(f"/analysis/{tasks['general']}/")
    english.click("form.langswitch button[value=zh-hans]")
    expect(english.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(english.locator("[data-summary]")).to_contain_text(SUMMARIES["general"][1])
    assert errors == []
