"""POST /import/studies and import_excel: the whole file or nothing, with answers a person can act on."""

import io
import zipfile
from datetime import datetime
from http import HTTPStatus

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from core.cache import data_version
from ingest.models import ImportBatch
from sampledata import generate_studies
from sampledata.writers import write_studies_csv, write_studies_xlsx
from studies.models import Study
from tests.factories import StudyFactory
from tests.ingest.helpers import HEADERS_ZH, study_row, write_csv, write_xlsx

pytestmark = pytest.mark.django_db

URL = "/api/v1/import/studies"
RESULT_KEYS = [
    "batch_id", "file_name", "rows_total", "created", "updated", "unchanged", "skipped",
    "rejected", "errors", "ignored_columns", "duration_ms", "error_count", "warnings",
    "warning_count", "on_invalid", "rejected_rows_url",
]  # fmt: skip


def upload(client: Client, path, name: str | None = None, **options):
    with open(path, "rb") as fh:  # noqa: PTH123
        data = {"file": fh, **{k: str(v) for k, v in options.items()}}
        if name:
            data["file"] = _Named(fh.read(), name)
        return client.post(URL, data)


class _Named(io.BytesIO):
    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name


def upload_bytes(client: Client, data: bytes, name: str, **options):
    return client.post(URL, {"file": _Named(data, name), **options})


def assert_nothing_written(before: int, *, status: str) -> None:
    assert Study.objects.count() == before
    batch = ImportBatch.objects.order_by("-started_at").first()
    assert batch is not None
    assert batch.status == status
    assert batch.created == batch.updated == 0


@pytest.fixture
def sample(tmp_path):
    studies = list(generate_studies(600, seed=7))
    path = tmp_path / "20251029130203.xlsx"
    write_studies_xlsx(path, studies)
    return path, studies


def test_importing_the_sample_export_finds_every_row_normalised(admin_client, sample):
    path, studies = sample
    response = upload(admin_client, path)
    assert response.status_code == HTTPStatus.OK, response.content
    body = response.json()
    assert list(body) == RESULT_KEYS
    assert body["file_name"] == "20251029130203.xlsx"
    assert (body["rows_total"], body["created"], body["updated"], body["unchanged"]) == (
        600,
        600,
        0,
        0,
    )
    assert body["errors"] == [] and body["ignored_columns"] == [] and body["rejected"] == 0
    assert Study.objects.count() == 600
    for expected in studies[::37]:
        stored = Study.objects.get(exam_id=expected["exam_id"])
        for field in (
            "patient_name",
            "patient_gender",
            "patient_age",
            "exam_status",
            "exam_item",
            "equipment_type",
        ):
            assert getattr(stored, field) == expected[field], field
        local = timezone.localtime(stored.order_datetime).replace(tzinfo=None)
        assert local == expected["order_datetime"]


def test_importing_the_same_file_twice_changes_nothing(admin_client, sample):
    path, _ = sample
    upload(admin_client, path)
    stamps = dict(Study.objects.values_list("exam_id", "updated_at"))
    second = upload(admin_client, path).json()
    assert (second["created"], second["updated"], second["unchanged"]) == (0, 0, 600)
    assert dict(Study.objects.values_list("exam_id", "updated_at")) == stamps
    assert ImportBatch.objects.filter(status="succeeded").count() == 2


def test_a_file_imported_again_unchanged_keeps_the_cached_answers(admin_client, tmp_path):
    """No statement that writes no row: the data version (which keys every cached search
    answer) moves only when a study is created or changed."""
    path = write_xlsx(tmp_path / "s.xlsx", [study_row(1), study_row(2)])
    upload(admin_client, path)
    version = data_version("studies")
    again = upload(admin_client, path).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert data_version("studies") == version
    changed = write_xlsx(
        tmp_path / "c.xlsx", [study_row(1), study_row(2, **{"检查状态": "已登记"})]
    )
    assert upload(admin_client, changed).json()["updated"] == 1
    assert data_version("studies") > version
    version = data_version("studies")
    grown = write_xlsx(tmp_path / "g.xlsx", [study_row(1), study_row(3)])
    assert upload(admin_client, grown).json()["created"] == 1
    assert data_version("studies") > version


def test_csv_and_xlsx_of_the_same_data_agree(admin_client, tmp_path):
    studies = list(generate_studies(80, seed=3))
    write_studies_xlsx(tmp_path / "s.xlsx", studies)
    write_studies_csv(tmp_path / "s.csv", studies)
    assert upload(admin_client, tmp_path / "s.xlsx").json()["created"] == 80
    assert upload(admin_client, tmp_path / "s.csv").json()["unchanged"] == 80


def test_update_takes_the_files_values(admin_client, tmp_path):
    StudyFactory(exam_id="CT000001", patient_name="Old Name", exam_status="已登记")
    path = write_xlsx(tmp_path / "u.xlsx", [study_row(1), study_row(2)])
    body = upload(admin_client, path).json()
    assert (body["created"], body["updated"], body["unchanged"]) == (1, 1, 0)
    study = Study.objects.get(exam_id="CT000001")
    assert (study.patient_name, study.exam_status, study.patient_gender, study.patient_age) == (
        "张伟",
        "已审核",
        "M",
        21,
    )


def test_skip_keeps_existing_rows(admin_client, tmp_path):
    StudyFactory(exam_id="CT000001", patient_name="Old Name")
    path = write_xlsx(tmp_path / "s.xlsx", [study_row(1), study_row(2)])
    body = upload(admin_client, path, on_duplicate="skip").json()
    assert (body["created"], body["skipped"], body["updated"]) == (1, 1, 0)
    assert Study.objects.get(exam_id="CT000001").patient_name == "Old Name"


def test_fail_refuses_the_file_when_an_exam_id_exists(admin_client, tmp_path):
    StudyFactory(exam_id="CT000002")
    path = write_xlsx(tmp_path / "f.xlsx", [study_row(1), study_row(2)])
    response = upload(admin_client, path + "" if False else path, on_duplicate="fail")
    assert response.status_code == HTTPStatus.CONFLICT
    body = response.json()
    assert (
        body["detail"]
        == "1 exam_id(s) already exist and on_duplicate is 'fail'; nothing was imported"
    )
    assert body["errors"] == [
        {
            "row": 3,
            "column": "exam_id",
            "value": "CT000002",
            "message": "Already exists",
            "code": "row.already_exists",
        }
    ]
    assert not Study.objects.filter(exam_id="CT000001").exists()
    assert ImportBatch.objects.get().status == "conflict"


def test_dry_run_answers_the_counts_and_writes_nothing(admin_client, tmp_path):
    StudyFactory(exam_id="CT000001")
    path = write_xlsx(tmp_path / "d.xlsx", [study_row(1), study_row(2), study_row(3)])
    body = upload(admin_client, path, dry_run="true").json()
    assert (body["created"], body["updated"]) == (2, 1)
    assert Study.objects.count() == 1
    assert ImportBatch.objects.get().status == "dry_run"


def test_options_may_come_as_query_parameters(admin_client, tmp_path):
    path = write_xlsx(tmp_path / "q.xlsx", [study_row(1)])
    with open(path, "rb") as fh:  # noqa: PTH123
        response = admin_client.post(URL + "?dry_run=1&on_duplicate=skip", {"file": fh})
    assert response.status_code == HTTPStatus.OK
    assert Study.objects.count() == 0


def test_unknown_columns_are_listed_and_not_stored(admin_client, tmp_path):
    headers = [*HEADERS_ZH, "备注", "Extra"]
    path = write_xlsx(tmp_path / "x.xlsx", [study_row(1, 备注="secret", Extra="x")], headers)
    body = upload(admin_client, path).json()
    assert body["ignored_columns"] == ["备注", "Extra"]


def test_english_headers_and_normalisation(admin_client, tmp_path):
    headers = [
        "exam_id",
        "patient_name",
        "patient_gender",
        "patient_age",
        "exam_status",
        "exam_source",
        "exam_item",
        "order_datetime",
        "medical_record_no",
    ]
    rows = [
        {
            "exam_id": " E1 ",
            "patient_name": "A",
            "patient_gender": "Female",
            "patient_age": "3月",
            "exam_status": "completed",
            "exam_source": "CT",
            "exam_item": "Chest CT",
            "order_datetime": "2025/11/06 10:30",
            "medical_record_no": "",
        },
        {
            "exam_id": "E2",
            "patient_name": "B",
            "patient_gender": "未知",
            "patient_age": "45Y",
            "exam_status": "pending",
            "exam_source": "MRI",
            "exam_item": "Brain MR",
            "order_datetime": "2025-11-06",
            "medical_record_no": "M2",
        },
        {
            "exam_id": "E3",
            "patient_name": "C",
            "patient_gender": "",
            "patient_age": "5天",
            "exam_status": "x",
            "exam_source": "US",
            "exam_item": "US",
            "order_datetime": "45967.4375",
            "medical_record_no": "M3",
        },
    ]
    path = write_csv(tmp_path / "e.csv", rows, headers)
    assert upload(admin_client, path).json()["created"] == 3
    e1, e2, e3 = Study.objects.order_by("exam_id")
    assert (e1.exam_id, e1.patient_gender, e1.patient_age, e1.medical_record_no) == (
        "E1",
        "F",
        0,
        None,
    )
    assert (e2.patient_gender, e2.patient_age) == ("U", 45)
    assert (e3.patient_gender, e3.patient_age) == (None, 0)
    assert timezone.localtime(e1.order_datetime).replace(tzinfo=None) == datetime(
        2025, 11, 6, 10, 30
    )
    assert timezone.localtime(e2.order_datetime).replace(tzinfo=None) == datetime(2025, 11, 6, 0, 0)
    assert timezone.localtime(e3.order_datetime).replace(tzinfo=None) == datetime(
        2025, 11, 6, 10, 30
    )


def test_import_is_shown_in_local_time(admin_client, tmp_path, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    upload(admin_client, write_xlsx(tmp_path / "t.xlsx", [study_row(1)]))
    body = admin_client.get("/api/v1/studies/CT000001").json()
    assert body["order_datetime"] == "2025-11-06T10:30:00"


def test_an_export_can_be_imported_again(admin_client, sample):
    path, _ = sample
    upload(admin_client, path)
    for fmt in ("xlsx", "csv"):
        exported = admin_client.get("/api/v1/studies/export", {"format": fmt})
        data = b"".join(exported.streaming_content)
        body = upload_bytes(admin_client, data, f"export.{fmt}").json()
        assert (body["rows_total"], body["unchanged"]) == (600, 600), fmt


# ---------------------------------------------------------------- bad input


def test_missing_required_column_is_422_naming_it(admin_client, tmp_path):
    headers = [h for h in HEADERS_ZH if h != "检查号"]
    response = upload(admin_client, write_xlsx(tmp_path / "m.xlsx", [study_row(1)], headers))
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"] == "Missing required column(s): exam_id (检查号)"
    assert_nothing_written(0, status="rejected")


def test_invalid_date_in_row_517_rejects_the_whole_file(admin_client, tmp_path):
    rows = [study_row(n) for n in range(1, 1001)]
    rows[515]["开单时间"] = "2025-13-45 10:00"  # spreadsheet row 517 (the header is row 1)
    response = upload(admin_client, write_xlsx(tmp_path / "d.xlsx", rows))
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    body = response.json()
    assert body["detail"] == "The file has 1 invalid row(s) (1 error(s)); nothing was imported"
    assert body["errors"] == [
        {
            "row": 517,
            "column": "开单时间",
            "value": "2025-13-45 10:00",
            "message": "Invalid date/time",
            "code": "row.invalid_datetime",
        }
    ]
    assert (body["rows_total"], body["rejected"], body["created"]) == (1000, 1, 0)
    assert_nothing_written(0, status="rejected")


def test_the_same_exam_id_twice_is_an_error(admin_client, tmp_path):
    rows = [study_row(1), study_row(2), study_row(1)]
    response = upload(admin_client, write_xlsx(tmp_path / "dup.xlsx", rows))
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["errors"] == [
        {
            "row": 4,
            "column": "检查号",
            "value": "CT000001",
            "message": "Duplicate exam_id in file (first seen in row 2)",
            "code": "row.duplicate_key",
        }
    ]
    assert_nothing_written(0, status="rejected")


def test_empty_file_is_422(admin_client):
    response = upload_bytes(admin_client, b"", "empty.csv")
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"] == "The file is empty"
    assert_nothing_written(0, status="rejected")


def test_header_only_file_is_422(admin_client, tmp_path):
    response = upload(admin_client, write_xlsx(tmp_path / "h.xlsx", []))
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"] == "The file has no data rows"
    assert_nothing_written(0, status="rejected")


def test_text_file_renamed_xlsx_is_422(admin_client):
    response = upload_bytes(admin_client, "检查号,姓名\nA,B\n".encode(), "renamed.xlsx")
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"] == "The file is not a valid .xlsx workbook"
    assert_nothing_written(0, status="rejected")


def test_truncated_xlsx_is_422(admin_client, sample):
    path, _ = sample
    data = path.read_bytes()
    response = upload_bytes(admin_client, data[: len(data) // 2], "truncated.xlsx")
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"] == "The .xlsx workbook is damaged or truncated"
    assert_nothing_written(0, status="rejected")


def test_zip_bomb_is_refused_without_inflating(admin_client):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            chunk = b"\0" * (1 << 24)
            for _ in range(20):  # 320 MiB of zeros in about 320 KiB
                member.write(chunk)
    data = buffer.getvalue()
    assert len(data) < 1024 * 1024
    response = upload_bytes(admin_client, data, "bomb.xlsx")
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"] == (
        "The file is compressed more than 200:1 (a zip bomb?); refusing to read it"
    )
    assert_nothing_written(0, status="rejected")


def test_file_over_the_upload_limit_is_413(admin_client, settings, tmp_path):
    settings.MAX_UPLOAD_MB = 0.01
    response = upload_bytes(admin_client, b"x" * 20_000, "big.csv")
    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert response.json() == {
        "detail": "The file is larger than the 0.01 MB upload limit",
        "code": "import.too_large",
    }
    assert Study.objects.count() == 0


def test_unsupported_file_type_is_415(admin_client):
    response = upload_bytes(admin_client, b"hello", "notes.txt")
    assert response.status_code == HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    assert response.json()["detail"] == "Unsupported file type '.txt': upload .xlsx, .xls or .csv"
    assert_nothing_written(0, status="rejected")


def test_missing_file_field_is_a_validation_error(admin_client):
    response = admin_client.post(URL, {"on_duplicate": "update"})
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {
        "detail": [{"type": "missing", "loc": ["file", "file"], "msg": "Field required"}]
    }


@pytest.mark.parametrize(("option", "value"), [("on_duplicate", "replace"), ("dry_run", "maybe")])
def test_invalid_options_are_422(admin_client, tmp_path, option, value):
    path = write_xlsx(tmp_path / "o.xlsx", [study_row(1)])
    response = upload(admin_client, path, **{option: value})
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"][0]["loc"] == ["form", option]
    assert Study.objects.count() == 0


@pytest.mark.parametrize(("role", "status"), [("viewer", 403), ("analyst", 403), ("admin", 200)])
def test_only_admins_import(api, tmp_path, role, status):
    path = write_xlsx(tmp_path / "r.xlsx", [study_row(1)])
    response = upload(api(role), path)
    assert response.status_code == status
    if status == 403:
        assert response.json() == {"detail": "This action requires the admin role"}
        assert Study.objects.count() == 0


def test_anonymous_import_is_401(db, tmp_path):
    response = upload(Client(), write_xlsx(tmp_path / "a.xlsx", [study_row(1)]))
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert Study.objects.count() == 0


# ---------------------------------------------------------------- faults and records


def test_a_database_failure_mid_write_rolls_back_everything(admin_client, tmp_path, monkeypatch):
    from ingest import sql

    StudyFactory(exam_id="CT000001", patient_name="Before")
    original = sql.dialect().insert_staging
    calls = {"n": 0}

    def failing(cursor, columns, types, rows):
        calls["n"] += 1
        if calls["n"] == 3:  # the last batch
            raise RuntimeError("disk full")
        return original(cursor, columns, types, rows)

    monkeypatch.setattr(sql, "STAGING_BATCH", 100)
    monkeypatch.setattr(sql.dialect(), "insert_staging", failing)
    path = write_xlsx(tmp_path / "f.xlsx", [study_row(n) for n in range(1, 251)])
    with pytest.raises(RuntimeError, match="disk full"):
        upload(admin_client, path)
    assert Study.objects.count() == 1
    assert Study.objects.get().patient_name == "Before"
    batch = ImportBatch.objects.get()
    assert batch.status == "failed"
    assert "disk full" in batch.message


def test_a_failure_in_the_final_write_rolls_back_and_is_recorded(
    admin_client, tmp_path, monkeypatch
):
    from ingest import services

    def broken_verify(*args, **kwargs):
        raise services.ImportVerificationError("Verification failed: injected")

    monkeypatch.setattr(services, "_verify", broken_verify)
    with pytest.raises(services.ImportVerificationError):
        upload(admin_client, write_xlsx(tmp_path / "v.xlsx", [study_row(1), study_row(2)]))
    assert Study.objects.count() == 0
    assert ImportBatch.objects.get().status == "failed"


def test_the_batch_records_who_when_what(admin_client, sample):
    path, _ = sample
    upload(admin_client, path)
    batch = ImportBatch.objects.get()
    import hashlib

    assert batch.username == admin_client.user.username
    assert batch.file_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (batch.kind, batch.status, batch.rows_total, batch.created) == (
        "studies",
        "succeeded",
        600,
        600,
    )
    listed = admin_client.get("/api/v1/import/batches").json()
    assert listed["total"] == 1
    assert listed["data"][0]["batch_id"] == batch.batch_id
    detail = admin_client.get(f"/api/v1/import/batches/{batch.batch_id}").json()
    assert detail["errors"] == []
    assert admin_client.get("/api/v1/import/batches/nope").status_code == HTTPStatus.NOT_FOUND


def test_batches_are_for_admins_only(api):
    assert api("viewer").get("/api/v1/import/batches").status_code == HTTPStatus.FORBIDDEN


def test_import_excel_command(tmp_path, capsys):
    path = write_xlsx(tmp_path / "c.xlsx", [study_row(1), study_row(2)])
    call_command("import_excel", str(path))
    assert "created 2" in capsys.readouterr().out
    bad = write_xlsx(tmp_path / "bad.xlsx", [study_row(3, 开单时间="never")])
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="1 invalid row"):
        call_command("import_excel", str(bad))
    assert "Invalid date/time" in capsys.readouterr().err
    assert Study.objects.count() == 2


def test_a_workbook_with_data_on_a_second_sheet_is_refused(admin_client, tmp_path):
    import xlsxwriter

    path = tmp_path / "two.xlsx"
    workbook = xlsxwriter.Workbook(path)
    for name in ("studies", "studies_2"):
        sheet = workbook.add_worksheet(name)
        for col, header in enumerate(HEADERS_ZH):
            sheet.write_string(0, col, header)
        sheet.write_string(1, 0, f"{name}-1")
    workbook.close()
    response = upload(admin_client, path)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"] == (
        "The workbook has data on more than one worksheet (studies_2); only the first is "
        "imported: save each sheet as its own file"
    )
    assert_nothing_written(0, status="rejected")


def test_a_batch_left_running_by_a_dead_process_is_marked_failed(admin_client, tmp_path, settings):
    from datetime import timedelta

    from django.db import connection

    # A batch whose importing process died: on PostgreSQL nobody holds its lock; on SQLite it
    # is old enough to count as interrupted.
    orphan = ImportBatch.objects.create(kind="studies", file_name="died.xlsx")
    ImportBatch.objects.filter(pk=orphan.pk).update(started_at=timezone.now() - timedelta(hours=7))
    if connection.vendor == "postgresql":
        young = ImportBatch.objects.create(kind="studies", file_name="died-young.xlsx")
    upload(admin_client, write_xlsx(tmp_path / "next.xlsx", [study_row(1)]))
    orphan.refresh_from_db()
    assert orphan.status == "failed"
    assert orphan.message == "Interrupted (the importing process ended); nothing was written"
    if connection.vendor == "postgresql":
        young.refresh_from_db()
        assert young.status == "failed"
