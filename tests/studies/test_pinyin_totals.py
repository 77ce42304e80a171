"""The totals and plans of frequent pinyin terms and of two-letter initials (issue 26): a
pinyin term that many patients' names are read as is totalled from the warm-up's name
readings, and two Latin letters that no text holds are looked for in the identifiers and
initials alone. Every answer is the one ``study_list`` gives, on both databases."""

import importlib
from http import HTTPStatus

import pytest
from django.apps import apps as django_apps
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from core.cache import data_version, stored
from studies import selectors
from studies.models import LetteredName, NameReading, Study
from studies.selectors import count_characters, study_list
from studies.services import refresh_name_readings, warm_caches
from tests.factories import StudyFactory, local

pytestmark = pytest.mark.django_db(transaction=True)  # the caches keep nothing in a transaction

SEARCH = "/api/v1/studies/search"
READINGS = NameReading._meta.db_table
LETTERED = LetteredName._meta.db_table
MIGRATION = importlib.import_module("studies.migrations.0008_name_readings")
# The readings are kept and read where the plan walks the date index for a frequent term.
KEPT = connection.vendor == "postgresql"


def study(exam_id: str, name: str, day: int, **fields) -> None:
    fields.setdefault("exam_description", None)
    fields.setdefault("exam_item", "胸部CT平扫")
    StudyFactory(
        exam_id=exam_id, patient_name=name, order_datetime=local(2025, 11, day, 9, 0), **fields
    )


@pytest.fixture
def zhangs():
    """Studies read ``zhang`` (张伟 twice, 张三, 章丽), one of them also holding the word in
    its description; a Latin name holding it; a study whose identifier it is; and others."""
    study("ZW-1", "张伟", 1, exam_description="zhang reviewed")  # read so and holds it
    study("ZW-2", "张伟", 2)
    study("ZS-1", "张三", 3)
    study("ZL-1", "章丽", 4)
    study("LAT-1", "Zhang Wei", 5)  # a Latin name: no reading, found by its text
    study("ZHANG", "王五", 6)  # the identifier only
    study("WW-1", "王五", 7)
    study("LIS-1", "李四", 8)


def answer(client, q: str, **params) -> dict:
    response = client.get(SEARCH, {"q": q, **params})
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def assert_as_study_list(client, q: str, page_size: int = 2) -> CaptureQueriesContext:
    """Every page of ``q`` is the one study_list gives, with its exact total; returns the
    queries of the search requests."""
    expected = [s.exam_id for s in study_list(q=q)]
    pages = -(-len(expected) // page_size) or 1
    with CaptureQueriesContext(connection) as queries:
        bodies = [answer(client, q, page=p, page_size=page_size) for p in range(1, pages + 1)]
    for page, body in enumerate(bodies, start=1):
        assert body["total"] == len(expected), (q, page)
        start = (page - 1) * page_size
        assert [s["exam_id"] for s in body["data"]] == expected[start : start + page_size], q
    queries.total = len(expected)
    return queries


def reads_readings(queries: CaptureQueriesContext) -> bool:
    return any(READINGS in q["sql"] for q in queries.captured_queries)


def studies_sql(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if '"studies_study"' in q["sql"]]


def test_a_frequent_pinyin_term_is_totalled_from_the_name_readings(viewer, zhangs, monkeypatch):
    monkeypatch.setattr(selectors, "PINYIN_SCAN_LIMIT", 1)
    warm_caches()
    version = data_version("studies")
    readings = {(r.pinyin, r.initials): r.studies for r in NameReading.objects.all()}
    if KEPT:
        assert stored("studies", selectors.READINGS_KEY, version=version) == version
        assert readings == {
            ("zhangwei", "zw"): 2, ("zhangsan", "zs"): 1, ("zhangli", "zl"): 1,
            ("wangwu", "ww"): 2, ("lisi", "ls"): 1,
        }  # fmt: skip
    else:
        assert readings == {}  # SQLite counts through its FTS tables
    # 张伟 twice (once also by its text), 张三, 章丽, the Latin name, the identifier.
    queries = assert_as_study_list(viewer, "zhang")
    assert queries.total == 6 and reads_readings(queries) == KEPT
    for q in ("ZHANG", "zhang wei", "zw", "wangwu", "lisi", "zhangsi"):
        assert_as_study_list(viewer, q)


def test_a_frequent_pinyin_terms_other_names_are_summed_from_the_lettered_names(
    viewer, zhangs, monkeypatch
):
    monkeypatch.setattr(selectors, "PINYIN_SCAN_LIMIT", 1)
    study("LAT-2", "Zhang Wei", 10, exam_description="zhang again")  # a Latin name and text
    study("MIX-1", "张Anna", 11)  # read zhanganna: a reading, and a name with letters
    study("DESC-1", "王五", 12, exam_description="see Zhang's films")  # a description alone
    study("ITEM-1", "李四", 13, exam_item="ZHANG protocol")  # an item alone
    warm_caches()
    names = {(n.name, n.pinyin, n.initials): n.studies for n in LetteredName.objects.all()}
    if KEPT:
        assert names == {("Zhang Wei", "", ""): 2, ("张Anna", "zhanganna", "za"): 1}
    else:
        assert names == {}  # kept beside the readings, on PostgreSQL alone
    for q in ("zhang", "Zhang Wei", "wei", "zhangw", "anna"):
        # Each first search: a term read by more studies than the limit (not anna) sums the
        # studies of the names that hold it otherwise; only the descriptions, items and
        # identifiers are searched in the studies table for the rest.
        queries = assert_as_study_list(viewer, q)
        frequent = q != "anna"
        names_read = any(LETTERED in sql["sql"] for sql in queries.captured_queries)
        assert names_read == (KEPT and frequent), q
        counted = " ".join(sql for sql in studies_sql(queries) if "COUNT(" in sql)
        # Where the names are summed, the studies' names are only ever excluded (NOT ...).
        name = 'UPPER("studies_study"."patient_name"::text) LIKE'
        searched = counted.count(name) - counted.count(f"NOT ({name}")
        assert not KEPT or (searched == 0) == frequent, q
    assert assert_as_study_list(viewer, "zhang").total == 10
    # A write since the warm-up: the names are not current, the other matches are counted.
    study("LAT-3", "Zhang San", 14)
    assert assert_as_study_list(viewer, "zhang").total == 11


def test_a_rare_pinyin_term_is_counted_as_before(viewer, zhangs):
    # Two studies are below the limit: PostgreSQL reads them once for their total and page.
    warm_caches()
    queries = assert_as_study_list(viewer, "zhangwei", page_size=20)
    assert queries.total == 2
    counts = [sql for sql in studies_sql(queries) if "COUNT(" in sql]
    assert len(counts) == 1
    assert ("OVER ()" in counts[0]) == (connection.vendor == "postgresql")


def test_readings_of_an_older_version_are_not_used(viewer, zhangs, monkeypatch):
    monkeypatch.setattr(selectors, "PINYIN_SCAN_LIMIT", 1)
    warm_caches()
    study("ZW-3", "张伟", 9)  # a write after the warm-up: its readings are stale
    queries = assert_as_study_list(viewer, "zhang")
    # The stale readings hold 6 studies read "zhang" (not the new one): 6 would be wrong.
    assert queries.total == 7
    warm_caches()
    queries = assert_as_study_list(viewer, "zhangwei")
    assert queries.total == 3 and reads_readings(queries) == KEPT


def test_a_pinyin_term_with_other_filters_is_counted(viewer, zhangs, monkeypatch):
    monkeypatch.setattr(selectors, "PINYIN_SCAN_LIMIT", 1)
    warm_caches()
    body = answer(viewer, "zhang", exam_item="胸部CT平扫", date_from="2025-11-02")
    assert body["total"] == study_list(q="zhang", date_from=local(2025, 11, 2).date()).count()
    assert body["total"] == 5


def test_a_refresh_writes_only_what_changed(zhangs):
    version = data_version("studies")
    # Five readings and one name with letters (Zhang Wei).
    assert refresh_name_readings(version=version) == 6
    assert refresh_name_readings(version=version) == 0  # nothing changed
    study("ZW-3", "张伟", 9)  # one more 张伟
    Study.objects.filter(patient_name="李四").delete()
    study("NEW-1", "赵六", 10)
    newer = data_version("studies")
    # 张伟 counted again, 李四 removed, 赵六 added.
    assert refresh_name_readings(version=newer) == 3
    readings = {(r.pinyin, r.initials): r.studies for r in NameReading.objects.all()}
    assert readings == {
        ("zhangwei", "zw"): 3, ("zhangsan", "zs"): 1, ("zhangli", "zl"): 1,
        ("wangwu", "ww"): 2, ("zhaoliu", "zl"): 1,
    }  # fmt: skip
    assert stored("studies", selectors.READINGS_KEY, version=newer) == newer
    study("LAT-2", "Zhang Wei", 11)
    Study.objects.filter(exam_id="LAT-1").delete()
    assert refresh_name_readings(version=data_version("studies")) == 0  # still one, same name
    Study.objects.filter(exam_id="LAT-2").update(patient_name="Zhang Wu")
    assert refresh_name_readings(version=data_version("studies")) == 2  # one gone, one new
    assert list(LetteredName.objects.values_list("name", "studies")) == [("Zhang Wu", 1)]


def test_no_refresh_inside_a_transaction(zhangs):
    with transaction.atomic():
        assert refresh_name_readings(version=data_version("studies")) == 0
    assert not NameReading.objects.exists()


@pytest.fixture
def initials():
    """Two studies of 张伟 (``zw``), a Latin name and descriptions without the pair ZW."""
    study("ZW-1", "张伟", 1)
    study("ZW-2", "张伟", 2, exam_description="Zoe's wrist")
    study("LAT-1", "Zoe Wu", 3, exam_item="Head CT")
    study("MY-1", "马艳", 4)


def test_two_letters_no_text_holds_are_found_through_the_initials_alone(viewer, initials):
    warm_caches()
    counts = stored("studies", "characters", version=data_version("studies"))
    assert "ZW" not in counts and "CT" in counts
    zw, my = assert_as_study_list(viewer, "zw", page_size=1), assert_as_study_list(viewer, "MY")
    assert (zw.total, my.total) == (2, 1)
    # No text field was searched: no LIKE, no character index, no FTS table.
    sql = " ".join(studies_sql(zw) + studies_sql(my))
    assert "patient_name_initials" in sql
    assert "LIKE" not in sql and "MATCH" not in sql and "@>" not in sql
    assert answer(viewer, "zw", exam_item="胸部CT平扫")["total"] == 2


def test_two_letters_no_text_holds_are_read_once_for_their_total_and_page(
    viewer, initials, monkeypatch
):
    warm_caches()
    queries = assert_as_study_list(viewer, "zw", page_size=1)  # both pages
    counted = [sql for sql in studies_sql(queries) if "COUNT(" in sql]
    # PostgreSQL: the readings of ``zw`` (2 studies) bound them, one window count over them
    # gives the total with the first page; SQLite keeps no readings and counts.
    assert reads_readings(queries) == KEPT
    assert len(counted) == 1 and ("OVER ()" in counted[0]) == KEPT
    # More studies of those initials than the bound: counted, then paged, as before.
    monkeypatch.setattr(selectors, "FIRST_SCAN_LIMIT", 0)
    counted = [sql for sql in studies_sql(assert_as_study_list(viewer, "MY")) if "COUNT(" in sql]
    assert len(counted) == 1 and "OVER ()" not in counted[0]
    # A write since the warm-up: neither its counts nor its readings are current, the term is
    # searched everywhere too and counted.
    monkeypatch.setattr(selectors, "FIRST_SCAN_LIMIT", 20_000)
    study("ZW-3", "张伟", 5)
    queries = assert_as_study_list(viewer, "zw")
    counted = [sql for sql in studies_sql(queries) if "COUNT(" in sql]
    assert queries.total == 3 and len(counted) == 1 and "OVER ()" not in counted[0]


def test_two_letters_a_text_holds_are_still_searched_there(viewer, initials):
    study("TXT-1", "李四", 5, exam_description="zw view")
    study("ID-1", "李四", 6, medical_record_no="ZW")  # an identifier equal to the term
    warm_caches()
    assert "ZW" in stored("studies", "characters", version=data_version("studies"))
    assert assert_as_study_list(viewer, "zw").total == 4
    assert "LIKE" in " ".join(studies_sql(assert_as_study_list(viewer, "Zw")))


def test_a_term_the_counts_do_not_know_is_searched_everywhere(viewer, initials):
    warm_caches()
    study("TXT-1", "李四", 5, exam_description="ZW view")  # after the warm-up
    assert assert_as_study_list(viewer, "zw").total == 3
    for q in ("oe", "CT", "z", "z w", "ZW1", "12"):
        assert_as_study_list(viewer, q)


def test_the_character_counts_hold_the_pairs_of_latin_letters():
    counts = count_characters(["Zoe Wu", "张伟头颅CT", "Straße", "x1y"])
    assert {k: v for k, v in counts.items() if len(k) == 2} == {
        "ZO": 1, "OE": 1, "WU": 1, "CT": 1, "ST": 1, "TR": 1, "RA": 1, "AS": 1, "SS": 1,
        "SE": 1,
    }  # fmt: skip
    assert counts["张"] == 1 and "Z" not in counts


def test_the_migration_makes_every_cached_answer_stale():
    StudyFactory()
    before = data_version("studies")
    MIGRATION.bump_studies_version(django_apps, None)
    assert data_version("studies") == before + 1


@pytest.fixture
def name_and_items():
    """唐梅's chest and head studies, among many chest studies of others; 王 and 李 surnames."""
    study("TM-1", "唐梅", 1)
    study("TM-2", "唐梅", 2, exam_item="头颅CT平扫")
    for n in range(6):
        study(f"WL-{n}", "王丽" if n % 2 else "李明", 3 + n, exam_description="胸部见结节")


def test_a_frequent_word_beside_a_name_is_rechecked_on_the_names_rows(viewer, name_and_items):
    warm_caches()
    version = data_version("studies")
    # The name's rows are few; on PostgreSQL the chest's character index would read every
    # chest study's entries, so 胸部 is rechecked on the name's rows instead. A surname alone
    # is no name: its rows are every row holding it, and the other word keeps its index.
    assert selectors._word_hints("胸部 唐梅", version) == {
        "narrowest_word": "唐梅",
        "unindexed_words": frozenset({"胸部"}) if KEPT else frozenset(),
    }
    assert selectors._word_hints("王 李", version) == {
        "narrowest_word": "王",
        "unindexed_words": frozenset(),
    }
    assert selectors._word_hints("zhb 胸部", version) == {}  # letters: no count bounds them
    # The first search, read once for its total and page through the indexes.
    sql = " ".join(studies_sql(assert_as_study_list(viewer, "唐梅 胸部")))
    assert ("upper('唐梅')" in sql) == KEPT
    assert "upper('胸部')" not in sql
    for q in ("胸部 唐梅", "唐梅 头颅", "王 李", "李 胸部", "唐 胸部", "唐梅 结节"):
        assert_as_study_list(viewer, q, page_size=1)
    # A write since the warm-up: its counts are not current, every word keeps its index.
    study("TM-3", "唐梅", 9)
    assert selectors._word_hints("唐梅 胸部", data_version("studies")) == {}
    assert assert_as_study_list(viewer, "唐梅 胸部").total == 2
