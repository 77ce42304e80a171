"""A department's day in a real browser (Playwright + Debian's Chromium, live server, worker).

Log in, search by a Chinese name, filter and sort, page forward and back, open a study, run a
comparison analysis and watch it complete without a page reload, open the result, export and
open the downloaded file, import a file with an error and read the row message, switch
language, log out and find the pages closed. Screenshots of the main pages go to
docs/screenshots/.
"""

import re
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect

from accounts.models import Role
from analysis.models import AnalysisTask
from studies.models import Study
from tests.browser.conftest import sign_in
from tests.factories import ReportFactory, StudyFactory, local

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

NAME = "王小明"
STATUSES = ("已登记", "已审核", "已报告")


def department_data() -> None:
    """45 studies of 王小明 (15 of each status), a few other patients, and a follow-up pair."""
    start = local(2025, 6, 1, 8, 0)
    for n in range(45):
        ordered = start + timedelta(hours=n)
        StudyFactory(
            exam_id=f"W{n:03d}",
            patient_name=NAME,
            exam_status=STATUSES[n % 3],
            patient_age=20 + n,
            equipment_type=("CT", "MR", "DR")[n % 3 // 2 + n % 2],
            order_datetime=ordered,
            # certified studies with turnarounds from 20 minutes to two days and a half
            report_certification_datetime=ordered + timedelta(minutes=20 + 97 * n)
            if n % 3
            else None,
        )
    for n, name in enumerate(["李四", "张伟", "Zhang Wei", "赵六"]):
        StudyFactory(exam_id=f"O{n:03d}", patient_name=name, order_datetime=start)
    prior = StudyFactory(
        exam_id="CT-PRIOR", patient_name="钱七", medical_record_no="MRN-FU",
        order_datetime=local(2024, 9, 1, 9, 0),
    )  # fmt: skip
    ReportFactory(
        study=prior,
        report_id="R-PRIOR",
        content="检查所见：右肺上叶结节，大小约8mm。双肺散在肺气肿。\n诊断意见：右肺上叶结节。",
    )
    current = StudyFactory(
        exam_id="CT-NOW", patient_name="钱七", medical_record_no="MRN-FU",
        order_datetime=local(2025, 3, 1, 9, 0),
    )  # fmt: skip
    ReportFactory(
        study=current,
        report_id="R-NOW",
        content="检查所见：右肺上叶结节，大小约12x10mm，较前增大。左侧少量胸腔积液。未见气胸。\n"
        "诊断意见：右肺上叶结节，较前增大；左侧少量胸腔积液。",
    )


def rows(page) -> list[list[str]]:
    return [
        [cell.strip() for cell in row.locator("td").all_inner_texts()]
        for row in page.locator("#results table tbody tr").all()
    ]


def test_department_workflow_in_a_real_browser(
    new_page,
    user_of,
    analysis_worker,
    shot,
    tmp_path,
    live_server,
):
    department_data()
    user_of(Role.ADMIN, username="radiologist")
    page = new_page()

    # ---- closed until signed in
    page.goto("/studies/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/studies/$"))
    shot(page, "01-login")
    sign_in(page, "radiologist")

    # ---- search by a Chinese name (htmx: the URL follows, the page does not reload)
    page.evaluate("window.__sameDocument = true")
    page.fill("#f-q", NAME)
    page.press("#f-q", "Enter")
    expect(page.locator("#results [data-total]")).to_have_attribute("data-total", "45")
    expect(page).to_have_url(re.compile(r"q=%E7%8E%8B%E5%B0%8F%E6%98%8E"))
    assert all(r[1] == NAME for r in rows(page))
    shot(page, "02-studies-search")

    # ---- filter by a dropdown
    page.select_option("#f-status", "已审核")
    expect(page.locator("#results [data-total]")).to_have_attribute("data-total", "15")
    expect(page).to_have_url(re.compile(r"exam_status=%E5%B7%B2%E5%AE%A1%E6%A0%B8"))

    # ---- sort by age, ascending then descending
    page.select_option("#f-status", "")
    expect(page.locator("#results [data-total]")).to_have_attribute("data-total", "45")
    page.click("th a[data-sort=patient_age]")
    expect(page).to_have_url(re.compile(r"sort=patient_age"))
    ages = [int(r[3]) for r in rows(page)]
    assert ages == sorted(ages) and ages[0] == 20
    page.click("th a[data-sort=patient_age]")
    expect(page).to_have_url(re.compile(r"sort=-patient_age"))
    expect(page.locator("#results tbody tr").first.locator("td").nth(3)).to_have_text("64")
    # Another filter keeps the chosen order (the form follows the sorted header).
    page.select_option("#f-gender", "M")
    expect(page).to_have_url(re.compile(r"patient_gender=M"))
    expect(page).to_have_url(re.compile(r"sort=-patient_age"))
    expect(page.locator("#results tbody tr").first.locator("td").nth(3)).to_have_text("64")

    # ---- page forward; the back button returns to page 1
    page.click("#results a[data-page=next]")
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.locator("#results .pager .info")).to_contain_text("21–40 of 45")
    assert page.evaluate("window.__sameDocument") is True  # all of this without a reload
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"page=2"))
    expect(page.locator("#results tbody tr").first.locator("td").nth(3)).to_have_text("64")

    # ---- export the current search and open the file
    with page.expect_download() as download_info:
        page.click("a[data-export=xlsx]")
    download = download_info.value
    assert re.fullmatch(r"studies_\d{8}_\d{6}\.xlsx", download.suggested_filename)
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    sheet = openpyxl.load_workbook(target).active
    exported = list(sheet.values)
    assert exported[0][0] == "检查号" and exported[0][3] == "姓名"
    assert len(exported) == 46
    assert {row[3] for row in exported[1:]} == {NAME}

    # ---- open a study
    page.fill("#f-q", "CT-NOW")
    page.press("#f-q", "Enter")
    expect(page.locator("#results [data-total]")).to_have_attribute("data-total", "1")
    page.click("#results tbody a >> text=CT-NOW")
    expect(page).to_have_url(re.compile(r"/studies/CT-NOW/$"))
    expect(page.locator("h1")).to_contain_text("钱七")
    expect(page.locator("table.kv")).to_contain_text("MRN-FU")
    shot(page, "03-study-detail", full_page=True)

    # ---- run a comparison analysis and watch it complete, without a reload
    page.click("button[data-analysis-type=comparison]")
    expect(page).to_have_url(re.compile(r"/analysis/[0-9a-f]{32}/$"))
    task = AnalysisTask.objects.get()
    page.evaluate("window.__sameDocument = true")
    seen = set()
    for _ in range(600):
        status = page.get_attribute("#task-body", "data-status")
        seen.add(status)
        if status in ("completed", "failed", "cancelled"):
            break
        page.wait_for_timeout(100)
    assert status == "completed", analysis_worker.output()
    assert seen & {"pending", "processing"}, seen  # the page showed the run before its end
    assert page.evaluate("window.__sameDocument") is True
    task.refresh_from_db()
    assert task.status == "completed"

    # ---- the result: side-by-side comparison with the prior study
    result = page.locator("[data-result=comparison]")
    expect(result.locator("[data-prior]")).to_contain_text("CT-PRIOR")
    expect(result.locator("tr[data-change=new]")).to_contain_text("胸腔积液")
    expect(result.locator("tr[data-change=persistent]")).to_contain_text("8mm")
    expect(result.locator("tr[data-change=persistent]")).to_contain_text("12x10mm")
    expect(result.locator("tr[data-change=resolved]")).to_contain_text("肺气肿")
    expect(result.locator("[data-size-changes]")).to_contain_text("+4 mm")
    expect(result.locator("mark.finding").first).to_be_visible()
    shot(page, "04-analysis-result", full_page=True)

    # ---- the task list, and the result opened from it
    page.goto("/analysis/")
    expect(page.locator(f"tr[data-task='{task.task_id}']")).to_have_attribute(
        "data-status", "completed"
    )
    shot(page, "05-analysis-list")
    page.click(f"tr[data-task='{task.task_id}'] a >> text=Result")
    expect(page.locator("[data-result=comparison]")).to_be_visible()

    # ---- reports: the match highlighted in the snippet, then the report's sections
    page.goto("/reports/?q=" + "结节")
    expect(page.locator("#results mark").first).to_have_text("结节")
    shot(page, "06-reports-search")
    page.click("#results a >> text=R-NOW")
    expect(page.locator("[data-section=impression]")).to_contain_text("较前增大")
    shot(page, "07-report-detail")

    # ---- import a file with an error: the row message, nothing written
    bad = tmp_path / "bad_studies.csv"
    bad.write_text(
        "检查号,姓名,检查状态,检查来源,检查项目,开单时间\n"
        "NEW1,孙八,已登记,门诊,胸部CT平扫,2025-11-06 10:30\n"
        "NEW2,周九,已登记,门诊,胸部CT平扫,下周一\n",
        encoding="utf-8",
    )
    page.goto("/import/")
    page.set_input_files("#id_file", str(bad))
    page.click("button[data-action=preview]")
    errors = page.locator("[data-row-errors]")
    expect(errors).to_contain_text("下周一")
    expect(errors.locator("tbody tr").first.locator("td").first).to_have_text("3")
    expect(errors).to_contain_text("开单时间")
    expect(page.locator("#batches-body")).to_contain_text("bad_studies.csv")
    shot(page, "08-import-row-error", full_page=True)
    assert not Study.objects.filter(exam_id__startswith="NEW").exists()

    # ---- a good file: preview, then commit the same file
    good = tmp_path / "good_studies.csv"
    good.write_text(bad.read_text(encoding="utf-8").replace("下周一", "2025-11-07 09:00"))
    page.set_input_files("#id_file", str(good))
    page.click("button[data-action=preview]")
    expect(page.locator("[data-outcome=preview]")).to_be_visible()
    page.click("button[data-action=commit]")
    expect(page.locator("[data-outcome=imported]")).to_be_visible()
    assert Study.objects.filter(exam_id__startswith="NEW").count() == 2

    # ---- dashboard
    page.goto("/dashboard/?days=30&end=2025-06-03")
    expect(page.locator("[data-kpi=studies]")).to_have_text("49")
    page.wait_for_function("document.querySelector('#chart-per-day').width > 0")
    shot(page, "09-dashboard", full_page=True)

    # ---- switch language
    page.goto("/studies/?q=" + NAME)
    page.click("form.langswitch button[value=zh-hans]")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("nav.mainnav")).to_contain_text("检查")
    expect(page.locator("#results [data-total]")).to_contain_text("45 项检查")
    expect(page).to_have_url(re.compile(r"/studies/\?q="))
    shot(page, "10-studies-zh-hans")
    page.goto(f"/analysis/{task.task_id}/")
    expect(page.locator("[data-result=comparison]")).to_contain_text("新发")
    shot(page, "11-analysis-result-zh-hans", full_page=True)

    # ---- log out: the pages are closed, the back button shows nothing
    page.click("button[data-action=logout]")
    expect(page).to_have_url(re.compile(r"/login/$"))
    for path in ("/studies/", f"/analysis/{task.task_id}/", "/import/"):
        page.goto(path)
        expect(page).to_have_url(re.compile(r"/login/\?next="))
    page.go_back()
    expect(page).to_have_url(re.compile(r"/login/"))
    assert "钱七" not in page.content()


def test_viewer_cannot_reach_import_or_analysis_actions_in_the_browser(
    new_page,
    user_of,
    live_server,
):
    StudyFactory(exam_id="CT-V")
    user_of(Role.VIEWER, username="viewer1")
    page = new_page()
    sign_in(page, "viewer1")
    expect(page.locator("nav.mainnav a[data-nav=import]")).to_have_count(0)
    page.goto("/studies/CT-V/")
    expect(page.locator("[data-run-analysis]")).to_have_count(0)

    response = page.goto("/import/")
    assert response.status == 403
    expect(page.locator("main")).to_contain_text("Your role does not allow this action.")

    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    refused = page.request.post(
        "/analysis/new/",
        form={"exam_id": "CT-V", "analysis_type": "general"},
        headers={"X-CSRFToken": token},
    )
    assert refused.status == 403
    assert not AnalysisTask.objects.exists()


def test_an_idle_page_logs_itself_off(new_page, user_of, settings):
    settings.WEB_IDLE_TIMEOUT_MINUTES = 0.05  # three seconds
    user_of(Role.VIEWER, username="viewer2")
    page = new_page()
    sign_in(page, "viewer2")
    # Nobody touches the page: its timer goes back to the server, which signs it out.
    page.wait_for_url(re.compile(r"/login/\?next=/studies/"), timeout=20_000)
    expect(page.locator("ul.messages")).to_contain_text("without activity")


def test_screenshots_folder_is_git_ignored():
    gitignore = (Path(__file__).resolve().parents[2] / ".gitignore").read_text()
    assert "docs/screenshots/" in gitignore
