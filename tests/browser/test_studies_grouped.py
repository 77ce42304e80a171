"""The studies list grouped by patient in Chromium, in English and in Chinese: the control
sends one search, the header rows with their counts, a group continued on the next page, the
record number's link to the patient page; no console error. Screenshots at 1366×768 go to
docs/screenshots/."""

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from audit.models import AuditEvent
from tests.browser.conftest import sign_in
from tests.browser.test_department_ux import _search_requests, _settle
from tests.factories import StudyFactory, local

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def three_patients() -> None:
    """MRN-A 赵一: 18 studies (12 certified); MRN-B 钱二: 4 (2 certified); 孙三 without a
    number: 1. 23 studies: grouped, the second page continues MRN-B."""
    start = local(2025, 1, 1, 9)
    for n in range(18):
        StudyFactory(
            exam_id=f"A{n:02d}", medical_record_no="MRN-A", patient_name="赵一",
            exam_status="已审核" if n % 3 else "已登记", order_datetime=start + timedelta(days=n),
        )  # fmt: skip
    for n in range(4):
        StudyFactory(
            exam_id=f"B{n:02d}", medical_record_no="MRN-B", patient_name="钱二",
            patient_gender="F", exam_status="已审核" if n % 2 else "已登记",
            order_datetime=start + timedelta(days=40 + n),
        )  # fmt: skip
    StudyFactory(exam_id="N00", medical_record_no=None, patient_name="孙三")


def _watched(new_page: Any, locale: str) -> tuple[Any, list[str]]:
    page = new_page(locale)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, errors


@pytest.mark.parametrize(
    ("locale", "texts"),
    [
        ("en-US", {"control": "Group by patient", "matched": "18 studies match",
                   "in_all": "18 studies in all", "continues": "continues on the next page",
                   "continued": "continued from the previous page", "filtered": "2 studies match",
                   "none": "No record number"}),
        ("zh-CN", {"control": "按患者分组", "matched": "18 项检查符合条件",
                   "in_all": "共 18 项检查", "continues": "下页继续", "continued": "接上页",
                   "filtered": "2 项检查符合条件", "none": "无病历号"}),
    ],
)  # fmt: skip
def test_grouping_the_studies_list_by_patient(new_page, user_of, shot, locale, texts):
    three_patients()
    user_of(Role.VIEWER, username="grouper")
    page, errors = _watched(new_page, locale)
    sign_in(page, "grouper")
    sent = _search_requests(page)
    heads = page.locator("#results tr.group-head")
    expect(page.locator("label[for=f-group]")).to_have_text(texts["control"])
    expect(heads).to_have_count(0)

    # Ticking the box: one search, grouped; the first patient's header and counts.
    page.check("#f-group")
    expect(page).to_have_url(re.compile(r"group=patient"))
    expect(heads).to_have_count(2)
    expect(heads.first).to_contain_text("赵一")
    expect(heads.first.locator("[data-matched]")).to_have_text(texts["matched"])
    expect(heads.first.locator("[data-studies]")).to_have_text(texts["in_all"])
    expect(heads.nth(1).locator("[data-continues]")).to_have_text(texts["continues"])
    rows = page.locator("#results tbody.patient-group[data-patient-group=MRN-A] tr[data-exam]")
    expect(rows).to_have_count(18)
    expect(rows.first).to_have_attribute("data-exam", "A17")  # newest first
    _settle(page)
    assert len(sent) == 1, sent
    shot(page, f"grouping-01-studies-by-patient-{locale.lower()}")

    # The next page: the second patient continued, then the one without a number.
    page.click("#results [data-page=next]")
    expect(page).to_have_url(re.compile(r"group=patient.*page=2|page=2.*group=patient"))
    expect(heads).to_have_count(2)
    expect(heads.first.locator("[data-continued]")).to_have_text(texts["continued"])
    expect(heads.nth(1)).to_contain_text(texts["none"])
    _settle(page)
    assert len(sent) == 2, sent

    # A list with the grouping on: one search, page 1, the counts of the filter.
    page.select_option("#f-status", "已审核")
    expect(page).to_have_url(re.compile(r"exam_status="))
    expect(page).not_to_have_url(re.compile(r"page=2"))
    expect(heads.first.locator("[data-matched]")).to_have_text(re.compile("12"))
    expect(heads.nth(1).locator("[data-matched]")).to_have_text(texts["filtered"])
    _settle(page)
    assert len(sent) == 3, sent

    # A sort keeps the grouping; unticking sends one search without it.
    page.click("#results thead a >> nth=0")
    expect(page).to_have_url(re.compile(r"sort=exam_id"))
    expect(page).to_have_url(re.compile(r"group=patient"))
    expect(heads.first).to_contain_text("赵一")
    _settle(page)
    assert len(sent) == 4, sent
    page.uncheck("#f-group")
    expect(page).not_to_have_url(re.compile(r"group=patient"))
    expect(heads).to_have_count(0)
    _settle(page)
    assert len(sent) == 5, sent
    assert AuditEvent.objects.filter(action="web.study.search").count() == 1 + len(sent)

    # Back to the grouping through the address, then the record number's link.
    page.goto("/studies/?group=patient")
    expect(page.locator("#f-group")).to_be_checked()
    page.click("#results a[data-patient-link] >> text=MRN-B")
    expect(page).to_have_url(re.compile(r"/patients/MRN-B/$"))
    expect(page.locator("#patient-history tbody tr")).to_have_count(4)
    assert errors == []
