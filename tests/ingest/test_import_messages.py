"""Imports people can act on: coded messages in English and Chinese (Accept-Language), warnings
for suspicious values, and on_invalid=skip with the rejected rows as a workbook to fix."""

import io
from datetime import datetime
from http import HTTPStatus

import openpyxl
import pytest
from django.test import Client

from accounts.models import Role
from ingest.models import ImportBatch
from reports.models import Report
from studies.models import Study
from tests.factories import StudyFactory
from tests.ingest.helpers import HEADERS_ZH, study_row, write_csv, write_xlsx

pytestmark = pytest.mark.django_db

STUDIES_URL = "/api/v1/import/studies"
REPORTS_URL = "/api/v1/import/reports"
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9,en;q=0.5"}


def upload(client: Client, path, url: str = STUDIES_URL, headers: dict | None = None, **options):  # noqa: ANN001, ANN201
    with open(path, "rb") as fh:  # noqa: PTH123
        return client.post(url, {"file": fh, **options}, **(headers or {}))


def two_bad_rows(tmp_path, name: str = "mixed.xlsx"):  # noqa: ANN001, ANN201
    """Five rows; the 2nd data row (row 3) has a bad age, the 4th (row 5) a bad order time."""
    rows = [study_row(n) for n in range(1, 6)]
    rows[1] = study_row(2, 年龄="abc")
    rows[3] = study_row(4, 开单时间="2025-13-45 10:00")
    return write_xlsx(tmp_path / name, rows)


def sheet_rows(content: bytes) -> list[list]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return [
        ["" if c is None else c for c in row] for row in book.active.iter_rows(values_only=True)
    ]


# ---------------------------------------------------------------- the whole-file default


def test_the_default_refuses_the_file_in_english_with_codes_and_writes_nothing(
    admin_client, tmp_path
):
    response = upload(admin_client, two_bad_rows(tmp_path))
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    body = response.json()
    assert body["detail"] == "The file has 2 invalid row(s) (2 error(s)); nothing was imported"
    assert body["code"] == "import.invalid_rows"
    assert body["errors"] == [
        {"row": 3, "column": "年龄", "value": "abc", "message": "Invalid age",
         "code": "row.invalid_age"},
        {"row": 5, "column": "开单时间", "value": "2025-13-45 10:00",
         "message": "Invalid date/time", "code": "row.invalid_datetime"},
    ]  # fmt: skip
    assert (body["rejected"], body["created"], body["rejected_rows_url"]) == (2, 0, None)
    assert Study.objects.count() == 0
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.on_invalid, batch.rejected_rows) == ("rejected", "reject", None)


def test_the_default_refuses_the_file_in_chinese_with_the_same_codes(admin_client, tmp_path):
    response = upload(admin_client, two_bad_rows(tmp_path), headers=ZH)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    body = response.json()
    assert body["detail"] == "文件有 2 行无效（2 个错误）；未导入任何数据"
    assert body["code"] == "import.invalid_rows"
    assert [(e["code"], e["message"]) for e in body["errors"]] == [
        ("row.invalid_age", "年龄无效"),
        ("row.invalid_datetime", "日期/时间无效"),
    ]
    assert Study.objects.count() == 0
    # The batch keeps the English text; its detail answers in the reader's language.
    batch_id = body["batch_id"]
    detail = admin_client.get(f"/api/v1/import/batches/{batch_id}", **ZH).json()
    assert [e["message"] for e in detail["errors"]] == ["年龄无效", "日期/时间无效"]
    english = admin_client.get(f"/api/v1/import/batches/{batch_id}").json()
    assert [e["message"] for e in english["errors"]] == ["Invalid age", "Invalid date/time"]


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ({}, "The file has 1 invalid row(s) (1 error(s)); nothing was imported"),
        ({"HTTP_ACCEPT_LANGUAGE": "fr-FR"}, "The file has 1 invalid row(s) (1 error(s)); nothing was imported"),
        ({"HTTP_ACCEPT_LANGUAGE": "zh-Hans"}, "文件有 1 行无效（1 个错误）；未导入任何数据"),
        ({"HTTP_ACCEPT_LANGUAGE": "fr;q=1, zh;q=0.8"}, "文件有 1 行无效（1 个错误）；未导入任何数据"),
    ],
)  # fmt: skip
def test_english_is_the_default_and_the_best_supported_language_wins(
    admin_client, tmp_path, header, detail
):
    path = write_xlsx(tmp_path / "one.xlsx", [study_row(1, 年龄="abc")])
    response = upload(admin_client, path, headers=header)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"] == detail


def test_refusals_of_the_file_have_codes_in_both_languages(admin_client, tmp_path, settings):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    response = upload(admin_client, text)
    assert response.status_code == HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    assert response.json()["detail"] == "Unsupported file type '.txt': upload .xlsx, .xls or .csv"
    assert response.json()["code"] == "file.unsupported_type"
    response = upload(admin_client, text, headers=ZH)
    assert response.json()["detail"] == "不支持的文件类型 '.txt'：请上传 .xlsx, .xls 或 .csv"
    assert response.json()["code"] == "file.unsupported_type"

    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    response = upload(admin_client, empty, headers=ZH)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert (response.json()["detail"], response.json()["code"]) == ("文件为空", "file.invalid")

    no_id = write_xlsx(tmp_path / "noid.xlsx", [study_row(1)], headers=HEADERS_ZH[1:])
    response = upload(admin_client, no_id, headers=ZH)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"] == "缺少必需列：exam_id (检查号)"
    assert response.json()["code"] == "import.missing_columns"

    headers_only = write_xlsx(tmp_path / "headers.xlsx", [])
    response = upload(admin_client, headers_only)
    assert (response.json()["detail"], response.json()["code"]) == (
        "The file has no data rows",
        "import.no_rows",
    )

    settings.MAX_UPLOAD_MB = 0.001
    big = write_xlsx(tmp_path / "big.xlsx", [study_row(n) for n in range(1, 40)])
    response = upload(admin_client, big, headers=ZH)
    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert response.json() == {"detail": "文件超过 0.001 MB 的上传上限", "code": "import.too_large"}
    assert Study.objects.count() == 0


def test_a_conflict_is_coded_and_translated(admin_client, tmp_path):
    StudyFactory(exam_id="CT000002")
    path = write_xlsx(tmp_path / "c.xlsx", [study_row(1), study_row(2)])
    response = upload(admin_client, path, headers=ZH, on_duplicate="fail")
    assert response.status_code == HTTPStatus.CONFLICT
    body = response.json()
    assert body["detail"] == "1 个 exam_id 已存在且重复处理方式为“fail”；未导入任何数据"
    assert body["code"] == "import.conflict"
    assert body["errors"] == [
        {"row": 3, "column": "exam_id", "value": "CT000002", "message": "已存在",
         "code": "row.already_exists"}
    ]  # fmt: skip
    assert Study.objects.count() == 1


# ---------------------------------------------------------------- on_invalid=skip


@pytest.mark.parametrize("existing", [False, True], ids=["empty table", "table with rows"])
def test_skip_writes_exactly_the_valid_rows_and_keeps_the_others(admin_client, tmp_path, existing):
    if existing:
        StudyFactory(exam_id="OTHER1")
    response = upload(admin_client, two_bad_rows(tmp_path), on_invalid="skip")
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert (body["rows_total"], body["created"], body["rejected"]) == (5, 3, 2)
    assert body["on_invalid"] == "skip"
    assert [e["code"] for e in body["errors"]] == ["row.invalid_age", "row.invalid_datetime"]
    assert body["rejected_rows_url"] == f"/api/v1/import/batches/{body['batch_id']}/rejected"
    expected = {"CT000001", "CT000003", "CT000005"} | ({"OTHER1"} if existing else set())
    assert set(Study.objects.values_list("exam_id", flat=True)) == expected
    batch = ImportBatch.objects.get(batch_id=body["batch_id"])
    assert (batch.status, batch.created, batch.rejected) == ("succeeded", 3, 2)

    workbook = admin_client.get(body["rejected_rows_url"])
    assert workbook.status_code == HTTPStatus.OK
    assert workbook["Content-Type"].startswith("application/vnd.openxmlformats")
    assert workbook["Content-Disposition"] == (
        f'attachment; filename="mixed_rejected_{body["batch_id"][:8]}.xlsx"'
    )
    rows = sheet_rows(workbook.content)
    assert rows[0] == [*HEADERS_ZH, "Problem"]
    assert [(r[0], r[5], r[11], r[-1]) for r in rows[1:]] == [
        ("CT000002", "abc", "2025-11-06 10:30:00", "年龄: Invalid age"),
        ("CT000004", "24岁", "2025-13-45 10:00", "开单时间: Invalid date/time"),
    ]

    chinese = sheet_rows(admin_client.get(body["rejected_rows_url"], **ZH).content)
    assert chinese[0][-1] == "问题"
    assert [r[-1] for r in chinese[1:]] == ["年龄: 年龄无效", "开单时间: 日期/时间无效"]


def test_the_rejected_workbook_fixed_imports_again(admin_client, tmp_path):
    body = upload(admin_client, two_bad_rows(tmp_path), on_invalid="skip").json()
    content = admin_client.get(body["rejected_rows_url"]).content
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book.active
    sheet["F2"] = "45岁"
    sheet["L3"] = "2025-11-07 09:00:00"
    fixed = tmp_path / "fixed.xlsx"
    book.save(fixed)
    response = upload(admin_client, fixed)
    assert response.status_code == HTTPStatus.OK
    again = response.json()
    assert (again["created"], again["rejected"], again["ignored_columns"]) == (2, 0, ["Problem"])
    assert Study.objects.count() == 5
    assert Study.objects.get(exam_id="CT000002").patient_age == 45


def test_a_preview_with_skip_writes_nothing_and_offers_the_rejected_rows(admin_client, tmp_path):
    response = upload(admin_client, two_bad_rows(tmp_path), on_invalid="skip", dry_run="true")
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert (body["created"], body["rejected"]) == (3, 2)
    assert Study.objects.count() == 0
    assert ImportBatch.objects.get().status == "dry_run"
    rows = sheet_rows(admin_client.get(body["rejected_rows_url"]).content)
    assert [r[0] for r in rows[1:]] == ["CT000002", "CT000004"]


def test_skip_with_every_row_invalid_writes_nothing(admin_client, tmp_path):
    path = write_xlsx(tmp_path / "bad.xlsx", [study_row(1, 年龄="x"), study_row(2, 年龄="y")])
    response = upload(admin_client, path, on_invalid="skip")
    assert response.status_code == HTTPStatus.OK
    assert (response.json()["created"], response.json()["rejected"]) == (0, 2)
    assert Study.objects.count() == 0


def test_skip_keeps_reports_of_unknown_exams_as_rejected_rows(admin_client, tmp_path):
    StudyFactory(exam_id="E1")
    headers = ["report_id", "exam_id", "radiologist", "content", "status", "created_at"]
    rows = [
        {"report_id": "R1", "exam_id": "E1", "content": "fine", "status": "finalized",
         "created_at": "2025-11-06 10:30:00"},
        {"report_id": "R2", "exam_id": "NOPE", "content": "lost", "status": "finalized",
         "created_at": "2025-11-06 11:00:00"},
        {"report_id": "R3", "exam_id": "E1", "content": "bad", "status": "done"},
    ]  # fmt: skip
    path = write_csv(tmp_path / "reports.csv", rows, headers)
    response = upload(admin_client, path, url=REPORTS_URL, headers=ZH, on_invalid="skip")
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert (body["created"], body["rejected"]) == (1, 2)
    assert [(e["row"], e["code"], e["message"]) for e in body["errors"]] == [
        (3, "row.unknown_exam", "未知的检查号（exam_id）"),
        (4, "row.invalid_choice", "必须是以下之一：draft, submitted, reviewed, finalized"),
    ]
    assert list(Report.objects.values_list("report_id", flat=True)) == ["R1"]
    rows = sheet_rows(admin_client.get(body["rejected_rows_url"], **ZH).content)
    assert rows[0] == [*headers, "问题"]
    assert rows[1] == ["R2", "NOPE", "", "lost", "finalized", "2025-11-06 11:00:00",
                       "exam_id: 未知的检查号（exam_id）"]  # fmt: skip
    assert rows[2][:5] == ["R3", "E1", "", "bad", "done"]
    assert rows[2][-1] == "status: 必须是以下之一：draft, submitted, reviewed, finalized"


# ---------------------------------------------------------------- warnings


def test_warnings_are_listed_in_the_preview_and_the_import(admin_client, tmp_path):
    rows = [
        study_row(1, 性别="X"),
        study_row(2, 性别="未知"),
        study_row(
            3, 登记时间=datetime(2025, 11, 6, 9, 0), 报告审核时间=datetime(2025, 11, 6, 9, 30)
        ),
        study_row(4, 报告审核时间=datetime(2025, 11, 6, 10, 40)),
        study_row(5, 审核医生=None),
    ]
    path = write_xlsx(tmp_path / "w.xlsx", rows)
    expected = [
        (2, "性别", "X", "warning.gender_unrecognised",
         "Not a known gender; stored as unknown (U)"),
        (4, "登记时间", "2025-11-06 09:00:00", "warning.check_in_before_order",
         "Check-in is earlier than the order time (2025-11-06 10:30:00)"),
        (4, "报告审核时间", "2025-11-06 09:30:00", "warning.certified_before_order",
         "Report certification is earlier than the order time (2025-11-06 10:30:00)"),
        (5, "报告审核时间", "2025-11-06 10:40:00", "warning.certified_before_check_in",
         "Report certification is earlier than check-in (2025-11-06 10:45:00)"),
        (6, "审核医生", "", "warning.certified_without_physician",
         "A report certification time without a certifying physician"),
    ]  # fmt: skip
    for dry_run in ("true", "false"):
        response = upload(admin_client, path, dry_run=dry_run)
        assert response.status_code == HTTPStatus.OK
        body = response.json()
        assert body["warning_count"] == 5
        got = [
            (w["row"], w["column"], w["value"], w["code"], w["message"]) for w in body["warnings"]
        ]
        assert got == expected
        assert (body["created"], body["rejected"], body["errors"]) == (5, 0, [])
    assert Study.objects.get(exam_id="CT000001").patient_gender == "U"
    assert Study.objects.get(exam_id="CT000002").patient_gender == "U"

    chinese = upload(admin_client, path, headers=ZH, dry_run="true").json()
    assert [w["message"] for w in chinese["warnings"]] == [
        "无法识别的性别；按未知（U）保存",
        "登记时间早于开单时间（2025-11-06 10:30:00）",
        "报告审核时间早于开单时间（2025-11-06 10:30:00）",
        "报告审核时间早于登记时间（2025-11-06 10:45:00）",
        "有报告审核时间但没有审核医生",
    ]
    batch = ImportBatch.objects.get(batch_id=chinese["batch_id"])
    assert batch.warning_count == 5
    detail = admin_client.get(f"/api/v1/import/batches/{batch.batch_id}", **ZH).json()
    assert detail["warnings"][0]["message"] == "无法识别的性别；按未知（U）保存"


def test_report_warnings_name_times_out_of_order(admin_client, tmp_path):
    StudyFactory(exam_id="E1")
    headers = ["report_id", "exam_id", "content", "created_at", "submitted_at", "reviewed_at"]
    rows = [{"report_id": "R1", "exam_id": "E1", "content": "x",
             "created_at": "2025-11-06 10:00:00", "submitted_at": "2025-11-06 09:00:00",
             "reviewed_at": "2025-11-06 08:00:00"}]  # fmt: skip
    response = upload(admin_client, write_csv(tmp_path / "r.csv", rows, headers), url=REPORTS_URL)
    assert response.status_code == HTTPStatus.OK
    assert [(w["column"], w["code"], w["message"]) for w in response.json()["warnings"]] == [
        ("submitted_at", "warning.submitted_before_created",
         "Submitted earlier than created (2025-11-06 10:00:00)"),
        ("reviewed_at", "warning.reviewed_before_submitted",
         "Reviewed earlier than submitted (2025-11-06 09:00:00)"),
    ]  # fmt: skip


# ---------------------------------------------------------------- bad inputs


def test_a_bad_on_invalid_is_a_field_error(admin_client, tmp_path):
    response = upload(admin_client, two_bad_rows(tmp_path), on_invalid="some")
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {
        "detail": [
            {"type": "enum", "loc": ["form", "on_invalid"],
             "msg": "Input should be 'reject' or 'skip'"}
        ]
    }  # fmt: skip
    assert Study.objects.count() == 0


def test_the_rejected_rows_of_an_unknown_or_whole_file_batch_are_404(admin_client, tmp_path):
    response = admin_client.get("/api/v1/import/batches/nope/rejected")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"detail": "Import batch not found"}
    body = upload(admin_client, write_xlsx(tmp_path / "ok.xlsx", [study_row(1)])).json()
    url = f"/api/v1/import/batches/{body['batch_id']}/rejected"
    response = admin_client.get(url)
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {
        "detail": "This import kept no rejected rows",
        "code": "import.no_rejected_rows",
    }
    assert admin_client.get(url, **ZH).json()["detail"] == "此次导入没有保留被拒绝的行"


def test_the_rejected_rows_are_for_admins_only(api, admin_client, tmp_path):
    body = upload(admin_client, two_bad_rows(tmp_path), on_invalid="skip").json()
    for role in (Role.VIEWER, Role.ANALYST):
        response = api(role).get(body["rejected_rows_url"])
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert response.json() == {"detail": "This action requires the admin role"}
    assert Client().get(body["rejected_rows_url"]).status_code == HTTPStatus.UNAUTHORIZED


def test_the_option_is_documented_in_openapi(admin_client):
    schema = admin_client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/import/studies"]["post"]
    form = operation["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    assert form["on_invalid"]["enum"] == ["reject", "skip"]
    assert form["on_invalid"]["default"] == "reject"
    names = {p["name"] for p in operation["parameters"]}
    assert {"on_invalid", "Accept-Language"} <= names
    assert "/api/v1/import/batches/{batch_id}/rejected" in schema["paths"]


def test_skip_refuses_a_file_with_more_invalid_rows_than_it_keeps(
    admin_client, tmp_path, monkeypatch
):
    monkeypatch.setattr("ingest.rows.MAX_KEPT_REJECTED", 1)
    monkeypatch.setattr("ingest.services.MAX_KEPT_REJECTED", 1)
    response = upload(admin_client, two_bad_rows(tmp_path), headers=ZH, on_invalid="skip")
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    body = response.json()
    assert (body["detail"], body["code"]) == (
        "无效行超过 1 行：请修正文件；未导入任何数据",
        "import.too_many_rejected",
    )
    assert Study.objects.count() == 0
    assert ImportBatch.objects.get().status == "rejected"
