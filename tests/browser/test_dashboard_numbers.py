"""The department's figures in Chromium: the dashboard in both languages with its percentiles,
a click on a bar opens the studies it counts, the data-quality page leads to its rows; no
console error on the way."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from tests.browser.conftest import sign_in
from tests.studies.conftest import department  # noqa: F401 - the known data set

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
WINDOW = "date_from=2025-03-09&date_to=2025-03-10"


def watch_console(page) -> list[str]:  # noqa: ANN001
    """Script errors, console errors and failed loads; the browser's own request for
    /favicon.ico (not a page's) is left out."""
    problems: list[str] = []

    def on_console(message) -> None:  # noqa: ANN001
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    def on_response(response) -> None:  # noqa: ANN001
        if response.status >= 400 and urlsplit(response.url).path != "/favicon.ico":
            problems.append(f"{response.status} {response.url}")

    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", on_console)
    page.on("response", on_response)
    return problems


def bar_position(page, canvas: str, dataset: int, index: int) -> dict:  # noqa: ANN001
    """Where Chart.js drew a bar, in the canvas's own coordinates."""
    return page.evaluate(
        """([id, dataset, index]) => {
            const bar = document.getElementById(id).chart.getDatasetMeta(dataset).data[index];
            const props = bar.getProps(["x", "y", "base"], true);
            return {x: props.x, y: (props.y + props.base) / 2};
        }""",
        [canvas, dataset, index],
    )


def test_a_click_on_a_bar_opens_its_studies(new_page, user_of, shot, department):  # noqa: F811
    user = user_of(Role.VIEWER)
    page = new_page()
    problems = watch_console(page)
    sign_in(page, user.username)
    page.goto(f"/dashboard/?{WINDOW}")
    page.wait_for_selector("body[data-charts-ready=true]")
    expect(page.locator("[data-kpi=studies]")).to_have_text("6")
    expect(page.locator("[data-kpi=median]")).to_have_text("13.5 h")
    expect(page.locator("[data-kpi=p90]")).to_have_text("74.4 h")
    expect(page.locator("[data-kpi=within]")).to_have_text("75.0 %")
    expect(page.locator("[data-table=by-modality] tbody tr")).to_have_count(2)
    shot(page, "11-dashboard-numbers", full_page=True)

    # CT on 2025-03-10: the first data set's second bar.
    page.locator("#chart-per-day").click(position=bar_position(page, "chart-per-day", 0, 1))
    page.wait_for_url(re.compile(r"/studies/\?"))
    query = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert query == {"date_from": "2025-03-10", "date_to": "2025-03-10", "equipment_type": "CT"}
    expect(page.locator("#results [data-total]")).to_have_attribute("data-total", "2")
    expect(page.locator("#f-modality")).to_have_value("CT")
    assert problems == []


def test_dashboard_and_data_quality_in_chinese(new_page, user_of, shot, department):  # noqa: F811
    user = user_of(Role.VIEWER)
    page = new_page(locale="zh-CN")
    problems = watch_console(page)
    sign_in(page, user.username)
    page.goto(f"/dashboard/?{WINDOW}")
    page.wait_for_selector("body[data-charts-ready=true]")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("main")).to_contain_text("开单 → 审核中位数")
    expect(page.locator("main")).to_contain_text("24 小时内审核")
    shot(page, "12-dashboard-numbers-zh-hans", full_page=True)

    page.click("a[data-quality]")
    page.wait_for_url(re.compile(r"/dashboard/quality/\?"))
    expect(page.locator("h1")).to_have_text("数据质量")
    row = page.locator("tr[data-check=reported_without_physician]")
    expect(row.locator("[data-count]")).to_have_text("2")
    shot(page, "13-data-quality-zh-hans", full_page=True)
    row.locator("[data-count]").click()
    page.wait_for_url(re.compile(r"/dashboard/quality/reported_without_physician/"))
    expect(page.locator("[data-table=studies] tbody tr")).to_have_count(2)
    expect(page.locator("[data-table=studies]")).to_contain_text("D")
    assert problems == []
