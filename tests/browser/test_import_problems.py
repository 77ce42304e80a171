"""The import page in English and Chinese: translated row problems and warnings with their codes,
the invalid-rows option and the rejected-rows download, in Chromium."""

from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect

from accounts.models import Role
from studies.models import Study
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CSV = (
    "检查号,姓名,性别,检查状态,检查来源,检查项目,开单时间\n"
    "P1,孙八,男,已登记,门诊,胸部CT平扫,2025-11-06 10:30\n"
    "P2,周九,X,已登记,门诊,胸部CT平扫,2025-11-06 11:00\n"
    "P3,吴十,女,已登记,门诊,胸部CT平扫,下周一\n"
)

EXPECTED = {
    "en-US": {
        "problem": "Invalid date/time",
        "warning": "Not a known gender; stored as unknown (U)",
        "left_out": "1 invalid row was left out",
        "download": "Download the rejected rows (Excel)",
        "column": "Problem",
        "cell": "开单时间: Invalid date/time",
        "summary": "The file has 1 invalid row(s) (1 error(s)); nothing was imported",
    },
    "zh-CN": {
        "problem": "日期/时间无效",
        "warning": "无法识别的性别；按未知（U）保存",
        "left_out": "已略过 1 个无效行",
        "download": "下载被拒绝的行（Excel）",
        "column": "问题",
        "cell": "开单时间: 日期/时间无效",
        "summary": "文件有 1 行无效（1 个错误）；未导入任何数据",
    },
}


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_the_import_page_shows_translated_problems_and_offers_the_rejected_rows(
    new_page, user_of, tmp_path, shot, locale
):
    texts = EXPECTED[locale]
    admin = user_of(Role.ADMIN)
    page = new_page(locale=locale)
    # Script errors, and failed loads other than the refused file's answer (422, by design)
    # and the favicon the browser asks for on its own (another change adds one).
    console_errors: list[str] = []
    failed: list[str] = []

    def on_console(message) -> None:  # noqa: ANN001
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            console_errors.append(message.text)

    def on_response(response) -> None:  # noqa: ANN001
        refused_file = response.status == 422 and response.request.method == "POST"
        if response.status >= 400 and not refused_file and "favicon" not in response.url:
            failed.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda e: console_errors.append(str(e)))
    page.on("response", on_response)
    sign_in(page, admin.username)
    path = tmp_path / "mixed.csv"
    path.write_text(CSV, encoding="utf-8")

    # The whole-file default: the row problem and the warning, in the page's language.
    page.goto("/import/")
    page.set_input_files("#id_file", str(path))
    page.click("button[data-action=preview]")
    expect(page.locator("[data-outcome=rejected]")).to_be_visible()
    problem = page.locator("[data-row-errors] tbody tr[data-code='row.invalid_datetime']")
    expect(problem).to_contain_text(texts["problem"])
    expect(problem).to_contain_text("下周一")
    expect(problem.locator("td").first).to_have_text("4")
    summary = page.locator("#import-outcome [data-code='import.invalid_rows']")
    expect(summary).to_have_text(texts["summary"])
    # The history says the refusal in the page's language too.
    expect(page.locator("#batches-body")).to_contain_text(texts["summary"])
    assert not Study.objects.exists()

    # Import the valid rows: the warning is listed, the rejected row downloadable.
    page.select_option("#id_on_invalid", "skip")
    page.click("button[data-action=preview]")
    expect(page.locator("[data-outcome=preview]")).to_be_visible()
    warning = page.locator("[data-row-warnings] tr[data-code='warning.gender_unrecognised']")
    expect(warning).to_contain_text(texts["warning"])
    expect(page.locator("[data-partial]")).to_contain_text(texts["left_out"])
    page.click("button[data-action=commit]")
    expect(page.locator("[data-outcome=imported]")).to_be_visible()
    expect(page.locator("[data-partial]")).to_contain_text(texts["left_out"])
    link = page.locator("a[data-rejected-download]")
    expect(link).to_have_text(texts["download"])
    shot(page, f"09-import-partial-{locale[:2]}", full_page=True)
    assert sorted(Study.objects.values_list("exam_id", flat=True)) == ["P1", "P2"]
    assert Study.objects.get(exam_id="P2").patient_gender == "U"

    with page.expect_download() as download:
        link.click()
    saved = Path(tmp_path / download.value.suggested_filename)
    download.value.save_as(saved)
    assert saved.name.startswith("mixed_rejected_")
    rows = list(openpyxl.load_workbook(saved).active.iter_rows(values_only=True))
    assert rows[0] == ("检查号", "姓名", "性别", "检查状态", "检查来源", "检查项目", "开单时间",
                       texts["column"])  # fmt: skip
    assert rows[1:] == [
        ("P3", "吴十", "女", "已登记", "门诊", "胸部CT平扫", "下周一", texts["cell"])
    ]
    assert console_errors == []
    assert failed == []
