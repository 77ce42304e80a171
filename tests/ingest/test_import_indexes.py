"""A large import into an empty table builds indexes after its rows instead of during (PostgreSQL).

Studies go straight into their empty table by COPY, keeping most indexes up to date and
building the two over the description after; reports go through the staging table and build
every plain index after their INSERT. The indexes must come back exactly as they were, valid,
and a failed import must keep them; an import into a table that has rows, or a small one,
keeps them up to date as it writes.
"""

import json
from datetime import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.cache import data_version, stored
from ingest import readers, services
from ingest.models import ImportBatch
from reports.models import Report
from studies import selectors
from studies.models import Study
from tests.factories import StudyFactory
from tests.ingest.helpers import study_row, write_xlsx

pytestmark = pytest.mark.django_db

STUDIES_URL = "/api/v1/import/studies"
REPORTS_URL = "/api/v1/import/reports"


def index_definitions(table: str) -> dict[str, str]:
    """Every index of ``table``: name → definition (and validity on PostgreSQL)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisvalid FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass",
                [table],
            )
            return {name: f"{definition} valid={valid}" for name, definition, valid in cursor}
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s", [table]
        )
        return {name: definition or "" for name, definition in cursor}


def statements(queries: CaptureQueriesContext, start: str) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith(start)]


@pytest.fixture
def rebuild_from_one_row(monkeypatch):
    monkeypatch.setattr(services, "REBUILD_INDEXES_MIN_ROWS", 1)


def test_an_import_into_an_empty_table_builds_the_same_indexes_after_it(
    admin_client, tmp_path, rebuild_from_one_row
):
    before = index_definitions("studies_study")
    path = write_xlsx(tmp_path / "first.xlsx", [study_row(n) for n in range(1, 31)])
    with CaptureQueriesContext(connection) as queries, path.open("rb") as fh:
        response = admin_client.post(STUDIES_URL, {"file": fh})
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 30
    assert index_definitions("studies_study") == before
    if connection.vendor == "postgresql":
        dropped = statements(queries, "DROP INDEX")
        # The GIN indexes over the description (its trigrams, the characters); the others are
        # kept up to date by the COPY.
        after = ["study_exam_description_trgm", "study_text_chars_cp"]
        assert sorted(services.STUDIES.built_after_fill) == after
        assert sorted(sql.removeprefix("DROP INDEX ") for sql in dropped) == after
        created = [sql for sql in statements(queries, "CREATE INDEX") if "studies_study " in sql]
        assert [sql.split()[2] for sql in created] == [sql.split()[2] for sql in dropped]
        # Straight into the table: no staging table, no INSERT ... SELECT.
        assert statements(queries, "CREATE TEMPORARY TABLE") == []
        assert statements(queries, 'INSERT INTO "studies_study"') == []
    else:
        assert statements(queries, "DROP INDEX") == []
    # The rebuilt indexes answer searches: the character index (one character) and the
    # trigram index (three); "zhang wei" finds the 15 Zhang Wei and, by their pinyin, the 15 张伟.
    assert admin_client.get("/api/v1/studies/search", {"q": "张"}).json()["total"] == 15
    assert admin_client.get("/api/v1/studies/search", {"q": "zhang wei"}).json()["total"] == 30
    assert Study.objects.count() == 30


def test_an_import_into_a_table_with_rows_keeps_its_indexes_up_to_date(
    admin_client, tmp_path, rebuild_from_one_row
):
    StudyFactory(exam_id="OLD1")
    path = write_xlsx(tmp_path / "more.xlsx", [study_row(n) for n in range(1, 31)])
    with CaptureQueriesContext(connection) as queries, path.open("rb") as fh:
        response = admin_client.post(STUDIES_URL, {"file": fh})
    assert response.json()["created"] == 30
    assert statements(queries, "DROP INDEX") == []
    assert Study.objects.count() == 31


def test_a_small_import_into_an_empty_table_keeps_its_indexes_up_to_date(admin_client, tmp_path):
    path = write_xlsx(tmp_path / "few.xlsx", [study_row(n) for n in range(1, 4)])
    with CaptureQueriesContext(connection) as queries, path.open("rb") as fh:
        response = admin_client.post(STUDIES_URL, {"file": fh})
    assert response.json()["created"] == 3
    assert services.REBUILD_INDEXES_MIN_ROWS > 3
    assert statements(queries, "DROP INDEX") == []


def test_a_failed_import_keeps_the_indexes_it_dropped(
    admin_client, tmp_path, rebuild_from_one_row, monkeypatch
):
    before = index_definitions("studies_study")

    def broken_verify(*args, **kwargs):
        raise services.ImportVerificationError("Verification failed: injected")

    monkeypatch.setattr(services, "_verify", broken_verify)
    path = write_xlsx(tmp_path / "first.xlsx", [study_row(n) for n in range(1, 11)])
    with pytest.raises(services.ImportVerificationError):
        services.import_file(kind="studies", source=path, file_name="first.xlsx", origin="command")
    assert Study.objects.count() == 0
    assert index_definitions("studies_study") == before


def test_reports_into_an_empty_table_get_the_same_indexes_after_the_import(
    admin_client, rebuild_from_one_row
):
    StudyFactory(exam_id="E1")
    StudyFactory(exam_id="E2")
    before = index_definitions("reports_report")
    items = [
        {"report_id": f"R{n}", "exam_id": f"E{1 + n % 2}", "content": f"右肺结节 {n} mm"}
        for n in range(1, 21)
    ]
    payload = json.dumps(items, ensure_ascii=False).encode()
    response = admin_client.post(REPORTS_URL, {"file": SimpleUploadedFile("reports.json", payload)})
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 20
    assert index_definitions("reports_report") == before
    assert Report.objects.filter(study_id="E1").count() == 10
    assert admin_client.get("/api/v1/reports/search", {"q": "结节"}).json()["total"] == 20


def test_a_dry_run_into_an_empty_table_counts_without_building_and_keeps_the_indexes(
    admin_client, tmp_path, rebuild_from_one_row
):
    before = index_definitions("studies_study")
    path = write_xlsx(tmp_path / "preview.xlsx", [study_row(n) for n in range(1, 21)])
    with CaptureQueriesContext(connection) as queries, path.open("rb") as fh:
        response = admin_client.post(STUDIES_URL, {"file": fh, "dry_run": "true"})
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 20
    assert Study.objects.count() == 0
    assert index_definitions("studies_study") == before
    # The rollback restores what the dry run dropped; nothing is built for it.
    created = [sql for sql in statements(queries, "CREATE INDEX") if "studies_study " in sql]
    assert created == []
    if connection.vendor == "postgresql":
        assert len(statements(queries, "DROP INDEX")) == len(services.STUDIES.built_after_fill)


def stored_studies() -> list[dict]:
    return list(Study.objects.order_by("exam_id").values())


def test_studies_copied_into_an_empty_table_are_those_the_staging_path_writes(
    admin_client, tmp_path, rebuild_from_one_row
):
    """The same file gives the same rows, whether copied into an empty table or staged and
    inserted next to an existing study; only the import time stamps differ."""
    rows = [study_row(n) for n in range(1, 41)]
    rows[3] = study_row(4, 申请单号=None, 年龄="3月", 检查描述="  左肺  ", 报告审核时间=None)
    rows[5] = study_row(6, 开单时间=datetime(2025, 3, 30, 2, 30), 性别="未知")
    path = write_xlsx(tmp_path / "same.xlsx", rows)
    with path.open("rb") as fh:
        assert admin_client.post(STUDIES_URL, {"file": fh}).json()["created"] == 40
    copied = stored_studies()
    Study.objects.all().delete()
    StudyFactory(exam_id="ZZ-OTHER")
    with path.open("rb") as fh:
        assert admin_client.post(STUDIES_URL, {"file": fh}).json()["created"] == 40
    staged = [row for row in stored_studies() if row["exam_id"] != "ZZ-OTHER"]
    assert len(copied) == len(staged) == 40
    for row in copied + staged:
        assert row.pop("created_at") == row.pop("updated_at")
    assert copied == staged
    assert copied[3]["application_order_no"] is None and copied[3]["patient_age"] == 0
    assert copied[3]["exam_description"] == "左肺"


def test_an_invalid_row_after_the_copy_began_rejects_the_import_and_keeps_the_indexes(
    admin_client, tmp_path, rebuild_from_one_row
):
    before = index_definitions("studies_study")
    rows = [study_row(n) for n in range(1, 31)]
    rows[24] = study_row(25, 年龄="很老")
    path = write_xlsx(tmp_path / "bad.xlsx", rows)
    with path.open("rb") as fh:
        response = admin_client.post(STUDIES_URL, {"file": fh})
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "The file has 1 invalid row(s) (1 error(s)); nothing was imported"
    assert body["errors"] == [
        {
            "row": 26,
            "column": "年龄",
            "value": "很老",
            "message": "Invalid age",
            "code": "row.invalid_age",
        }
    ]
    assert (body["rows_total"], body["rejected"], body["created"]) == (30, 1, 0)
    assert Study.objects.count() == 0
    assert index_definitions("studies_study") == before
    assert ImportBatch.objects.get().status == "rejected"


def test_a_file_that_breaks_off_during_the_copy_writes_nothing_and_keeps_the_indexes(
    tmp_path, rebuild_from_one_row, monkeypatch
):
    before = index_definitions("studies_study")
    real_rows = readers.Table.rows

    def breaking_rows(table):
        for n, row in enumerate(real_rows(table)):
            if n == 20:
                raise readers.FileFormatError("The file is not a valid .xlsx workbook")
            yield row

    monkeypatch.setattr(readers.Table, "rows", breaking_rows)
    path = write_xlsx(tmp_path / "cut.xlsx", [study_row(n) for n in range(1, 31)])
    with pytest.raises(services.ImportRejected, match="not a valid .xlsx workbook"):
        services.import_file(kind="studies", source=path, file_name="cut.xlsx", origin="command")
    assert Study.objects.count() == 0
    assert index_definitions("studies_study") == before
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.message) == ("rejected", "The file is not a valid .xlsx workbook")


@pytest.mark.django_db(transaction=True)  # the caches keep nothing inside a transaction
def test_a_large_import_into_an_empty_table_counts_the_characters_for_the_warm_up(
    admin_client, tmp_path, rebuild_from_one_row, monkeypatch
):
    monkeypatch.setattr(services, "TEXTS_BLOCK", 7)  # the texts kept in blocks of 7, 7, 7, 7, 2
    rows = [study_row(n) for n in range(1, 31)]
    rows[0] = study_row(1, 姓名="欧阳娜娜", 检查描述="右肺结节 3mm", 检查项目="胸部CT增强")
    rows[1] = study_row(2, 检查描述=None)
    path = write_xlsx(tmp_path / "chars.xlsx", rows)
    with CaptureQueriesContext(connection) as queries, path.open("rb") as fh:
        assert admin_client.post(STUDIES_URL, {"file": fh}).json()["created"] == 30
    counts = stored("studies", "characters", version=data_version("studies"))
    # Exactly what the warm-up counts from the table.
    assert counts == selectors._character_counts()
    assert (counts["娜"], counts["张"], counts["3"]) == (1, 14, 1)
    # (On PostgreSQL the warm-up's read is a server-side cursor: DECLARE ... FOR SELECT.)
    read_texts = [q["sql"] for q in queries.captured_queries if 'AS "text" FROM' in q["sql"]]
    if connection.vendor == "postgresql":
        # Counted by the import while the indexes were built: the warm-up did not read them.
        assert read_texts == []
        # And stored as soon as the import has committed, before the planner's statistics
        # (seconds at a million rows), during which a surname searched alone would be counted.
        statements = [q["sql"] for q in queries.captured_queries]
        stored_at = next(
            i for i, sql in enumerate(statements)
            if sql.startswith("INSERT INTO core_sharedanswer") and ":characters'" in sql
        )  # fmt: skip
        assert stored_at < next(i for i, sql in enumerate(statements) if "VACUUM" in sql)
    else:
        assert len(read_texts) == 1
    assert admin_client.get("/api/v1/studies/search", {"q": "娜"}).json()["total"] == 1


def test_the_texts_kept_for_the_count_come_back_as_they_were_appended(monkeypatch):
    monkeypatch.setattr(services, "TEXTS_BLOCK", 3)
    texts = ["欧阳娜娜胸部CT", "", "Zoe Wu Head CT", "𠀀字", "a", "", "右肺结节 3mm", "x" * 5000]
    kept = services._Texts()
    for text in texts:
        kept.append(text)
    assert list(kept.take()) == texts
    assert list(kept.take()) == []  # taken once: nothing is held after
