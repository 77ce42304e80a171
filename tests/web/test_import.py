"""Import page: upload, dry-run preview with row errors, commit, history (admin only)."""

import re
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from ingest.models import ImportBatch
from studies.models import Study

pytestmark = pytest.mark.django_db

HEADER = "检查号,姓名,检查状态,检查来源,检查项目,开单时间\n"
GOOD = (
    HEADER
    + "X1,张三,已登记,门诊,胸部CT平扫,2025-11-06 10:30\nX2,李四,已登记,门诊,胸部CT平扫,2025/11/06 11:00\n"
)
BAD = (
    HEADER
    + "X1,张三,已登记,门诊,胸部CT平扫,2025-11-06 10:30\nX2,李四,已登记,门诊,胸部CT平扫,not a date\n"
)


def csv_file(text: str, name: str = "studies.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def post(client, text: str, action: str):
    data = {"kind": "studies", "on_duplicate": "update", "file": csv_file(text), "action": action}
    return client.post("/import/", data)


def test_preview_of_a_file_with_an_error_lists_the_row_and_writes_nothing(admin_web):
    response = post(admin_web, BAD, "preview")
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    body = response.content.decode()
    assert 'data-outcome="rejected"' in body
    errors = response.context["outcome"]["result"]["errors"]
    assert [(e["row"], e["column"], e["value"]) for e in errors] == [(3, "开单时间", "not a date")]
    assert "not a date" in body and "data-row-errors" in body
    assert not Study.objects.exists()
    assert 'data-action="commit"' not in body


def test_preview_of_a_valid_file_counts_and_offers_the_commit(admin_web):
    response = post(admin_web, GOOD, "preview")
    assert response.status_code == HTTPStatus.OK
    result = response.context["outcome"]["result"]
    assert (result["rows_total"], result["created"]) == (2, 2)
    assert 'data-action="commit"' in response.content.decode()
    assert not Study.objects.exists()
    assert ImportBatch.objects.get().status == "dry_run"


def test_commit_imports_the_file(admin_web):
    response = post(admin_web, GOOD, "commit")
    assert response.status_code == HTTPStatus.OK
    assert 'data-outcome="imported"' in response.content.decode()
    assert sorted(Study.objects.values_list("exam_id", flat=True)) == ["X1", "X2"]
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.source, batch.username) == (
        "succeeded",
        "web",
        admin_web.user.username,
    )


def test_commit_of_the_same_file_again_changes_nothing(admin_web):
    post(admin_web, GOOD, "commit")
    result = post(admin_web, GOOD, "commit").context["outcome"]["result"]
    assert (result["created"], result["updated"], result["unchanged"]) == (0, 0, 2)


def test_import_of_reports(admin_web):
    post(admin_web, GOOD, "commit")
    reports = "report_id,exam_id,content,status\nR1,X1,检查所见：未见异常。,finalized\n"
    data = {"kind": "reports", "on_duplicate": "update", "action": "commit",
            "file": csv_file(reports, "reports.csv")}  # fmt: skip
    response = admin_web.post("/import/", data)
    assert response.context["outcome"]["result"]["created"] == 1


def test_unsupported_file_type_is_refused_with_a_message(admin_web):
    data = {"kind": "studies", "on_duplicate": "update", "action": "preview",
            "file": SimpleUploadedFile("notes.txt", b"hello")}  # fmt: skip
    response = admin_web.post("/import/", data)
    assert response.status_code == HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    assert 'data-outcome="rejected"' in response.content.decode()


def test_file_over_the_upload_limit_is_refused(admin_web, settings):
    settings.MAX_UPLOAD_MB = 0.0001
    response = post(admin_web, GOOD * 5, "commit")
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert b"upload limit" in response.content
    assert not ImportBatch.objects.exists()


def test_htmx_upload_returns_the_outcome_and_the_refreshed_history(admin_web):
    response = admin_web.post(
        "/import/",
        {"kind": "studies", "on_duplicate": "update", "action": "preview", "file": csv_file(GOOD)},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="import-outcome",
    )
    body = response.content.decode()
    assert body.startswith('<section id="import-outcome"')
    assert '<div id="batches-body" hx-swap-oob="true">' in body
    assert "studies.csv" in body


def test_history_lists_every_batch_newest_first(admin_web):
    post(admin_web, BAD, "preview")
    post(admin_web, GOOD, "commit")
    response = admin_web.get("/import/")
    assert [b.status for b in response.context["batches"]] == ["succeeded", "rejected"]


@pytest.mark.parametrize(
    ("language", "preview", "note"),
    [
        ("en", "Preview", "A preview: nothing was written."),
        ("zh-hans", "预检", "预检：未写入任何数据。"),
    ],
)
def test_history_shows_a_preview_as_a_preview(admin_web, language, preview, note):
    post(admin_web, BAD, "preview")
    post(admin_web, GOOD, "preview")
    post(admin_web, GOOD, "commit")
    body = admin_web.get("/import/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    rows = re.findall(r'<tr data-batch="[0-9a-f]+"( class="preview")?>(.*?)</tr>', body, re.S)
    outcomes = [
        (marked, re.findall(r'<span class="badge (\w+)">([^<]*)</span>', row), note in row)
        for marked, row in rows
    ]
    imported = "Imported" if language == "en" else "已导入"
    rejected = "Rejected" if language == "en" else "已拒绝"
    assert outcomes == [
        ("", [("succeeded", imported)], False),
        (' class="preview"', [("dry_run", preview)], True),
        (' class="preview"', [("dry_run", preview), ("rejected", rejected)], True),
    ]


def test_import_is_audited_with_its_batch(admin_web):
    post(admin_web, GOOD, "preview")
    event = AuditEvent.objects.get()
    batch = ImportBatch.objects.get()
    assert (event.action, event.object_ids, event.result_count) == (
        "web.import.studies", [batch.batch_id], 2,
    )  # fmt: skip
    assert event.detail == {
        "file_name": "studies.csv", "on_duplicate": "update", "dry_run": True,
        "on_invalid": "reject",
    }  # fmt: skip


def test_a_partial_import_in_chinese_offers_the_rejected_rows(admin_web):
    admin_web.post("/i18n/setlang/", {"language": "zh-hans", "next": "/import/"})
    data = {"kind": "studies", "on_duplicate": "update", "on_invalid": "skip",
            "file": csv_file(BAD), "action": "commit"}  # fmt: skip
    response = admin_web.post("/import/", data)
    assert response.status_code == HTTPStatus.OK
    body = response.content.decode()
    assert "已略过 1 个无效行；其余行有效。" in body
    assert "日期/时间无效" in body and "row.invalid_datetime" in body
    assert list(Study.objects.values_list("exam_id", flat=True)) == ["X1"]
    batch = ImportBatch.objects.get()
    url = f"/import/{batch.batch_id}/rejected.xlsx"
    assert f'href="{url}"' in body
    download = admin_web.get(url)
    assert download.status_code == HTTPStatus.OK
    assert download["Content-Disposition"].startswith('attachment; filename="studies_rejected_')


def test_the_rejected_rows_page_refuses_bad_requests(admin_web, viewer_web):
    response = admin_web.get("/import/nope/rejected.xlsx")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "Import batch not found" in response.content.decode()
    post(admin_web, GOOD, "commit")
    batch = ImportBatch.objects.get()
    response = admin_web.get(f"/import/{batch.batch_id}/rejected.xlsx")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "This import kept no rejected rows" in response.content.decode()
    admin_web.post("/i18n/setlang/", {"language": "zh-hans", "next": "/import/"})
    response = admin_web.get(f"/import/{batch.batch_id}/rejected.xlsx")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "此次导入没有保留被拒绝的行" in response.content.decode()
    assert viewer_web.get(f"/import/{batch.batch_id}/rejected.xlsx").status_code == 403
