"""migrate_from_duckdb on DuckDB files the tests build."""

import duckdb
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from studies.models import Study

pytestmark = pytest.mark.django_db

COLUMNS = (
    "exam_id VARCHAR, medical_record_no VARCHAR, application_order_no VARCHAR, patient_name VARCHAR, "
    "patient_gender VARCHAR, patient_age INTEGER, exam_status VARCHAR, exam_source VARCHAR, "
    "exam_item VARCHAR, exam_description VARCHAR, order_datetime TIMESTAMP, check_in_datetime TIMESTAMP, "
    "report_certification_datetime TIMESTAMP, certified_physician VARCHAR, equipment_type VARCHAR"
)


def build(path, rows: int, *, duplicate: str | None = None) -> None:
    """A legacy file of ``rows`` studies, generated inside DuckDB (row inserts are slow)."""
    con = duckdb.connect(str(path))
    con.execute(f"CREATE TABLE medical_examinations_fact ({COLUMNS})")
    con.execute(
        """INSERT INTO medical_examinations_fact SELECT
            'CT' || lpad(i::VARCHAR, 8, '0'), (1000000 + i // 3)::VARCHAR, NULL,
            CASE WHEN i % 2 = 1 THEN '张伟' ELSE 'Li Na' END, CASE WHEN i % 2 = 1 THEN 'M' ELSE 'F' END,
            i % 90, '已审核', '门诊', '胸部CT平扫', CASE WHEN i % 5 = 0 THEN '双肺未见异常' END,
            TIMESTAMP '2024-01-01 08:00:00' + i * INTERVAL 1 MINUTE,
            TIMESTAMP '2024-01-01 08:05:00' + i * INTERVAL 1 MINUTE, NULL, '李医生', 'CT'
        FROM range(?) t(i)""",
        [rows],
    )
    if duplicate:
        con.execute(
            "INSERT INTO medical_examinations_fact SELECT ? AS exam_id, * EXCLUDE (exam_id) "
            "FROM medical_examinations_fact LIMIT 1",
            [duplicate],
        )
    con.close()


def test_migrating_10000_rows_twice(tmp_path, capsys):
    path = tmp_path / "legacy.duckdb"
    build(path, 10_000)
    call_command("migrate_from_duckdb", path=str(path))
    out = capsys.readouterr().out
    assert "DuckDB medical_examinations_fact: 10000 rows" in out
    assert "Imported (now in the database): 10000 rows" in out
    assert "Verified: 10000 = 10000, no duplicate exam_id" in out
    assert Study.objects.count() == 10_000
    call_command("migrate_from_duckdb", path=str(path))
    out = capsys.readouterr().out
    assert "created 0, updated 0, unchanged 10000" in out
    assert Study.objects.count() == 10_000
    study = Study.objects.get(exam_id="CT00000005")
    assert (study.patient_name, study.patient_age, study.exam_description) == (
        "张伟",
        5,
        "双肺未见异常",
    )


def test_a_duplicated_exam_id_exits_non_zero_and_says_which(tmp_path):
    path = tmp_path / "dup.duckdb"
    build(path, 20, duplicate="CT00000007")
    with pytest.raises(CommandError, match=r"CT00000007 \(2×\)"):
        call_command("migrate_from_duckdb", path=str(path))
    assert Study.objects.count() == 0


def test_a_missing_or_damaged_file_exits_non_zero(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("migrate_from_duckdb", path=str(tmp_path / "absent.duckdb"))
    broken = tmp_path / "broken.duckdb"
    broken.write_bytes(b"this is not a duckdb file" * 100)
    with pytest.raises(CommandError, match="Cannot read medical_examinations_fact"):
        call_command("migrate_from_duckdb", path=str(broken))


def test_the_duckdb_path_defaults_to_the_environment(tmp_path, monkeypatch, capsys):
    path = tmp_path / "env.duckdb"
    build(path, 3)
    monkeypatch.setenv("DUCKDB_PATH", str(path))
    call_command("migrate_from_duckdb")
    assert "Verified: 3 = 3" in capsys.readouterr().out
