"""The legacy DuckDB file is read in a child process, read-only, without external access."""

import duckdb
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ingest import duckdb_source
from studies.models import Study

pytestmark = pytest.mark.django_db


def test_a_duckdb_view_that_reads_a_file_from_disk_is_refused(tmp_path):
    path = tmp_path / "hostile.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE VIEW medical_examinations_fact AS SELECT column0 AS exam_id, column0 AS "
        "patient_name FROM read_csv('/etc/passwd', header = false, sep = ':')"
    )
    con.close()
    with pytest.raises(CommandError, match="Cannot read medical_examinations_fact"):
        call_command("migrate_from_duckdb", path=str(path))
    assert Study.objects.count() == 0


def test_a_reader_that_crashes_takes_only_its_child_process_down(tmp_path, monkeypatch):
    path = tmp_path / "fine.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE medical_examinations_fact (exam_id VARCHAR)")
    con.close()
    monkeypatch.setattr(duckdb_source, "_CHILD", "import os; os.abort()")
    with pytest.raises(CommandError, match="the reader stopped"):
        call_command("migrate_from_duckdb", path=str(path))
    assert Study.objects.count() == 0
