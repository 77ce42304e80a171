"""The reports page's patient name field and its export (issue 26) in a real browser
(Playwright + Debian's Chromium): fill the name, see its reports, and the export links carry
the filters; the downloaded workbook holds those reports. Both languages, no console error."""

import re
from urllib.parse import parse_qs, urlparse

import openpyxl
import pytest
from playwright.sync_api import expect

from accounts.models import Role
from tests.browser.conftest import sign_in
from tests.factories import ReportFactory, StudyFactory, local

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LABELS = {
    "en-US": {"patient": "Patient name", "xlsx": "Export Excel", "total": "3 reports"},
    "zh-CN": {"patient": "患者姓名", "xlsx": "导出 Excel", "total": "3 份报告"},
}


def reports_of_patients() -> None:
    """Three reports of 王芳, two of 李四."""
    fang = StudyFactory(exam_id="E-FANG", patient_name="王芳", exam_item="胸部CT平扫")
    lisi = StudyFactory(exam_id="E-LISI", patient_name="李四")
    for n in range(3):
        ReportFactory(report_id=f"R-FANG-{n}", study=fang, created_at=local(2025, 11, 1 + n, 9))
    for n in range(2):
        ReportFactory(report_id=f"R-LISI-{n}", study=lisi, created_at=local(2025, 11, 5 + n, 9))


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_patient_name_search_and_its_export(new_page, user_of, tmp_path, locale):
    reports_of_patients()
    user_of(Role.VIEWER, username="reader")
    page = new_page(locale)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, "reader")
    page.goto("/reports/")
    expect(page.locator("#results [data-total]")).to_have_attribute("data-total", "5")
    expect(page.locator("label[for=r-patient]")).to_have_text(LABELS[locale]["patient"])

    page.fill("#r-patient", "王芳")
    page.press("#r-patient", "Enter")
    expect(page.locator("#results [data-total]")).to_have_attribute("data-total", "3")
    expect(page.locator("#results [data-total]")).to_contain_text(LABELS[locale]["total"])
    expect(page).to_have_url(re.compile(r"patient_name=%E7%8E%8B%E8%8A%B3"))
    ids = page.locator("#results tbody tr td.mono a:first-child").all_inner_texts()
    assert ids == ["R-FANG-2", "R-FANG-1", "R-FANG-0"]

    xlsx = page.locator("#results a[data-export=xlsx]")
    expect(xlsx).to_have_text(LABELS[locale]["xlsx"])
    for fmt in ("xlsx", "csv"):
        href = page.get_attribute(f"#results a[data-export={fmt}]", "href")
        link = urlparse(href)
        assert link.path == "/reports/export/"
        assert parse_qs(link.query) == {"patient_name": ["王芳"], "format": [fmt]}

    with page.expect_download() as download_info:
        xlsx.click()
    download = download_info.value
    assert re.fullmatch(r"reports_\d{8}_\d{6}\.xlsx", download.suggested_filename)
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    rows = list(openpyxl.load_workbook(target).active.values)
    assert [row[0] for row in rows] == ["报告ID", "R-FANG-2", "R-FANG-1", "R-FANG-0"]
    assert {row[2] for row in rows[1:]} == {"王芳"}
    assert errors == []
