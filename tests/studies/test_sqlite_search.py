"""The SQLite text index (studies.sqlite_search, migration 0005) never changes an answer.

Every search is compared with the same search without the index (plain LIKE), after every
kind of write: the ORM, queryset updates, raw SQL, the importer. On PostgreSQL the index does
not exist and the comparisons still hold.
"""

import importlib
from datetime import timedelta

import pytest
from django.db import connection

from ingest.services import import_file
from studies import sqlite_search
from studies.models import Study
from studies.search import study_search
from studies.selectors import study_list
from tests.factories import StudyFactory, local
from tests.ingest.helpers import HEADERS_ZH, study_row, write_csv

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("studies.migrations.0005_sqlite_text_search")
SQLITE = connection.vendor == "sqlite"

TEXTS = [
    # (patient_name, exam_item, exam_description)
    ("张伟", "胸部CT平扫", "双肺纹理清晰，未见明显异常。"),
    ("张伟明", "头颅MR增强", "脑室系统未见扩大"),
    ("王", "CT", None),
    ("李娜", "腰椎正侧位", ""),
    ("Zhang Wei", "Chest CT", "No acute cardiopulmonary abnormality."),
    ("ZHANG wei", "chest ct", "Lungs are CLEAR; heart size is normal."),
    ("Anna Müller", "MRI Knee", "Meniscal tear 50%_partial"),
    ("ÉLODIE", "Échographie", "épanchement pleural"),
    ('O\'Brien "Bob"', "X-ray", 'quote " and \\ backslash'),
    ("Kelvin \u212a", "ab", "a\x1f\x1fb"),
    ("li n", "Li Na", "100% clear_case"),
    ("w", "ct", "x"),
]

TERMS = [
    # 1 character: Chinese, Latin (both cases), punctuation, padding, non-ASCII cased
    "张", "王", "伟", "见", "w", "W", "c", "%", "_", '"', "'", "\\", "\x1f", "é", "É", "ü", "k",
    # 2 characters
    "张伟", "胸部", "CT", "ct", "Ct", "ab", "Li", "i ", "0%", "%_", "r_", '""', "\x1f\x1f", "éc",
    "ÉC", "K", "未见",
    # 3 characters and more
    "张伟明", "胸部CT", "chest", "CHEST CT", "zhang", "ZHANG WEI", "li n", "müller", "MÜLLER",
    "50%_p", "100%", "clear_", 'bob"', '"Bob"', "o'brien", "\\ back", "no acute", "未见明显",
    "kelvin k", "abc", "a\x1f\x1fb", "écho", "ÉCHO", "xyz",
    # identifiers (whole values)
    "MRNX0001", "mrnx0001", "AOX0002", "EXX0003", "exx0003",
]  # fmt: skip


def _like(q: str) -> list[str]:
    return list(study_list(q=q, text_index=False).values_list("exam_id", flat=True))


def _indexed(q: str) -> list[str]:
    return list(study_list(q=q).values_list("exam_id", flat=True))


def _assert_same_answers(terms: list[str] = TERMS) -> None:
    for q in terms:
        assert _indexed(q) == _like(q), q
        assert study_list(q=q).count() == study_list(q=q, text_index=False).count(), q


def _make(texts: list[tuple] = TEXTS, prefix: str = "EXX") -> None:
    for n, (name, item, description) in enumerate(texts):
        StudyFactory(
            exam_id=f"{prefix}{n:04d}",
            medical_record_no=f"MRNX{n:04d}",
            application_order_no=f"AOX{n:04d}",
            patient_name=name,
            exam_item=item,
            exam_description=description,
            order_datetime=local(2025, 3, 1, 8, 0) + timedelta(hours=n % 4),
        )


def _fts_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {sqlite_search.TERMS_TABLE} WHERE term >= ? AND term < ?",
            ["", "\U0010ffff"],
        )
        return cursor.fetchone()[0]


def _check_index_integrity() -> None:
    if SQLITE:
        with connection.cursor() as cursor:
            table = sqlite_search.FTS_TABLE
            cursor.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')")


def test_searches_match_like_for_every_kind_of_term():
    _make()
    _assert_same_answers()
    _check_index_integrity()


@pytest.mark.parametrize(
    ("q", "uses_index"),
    [("张", True), ("张伟", True), ("ct", True), ("张伟明", True), ("chest ct", True),
     ('"', True), ("%", True), ("é", False), ("éc", False), ("écho", True), ("a\x00", False)],
)  # fmt: skip
def test_the_index_narrows_every_term_it_can_fold(q, uses_index):
    sql = str(study_list(q=q).query)
    assert (sqlite_search.FTS_TABLE in sql) is (SQLITE and uses_index)
    assert sqlite_search.FTS_TABLE not in str(study_list(q=q, text_index=False).query)


def test_searches_match_like_after_orm_writes():
    _make()
    first = Study.objects.get(exam_id="EXX0000")
    first.patient_name = "欧阳修"
    first.save()
    Study.objects.filter(exam_id="EXX0004").update(exam_description="Pleural effusion noted")
    Study.objects.filter(exam_id__in=["EXX0001", "EXX0006"]).delete()
    # an update that leaves the text alone, and one of a field the index does not hold
    Study.objects.filter(exam_id="EXX0002").update(exam_status="已登记")
    Study.objects.filter(exam_id="EXX0003").update(patient_name="李娜")
    _make(TEXTS[:5], prefix="NEW")
    _assert_same_answers([*TERMS, "欧阳", "欧阳修", "effusion", "Pleural", "阳"])
    assert _indexed("欧阳修") == ["EXX0000"]
    assert _indexed("张伟明") == ["NEW0001"]  # EXX0001 was deleted
    _check_index_integrity()


def test_searches_match_like_after_raw_sql_writes():
    _make()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE studies_study SET exam_item = %s, exam_description = NULL WHERE exam_id = %s",
            ["Pelvis MR", "EXX0000"],
        )
        cursor.execute("DELETE FROM studies_study WHERE exam_id = %s", ["EXX0004"])
        cursor.execute(
            "INSERT INTO studies_study (exam_id, patient_name, exam_status, exam_source, "
            "exam_item, exam_description, order_datetime, created_at, updated_at) "
            "SELECT 'RAW' || exam_id, patient_name || '二', exam_status, exam_source, exam_item, "
            "exam_description, order_datetime, created_at, updated_at FROM studies_study"
        )
        # the primary key changes, the rowid (the index's key) does not
        cursor.execute("UPDATE studies_study SET exam_id = 'RENAMED' WHERE exam_id = 'EXX0005'")
    _assert_same_answers([*TERMS, "pelvis", "伟二", "二", "RENAMED", "双肺"])
    assert "RAWEXX0001" in _indexed("伟明二")
    _check_index_integrity()


def test_searches_match_like_after_an_import(tmp_path):
    _make()
    rows = [study_row(n) for n in range(1, 7)]
    rows[0]["姓名"] = "司马光"
    rows[1]["检查描述"] = "Right lower lobe consolidation"
    path = write_csv(tmp_path / "studies.csv", rows, HEADERS_ZH)
    import_file(kind="studies", source=path, file_name="studies.csv")
    # the same file again, with changes: an upsert of existing rows
    rows[0]["姓名"] = "诸葛亮"
    rows[2]["检查项目"] = "Abdomen US"
    path = write_csv(tmp_path / "again.csv", rows, HEADERS_ZH)
    import_file(kind="studies", source=path, file_name="again.csv", on_duplicate="update")
    terms = [*TERMS, "司马", "诸葛", "诸葛亮", "lobe", "consolidation", "abdomen", "Zhang Wei"]
    _assert_same_answers(terms)
    assert _indexed("诸葛亮") == ["CT000001"]
    assert _indexed("司马") == []
    _check_index_integrity()


@pytest.mark.django_db(transaction=True)
def test_searches_match_like_after_a_flush_and_reload():
    # transaction=True tests empty the tables with DELETE between tests: the triggers follow.
    _make()
    Study.objects.all().delete()
    assert _indexed("张伟") == []
    _make(TEXTS[4:])
    _assert_same_answers()
    if SQLITE:
        assert _fts_rows() > 0


@pytest.mark.parametrize("dense_ratio", [1, sqlite_search.DENSE_RATIO, 10**9])
@pytest.mark.parametrize("sort", ["-order_datetime", "order_datetime", "patient_name"])
@pytest.mark.parametrize("q", ["张", "张伟", "张伟明", "ct", "chest", "MRNX0003"])
def test_every_page_plan_gives_the_rows_of_like(q, sort, dense_ratio, monkeypatch):
    # The ratio decides the plan: 1 walks the date index for every page, 10**9 never does.
    monkeypatch.setattr(sqlite_search, "DENSE_RATIO", dense_ratio)
    for n in range(60):
        name, item, description = TEXTS[n % len(TEXTS)]
        StudyFactory(patient_name=name, exam_item=item, exam_description=description)
    _make()
    reference = list(study_list(q=q, sort=sort, text_index=False).values_list("exam_id", flat=True))
    for page_size in (1, 7, 20):
        pages = []
        page = 1
        while True:
            rows, total, _ = study_search(page=page, page_size=page_size, q=q, sort=sort)
            assert total == len(reference)
            if not rows:
                break
            pages += [row.exam_id for row in rows]
            page += 1
        assert pages == reference, (q, sort, page_size)


def test_the_dense_plan_is_chosen_from_the_exact_total():
    assert sqlite_search.walks_date_index(sort="-order_datetime", total=1000, rows_needed=20) is (
        SQLITE
    )
    assert not sqlite_search.walks_date_index(sort="-order_datetime", total=999, rows_needed=20)
    assert not sqlite_search.walks_date_index(sort="patient_name", total=10**6, rows_needed=20)


def test_a_search_used_as_a_subquery_keeps_its_own_rows():
    _make()
    inner = study_list(q="张伟").values("pk")
    outer = Study.objects.filter(pk__in=inner).order_by("exam_id")
    assert list(outer.values_list("exam_id", flat=True)) == sorted(_like("张伟"))


def test_the_migration_and_the_search_name_the_same_index():
    assert sqlite_search.FTS_TABLE == MIGRATION.FTS_TABLE
    assert sqlite_search.TERMS_TABLE == MIGRATION.TERMS_TABLE


def test_the_index_and_its_triggers_exist_only_on_sqlite():
    # A later migration that rebuilds studies_study on SQLite drops the triggers: this fails
    # until it creates them again (MIGRATION.create).
    names = {MIGRATION.FTS_TABLE, MIGRATION.TERMS_TABLE, *MIGRATION.TRIGGERS}
    with connection.cursor() as cursor:
        if SQLITE:
            cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
        else:
            cursor.execute(
                "SELECT tablename FROM pg_tables UNION ALL SELECT tgname::text FROM pg_trigger"
            )
        existing = {row[0] for row in cursor.fetchall()}
    assert (names <= existing) is SQLITE
    assert not names & existing or SQLITE


@pytest.mark.parametrize(
    ("prefix", "after"),
    [("a", "b"), ("张伟", "张" + chr(ord("伟") + 1)), ("\ud7ff", "\ue000"), ("x\U0010ffff", None)],
)
def test_the_range_of_a_prefix_ends_after_all_its_extensions(prefix, after):
    from core.search.backends import sqlite

    assert sqlite._after(prefix) == after
