"""The department's smaller needs in a real browser (Playwright + Debian's Chromium).

A patient's other studies on the study page and the patient page behind the record number;
one search request per user action (counted on the wire and in the audit log); the warning
before the automatic sign-out, with a countdown, and activity that keeps the session; status
and source values in the page's language; a search placeholder that fits at 1366×768; the
favicon. Every page runs its scripts without a console error. Screenshots go to
docs/screenshots/.
"""

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from audit.models import AuditEvent
from tests.browser.conftest import sign_in
from tests.factories import ReportFactory, StudyFactory, local

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def patient_history() -> None:
    """钱七 (MRN-FU): four studies over a year, reports on two; other patients around."""
    items = [("CT-2024", "胸部CT平扫", "已审核", "住院"), ("DR-2024", "胸部正位片", "已审核", "门诊"),
             ("MR-2025", "头颅MR平扫", "已报告", "急诊"), ("CT-2025", "胸部CT平扫", "已登记", "门诊")]  # fmt: skip
    for n, (exam_id, item, status, source) in enumerate(items):
        study = StudyFactory(
            exam_id=exam_id, medical_record_no="MRN-FU", patient_name="钱七", exam_item=item,
            exam_status=status, exam_source=source, order_datetime=local(2024, 6 + 2 * n, 1, 9),
        )  # fmt: skip
        if n < 2:
            ReportFactory(study=study, report_id=f"R-{exam_id}", status="finalized")
    for n in range(6):
        StudyFactory(exam_id=f"O{n}", patient_name="李四", order_datetime=local(2025, 6, 1 + n, 9))


@pytest.fixture
def watched(new_page) -> Callable[..., tuple[Any, list[str]]]:  # noqa: ANN001
    """A page whose console errors and uncaught script errors are collected."""

    def make(locale: str = "en-US") -> tuple[Any, list[str]]:
        page = new_page(locale)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        return page, errors

    return make


def test_a_patients_studies_from_the_study_page(watched, user_of, shot):
    patient_history()
    user_of(Role.VIEWER, username="reader")
    page, errors = watched()
    sign_in(page, "reader")

    page.goto("/studies/CT-2025/")
    others = page.locator("#other-studies [data-patient-studies] tbody tr")
    expect(others).to_have_count(3)
    expect(others.first).to_contain_text("MR-2025")
    expect(others.first).to_contain_text("Reported")  # the status in English
    expect(others.first).to_contain_text("Emergency")
    expect(others.first).to_contain_text("No report")
    expect(page.locator("#other-studies tr[data-exam=DR-2024] a[data-report]")).to_have_text(
        "Finalized"
    )
    expect(page.locator("table.kv")).to_contain_text("Checked in")
    shot(page, "ux-01-study-other-studies", full_page=True)

    # An earlier study of the patient, then all of them behind the record number.
    page.click("#other-studies a >> text=CT-2024")
    expect(page).to_have_url(re.compile(r"/studies/CT-2024/$"))
    page.click("a[data-patient-link]")
    expect(page).to_have_url(re.compile(r"/patients/MRN-FU/$"))
    rows = page.locator("#patient-history tbody tr")
    expect(rows).to_have_count(4)
    assert [rows.nth(n).get_attribute("data-exam") for n in range(4)] == [
        "CT-2025", "MR-2025", "DR-2024", "CT-2024",
    ]  # fmt: skip
    expect(page.locator("h1")).to_contain_text("钱七")
    shot(page, "ux-02-patient-history")
    page.click("#patient-history a[data-report=R-CT-2024]")
    expect(page).to_have_url(re.compile(r"/reports/R-CT-2024/$"))

    chinese, zh_errors = watched("zh-CN")
    sign_in(chinese, "reader")
    chinese.goto("/patients/MRN-FU/")
    expect(chinese.locator("main")).to_contain_text("此病历号共有 4 项检查")
    expect(chinese.locator("#patient-history")).to_contain_text("已报告")
    chinese.goto("/studies/CT-2025/")
    expect(chinese.locator("#other-studies h2")).to_have_text("该患者的其他检查")
    shot(chinese, "ux-03-study-other-studies-zh-hans", full_page=True)
    assert errors == [] and zh_errors == []


def _search_requests(page: Any) -> list[str]:
    sent: list[str] = []

    def on_request(request: Any) -> None:
        if request.headers.get("hx-request") == "true" and "/studies/" in request.url:
            sent.append(request.url)

    page.on("request", on_request)
    return sent


def _settle(page: Any) -> None:
    """Long enough for any late request a single action could still send."""
    page.wait_for_timeout(1500)


def test_one_search_request_per_user_action(watched, user_of, shot):
    for n in range(30):
        StudyFactory(
            exam_id=f"S{n:03d}",
            patient_name="王小明" if n % 3 == 0 else "李四",
            order_datetime=local(2025, 5, 20, 9) + timedelta(days=n),
        )
    user_of(Role.VIEWER, username="searcher")
    page, errors = watched()
    sign_in(page, "searcher")
    sent = _search_requests(page)
    total = page.locator("#results [data-total]")

    # A date typed digit by digit, as people type it.
    page.focus("#f-from")
    page.keyboard.type("06012025", delay=120)
    expect(page).to_have_url(re.compile(r"date_from=2025-06-01"))
    expect(total).to_have_attribute("data-total", "18")
    _settle(page)
    assert len(sent) == 1, sent

    # The text field: Enter.
    page.fill("#f-q", "王小明")
    page.press("#f-q", "Enter")
    expect(total).to_have_attribute("data-total", "6")
    _settle(page)
    assert len(sent) == 2, sent

    # The text field again, then the Search button (the field loses the focus on the way).
    page.fill("#f-q", "李四")
    page.click("form[data-search] button[type=submit]")
    expect(total).to_have_attribute("data-total", "12")
    _settle(page)
    assert len(sent) == 3, sent

    # A list.
    page.select_option("#f-status", "已审核")
    expect(page).to_have_url(re.compile(r"exam_status="))
    _settle(page)
    assert len(sent) == 4, sent

    # The date cleared: one search without it.
    page.focus("#f-from")
    for _ in range(3):
        page.keyboard.press("Backspace")
        page.keyboard.press("Tab")
    expect(page).not_to_have_url(re.compile(r"date_from=2025"))
    _settle(page)
    assert len(sent) == 5, sent

    # One audited search per request, besides the first page load.
    assert AuditEvent.objects.filter(action="web.study.search").count() == 1 + len(sent)
    # The status list shows the RIS's values in English, the chosen one kept.
    expect(page.locator("#f-status option[value='已审核']")).to_have_text("Certified")
    shot(page, "ux-04-studies-search")
    assert errors == []


def _placeholder_fits(page: Any) -> dict:
    """The placeholder's width in the field's own font against the field's inner width."""
    return page.evaluate(
        """() => {
            const input = document.querySelector('#f-q');
            const style = getComputedStyle(input);
            const context = document.createElement('canvas').getContext('2d');
            context.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
            const inner = input.clientWidth - parseFloat(style.paddingLeft)
                - parseFloat(style.paddingRight);
            return {text: input.placeholder, width: context.measureText(input.placeholder).width,
                    inner: inner};
        }"""
    )


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_the_search_placeholder_fits_and_the_favicon_loads(watched, user_of, shot, locale):
    user_of(Role.VIEWER, username="looker")
    page, errors = watched(locale)
    icons: list[int] = []
    page.on(
        "response",
        lambda r: icons.append(r.status) if r.url.endswith("/static/web/favicon.svg") else None,
    )
    sign_in(page, "looker")
    measured = _placeholder_fits(page)
    assert measured["width"] <= measured["inner"], measured
    assert page.get_attribute("link[rel=icon]", "href") == "/static/web/favicon.svg"
    assert page.request.get("/static/web/favicon.svg").status == 200
    assert page.request.get("/favicon.ico").url.endswith("/static/web/favicon.svg")
    shot(page, f"ux-05-studies-{locale}")
    assert errors == []


def test_the_idle_warning_counts_down_and_activity_keeps_the_session(
    watched, user_of, settings, shot
):
    settings.WEB_IDLE_TIMEOUT_MINUTES = 0.1  # six seconds: a warning from two seconds before
    StudyFactory(exam_id="I1")
    user_of(Role.VIEWER, username="idler")
    page, errors = watched()
    sign_in(page, "idler")

    warning = page.locator("#idle-warning")
    expect(warning).to_be_visible(timeout=10_000)
    expect(warning).to_contain_text("you will be signed out in")
    assert re.fullmatch(r"0:0[0-2]", page.inner_text("[data-idle-countdown]"))
    shot(page, "ux-06-idle-warning")
    page.click("[data-idle-stay]")
    expect(warning).to_be_hidden()

    # Typing that sends no request, for longer than the timeout, keeps the session: the
    # server hears of it, and the search typed meanwhile still answers.
    page.click("#f-q")
    for key in ["I", "1", *["Backspace", "1"] * 4]:
        page.keyboard.press(key)
        page.wait_for_timeout(1000)
    assert page.input_value("#f-q") == "I1"
    page.keyboard.press("Enter")
    expect(page.locator("#results [data-total]")).to_have_attribute("data-total", "1")
    expect(page).to_have_url(re.compile(r"/studies/\?q="))

    # Left alone: warned, then signed out and told why.
    expect(warning).to_be_visible(timeout=10_000)
    page.wait_for_url(re.compile(r"/login/\?next=/studies/"), timeout=20_000)
    expect(page.locator("ul.messages")).to_contain_text("without activity")
    assert AuditEvent.objects.filter(action="auth.logout", detail__reason="idle").count() == 1
    assert errors == []


def test_the_idle_warning_in_chinese(watched, user_of, settings, shot):
    settings.WEB_IDLE_TIMEOUT_MINUTES = 0.1
    user_of(Role.VIEWER, username="idler_zh")
    page, errors = watched("zh-CN")
    sign_in(page, "idler_zh")
    warning = page.locator("#idle-warning")
    expect(warning).to_be_visible(timeout=10_000)
    expect(warning).to_contain_text("后自动退出登录")
    expect(page.locator("[data-idle-stay]")).to_have_text("保持登录")
    shot(page, "ux-07-idle-warning-zh-hans")
    page.keyboard.press("Shift")  # a key is activity too
    expect(warning).to_be_hidden()
    assert errors == []
