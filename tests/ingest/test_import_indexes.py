"""A large import into an empty table builds the table's indexes after its INSERT (PostgreSQL).

The indexes must come back exactly as they were, valid, and a failed import must keep them;
an import into a table that has rows, or a small one, keeps them up to date as it writes.
"""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ingest import services
from reports.models import Report
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
        # Every plain index (the trigram and character indexes among them), never the key's.
        assert len(dropped) == len(before) - 1
        assert not any("studies_study_pkey" in sql for sql in dropped)
        created = [sql for sql in statements(queries, "CREATE INDEX") if "studies_study " in sql]
        assert len(created) == len(dropped)
    else:
        assert statements(queries, "DROP INDEX") == []
    # The rebuilt indexes answer searches: the character index (one character) and the
    # trigram index (three).
    assert admin_client.get("/api/v1/studies/search", {"q": "张"}).json()["total"] == 15
    assert admin_client.get("/api/v1/studies/search", {"q": "zhang wei"}).json()["total"] == 15
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

    def broken_verify(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise services.ImportVerificationError("Verification failed: injected")

    monkeypatch.setattr(services, "_verify", broken_verify)
    path = write_xlsx(tmp_path / "first.xlsx", [study_row(n) for n in range(1, 11)])
    with pytest.raises(services.ImportVerificationError):
        services.import_studies(source=path, file_name="first.xlsx", origin="command")
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
        assert len(statements(queries, "DROP INDEX")) == len(before) - 1
