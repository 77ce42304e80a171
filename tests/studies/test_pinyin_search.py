"""Search by pinyin, initials and several words (issue 26): GET /studies/search on both
databases, the importer and migration 0007's backfill computing the pinyin."""

import importlib
from http import HTTPStatus

import pytest
from django.db import connection

from studies.models import Study
from studies.pinyin import fill_pinyin, name_pinyin, read_name
from studies.selectors import study_list
from tests.factories import StudyFactory, local
from tests.ingest.helpers import HEADERS_ZH, study_row, write_csv, write_xlsx

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/studies/search"
IMPORT = "/api/v1/import/studies"
MIGRATION = importlib.import_module("studies.migrations.0007_patient_name_pinyin")


@pytest.fixture
def patients():
    """张伟 (two studies), 朱辉斌 (a head and a chest study), 曾国藩, a Latin name."""
    rows = [
        ("ZW-1", "张伟", "胸部CT平扫", "MRN-ZW", 1),
        ("ZW-2", "张伟", "腰椎正侧位", "MRN-ZW", 2),
        ("ZHB-1", "朱辉斌", "头颅CT平扫", "MRN-ZHB", 3),
        ("ZHB-2", "朱辉斌", "胸部CT平扫", "MRN-ZHB", 4),
        ("ZGF-1", "曾国藩", "头颅MR平扫", "MRN-ZGF", 5),
        ("LAT-1", "Zoe Wu", "Head CT", "MRN-LAT", 6),
    ]
    for exam_id, name, item, mrn, day in rows:
        StudyFactory(
            exam_id=exam_id, patient_name=name, exam_item=item, medical_record_no=mrn,
            exam_description=None, order_datetime=local(2025, 11, day, 9, 0),
        )  # fmt: skip


def found(client, q: str, **params) -> tuple[list[str], int]:
    response = client.get(SEARCH, {"q": q, "page_size": 100, **params})
    assert response.status_code == HTTPStatus.OK, response.content
    body = response.json()
    return sorted(s["exam_id"] for s in body["data"]), body["total"]


@pytest.mark.parametrize("q", ["zhangwei", "zhang wei", "ZhangWei", "ZHANG WEI", "zw", "ZW"])
def test_pinyin_and_initials_find_the_chinese_name(viewer, patients, q):
    assert found(viewer, q) == (["ZW-1", "ZW-2"], 2)


def test_a_pinyin_substring_of_three_letters_finds_the_names_that_hold_it(viewer, patients):
    # zhang: 张伟; "huib" inside zhuhuibin.
    assert found(viewer, "zhang") == (["ZW-1", "ZW-2"], 2)
    assert found(viewer, "huib") == (["ZHB-1", "ZHB-2"], 2)
    assert found(viewer, "zhb") == (["ZHB-1", "ZHB-2"], 2)


def test_a_polyphonic_surname_is_read_as_a_surname(viewer, patients):
    assert found(viewer, "zengguofan") == (["ZGF-1"], 1)
    assert found(viewer, "cengguofan") == ([], 0)
    assert name_pinyin("单雄信") == ("shanxiongxin", "sxx")
    assert name_pinyin("仇英") == ("qiuying", "qy")
    assert name_pinyin("吕布") == ("lvbu", "lb")


@pytest.mark.parametrize("q", ["zhangwe1", "wangfang", "zx", "zwb", "z w x"])
def test_pinyin_of_no_patient_finds_nothing(viewer, patients, q):
    assert found(viewer, q) == ([], 0)


def test_two_letters_match_initials_whole_not_a_pinyin_substring(viewer, patients):
    # zh and hu are inside zhangwei and zhuhuibin: two letters are initials only (zw).
    assert found(viewer, "zh") == ([], 0)
    assert found(viewer, "hu") == ([], 0)
    assert found(viewer, "zgf") == (["ZGF-1"], 1)


def test_a_latin_name_is_found_as_before_only(viewer, patients):
    assert Study.objects.get(exam_id="LAT-1").patient_name_pinyin == ""
    assert Study.objects.get(exam_id="LAT-1").patient_name_initials == ""
    assert found(viewer, "zoe wu") == (["LAT-1"], 1)
    assert found(viewer, "Zoe") == (["LAT-1"], 1)
    # Its initials are not looked for, nor its letters without the space.
    assert found(viewer, "zw") == (["ZW-1", "ZW-2"], 2)
    assert found(viewer, "zoewu") == ([], 0)


def test_a_name_and_an_item_find_that_patients_studies(viewer, patients):
    assert found(viewer, "朱辉斌 头颅") == (["ZHB-1"], 1)
    assert found(viewer, "zhuhuibin 头颅") == (["ZHB-1"], 1)
    assert found(viewer, "zhb 胸部") == (["ZHB-2"], 1)
    assert found(viewer, "zhang wei 腰椎") == (["ZW-2"], 1)
    assert found(viewer, "头颅 MRN-ZGF") == (["ZGF-1"], 1)
    # Every word must match: nobody called 朱辉斌 had a lumbar study.
    assert found(viewer, "朱辉斌 腰椎") == ([], 0)


def test_more_than_eight_words_are_matched_whole_only(viewer, patients):
    assert found(viewer, "朱辉斌 头颅 " + " ".join(["CT"] * 6)) == (["ZHB-1"], 1)
    assert found(viewer, "朱辉斌 头颅 " + " ".join(["CT"] * 7)) == ([], 0)


def test_the_whole_term_still_matches_across_a_space(viewer, patients):
    StudyFactory(exam_id="DESC", patient_name="李娜", exam_description="见 头颅 影像")
    # "见 头颅": a substring of DESC's description as before; 见 alone is nowhere else.
    assert found(viewer, "见 头颅") == (["DESC"], 1)


def test_totals_are_exact_whatever_the_page_and_filters(viewer, patients):
    for n in range(25):
        StudyFactory(
            exam_id=f"MANY-{n:02d}", patient_name="张伟", exam_source="住院",
            order_datetime=local(2025, 10, 1 + n % 28, 9, 0),
        )  # fmt: skip
    body = viewer.get(SEARCH, {"q": "zhang wei", "page_size": 10, "page": 3}).json()
    assert body["total"] == 27
    assert len(body["data"]) == 7
    assert found(viewer, "zw", exam_source="住院")[1] == 25
    assert found(viewer, "zw", sort="patient_name")[1] == 27
    ids = [
        s["exam_id"]
        for page in (1, 2, 3)
        for s in viewer.get(SEARCH, {"q": "zw", "page_size": 10, "page": page}).json()["data"]
    ]
    assert len(ids) == len(set(ids)) == 27


def test_the_index_does_not_change_an_answer(patients):
    for q in ("zhangwei", "zhang wei", "zw", "zhb", "huib", "朱辉斌 头颅", "zhb 胸部"):
        with_index = set(study_list(q=q).values_list("exam_id", flat=True))
        without = set(study_list(q=q, text_index=False).values_list("exam_id", flat=True))
        assert with_index == without


def test_an_import_computes_the_pinyin_and_an_upsert_recomputes_it(admin_client, viewer, tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [study_row(1), study_row(2, 姓名="单雄信")])
    with path.open("rb") as fh:
        response = admin_client.post(IMPORT, {"file": fh})
    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["created"] == 2
    stored = dict(Study.objects.values_list("exam_id", "patient_name_pinyin"))
    assert stored == {"CT000001": "zhangwei", "CT000002": "shanxiongxin"}
    assert found(viewer, "sxx") == (["CT000002"], 1)
    # The patient is renamed by a later file (CSV, update): the pinyin follows the name.
    path = write_csv(tmp_path / "b.csv", [study_row(2, 姓名="曾国藩")], HEADERS_ZH)
    with path.open("rb") as fh:
        response = admin_client.post(IMPORT, {"file": fh, "on_duplicate": "update"})
    assert response.status_code == HTTPStatus.OK, response.content
    assert (response.json()["updated"], response.json()["unchanged"]) == (1, 0)
    renamed = Study.objects.get(exam_id="CT000002")
    assert (renamed.patient_name_pinyin, renamed.patient_name_initials) == ("zengguofan", "zgf")
    assert found(viewer, "sxx") == ([], 0)
    assert found(viewer, "zeng guofan") == (["CT000002"], 1)
    # The same file again changes nothing: the stored pinyin is what the file gives.
    with path.open("rb") as fh:
        again = admin_client.post(IMPORT, {"file": fh, "on_duplicate": "update"}).json()
    assert (again["updated"], again["unchanged"]) == (0, 1)


def test_saving_a_study_recomputes_the_pinyin(patients):
    study = Study.objects.get(exam_id="LAT-1")
    study.patient_name = "仇英"
    study.save(update_fields=["patient_name"])
    study.refresh_from_db()
    assert (study.patient_name_pinyin, study.patient_name_initials) == ("qiuying", "qy")


def test_the_backfill_fills_every_study_written_without_the_pinyin(viewer, patients):
    # As rows stood before migration 0007 (or as a raw writer leaves them).
    Study.objects.update(patient_name_pinyin="", patient_name_initials="")
    assert found(viewer, "zw") == ([], 0)
    assert fill_pinyin(connection, batch=2) == 5  # every Chinese name, in batches of two
    assert found(viewer, "zw") == (["ZW-1", "ZW-2"], 2)
    assert found(viewer, "zengguofan") == (["ZGF-1"], 1)
    assert fill_pinyin(connection) == 0  # nothing left to do
    assert MIGRATION.backfill.__module__ == MIGRATION.__name__


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite pinyin index")
def test_the_sqlite_pinyin_index_follows_every_write(viewer, patients):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
            ["studies_study_pinyin_fts_%"],
        )
        assert sorted(r[0] for r in cursor.fetchall()) == sorted(MIGRATION.PINYIN_TRIGGERS)
    Study.objects.filter(exam_id="ZW-1").delete()
    Study.objects.filter(exam_id="ZW-2").update(patient_name_pinyin="lina")
    assert found(viewer, "zhangwei") == ([], 0)
    assert found(viewer, "lina") == (["ZW-2"], 1)


def test_the_sqlite_search_reads_the_migrations_table():
    from studies import sqlite_search

    assert sqlite_search.PINYIN_FTS_TABLE == MIGRATION.PINYIN_FTS_TABLE


def test_a_single_latin_letter_makes_no_word_of_its_own(viewer, patients):
    # "li n": matched whole and as the pinyin "lin", not as "li" and "n" (nearly every row).
    StudyFactory(exam_id="LN-1", patient_name="林娜", order_datetime=local(2025, 11, 20, 9, 0))
    StudyFactory(exam_id="LN-2", patient_name="Li Na", order_datetime=local(2025, 11, 21, 9, 0))
    StudyFactory(exam_id="LN-3", patient_name="李宁", order_datetime=local(2025, 11, 22, 9, 0))
    assert found(viewer, "li n") == (["LN-1", "LN-2", "LN-3"], 3)
    assert found(viewer, "Zoe W") == (["LAT-1"], 1)
    # A single Chinese character (a surname) is a word: 朱 and 头颅.
    assert found(viewer, "朱 头颅") == (["ZHB-1"], 1)


def test_repeated_names_of_one_import_are_read_once_each_past_the_memo_too(
    admin_client, tmp_path, monkeypatch
):
    """A name repeated across a file's rows is read once per import; the names past the
    memo's bound are read as they come, with the same result."""
    from ingest import services
    from studies.models import PINYIN_FIELDS

    monkeypatch.setattr(services, "COMPUTED_MEMO", 1)
    reads: list[str] = []
    read = read_name  # past this process's own cache of names
    monkeypatch.setitem(
        services.STUDIES.computed,
        "patient_name",
        (PINYIN_FIELDS, lambda name: reads.append(name) or read(name)),
    )
    names = ["张伟", "单雄信", "张伟", "单雄信", "张伟"]
    rows = [study_row(n, 姓名=name) for n, name in enumerate(names, start=1)]
    path = write_xlsx(tmp_path / "a.xlsx", rows)
    with path.open("rb") as fh:
        response = admin_client.post(IMPORT, {"file": fh})
    assert response.status_code == HTTPStatus.OK, response.content
    stored = Study.objects.order_by("exam_id").values_list("patient_name_initials", flat=True)
    assert list(stored) == ["zw", "sxx", "zw", "sxx", "zw"]
    # 张伟 kept (the memo holds one name), 单雄信 read each time it stands
    assert reads == ["张伟", "单雄信", "单雄信"]


@pytest.mark.django_db(databases=[])
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("王银行", ("wangyinhang", "wyh")),  # 行 is xing alone, hang in the phrase 银行
        ("周重庆", ("zhouchongqing", "zcq")),  # 重 is zhong alone
        ("朝阳", ("zhaoyang", "zy")),
        ("李重", ("lizhong", "lz")),
        ("张Anna", ("zhanganna", "za")),
        ("欧阳娜娜", ("ouyangnana", "oynn")),
    ],
)
def test_phrases_are_read_as_phrases_and_other_names_character_by_character(name, expected):
    assert read_name(name) == expected


@pytest.mark.django_db(databases=[])
def test_reading_by_character_gives_what_pypinyin_gives_for_the_whole_text():
    """Names are read from their characters' readings where no phrase can change them; the
    result is pypinyin's own for every character alone and for runs of two to five."""
    import random

    from studies import pinyin

    characters = [chr(code) for code in range(0x4E00, 0xA000)]
    rng = random.Random(26)
    texts = characters + [
        "".join(rng.choices(characters, k=rng.randint(2, 5))) for _ in range(20_000)
    ]
    texts += ["张伟", "王银行", "银行", "张 伟", "张〇", "〇", "李·小龙", "张Anna", "𠀀", ""]
    texts.append("张" * (pinyin._BY_CHARACTER_MAX + 1))
    differ = [text for text in texts if pinyin._readings(text) != pinyin._pypinyin(text)]
    assert differ == []
    # Most names take the quick way; a phrase, a long text or a non-Chinese one do not.
    assert pinyin._by_character("张伟") == ["zhang", "wei"]
    for text in ("银行", "张" * (pinyin._BY_CHARACTER_MAX + 1), "张 伟", "张Anna", ""):
        assert pinyin._by_character(text) is None


@pytest.mark.django_db(databases=[])
@pytest.mark.parametrize("texts", [("zhangwei",), ("zhang\x00wei", "zw"), ("a", "b", "c")])
def test_a_computation_giving_other_than_one_text_per_column_is_refused(texts):
    """The import's memo keeps a name's computed texts joined by NUL (which no PostgreSQL
    text holds): a computation that gives another number of texts, or a NUL, is a fault of
    the code, raised rather than stored shifted."""
    from dataclasses import replace

    from ingest import services
    from studies.models import PINYIN_FIELDS

    target = replace(services.STUDIES, computed={"patient_name": (PINYIN_FIELDS, lambda _: texts)})
    with pytest.raises(ValueError, match="gave"):
        list(services._Computed(target, [(2, {"patient_name": "张伟"})]))


@pytest.mark.django_db(databases=[])
def test_computed_texts_come_back_from_the_memo_as_computed():
    from ingest import services

    records = [(n, {"patient_name": name}) for n, name in enumerate(["张伟", "Anna", "张伟"])]
    out = [dict(record) for _, record in services._Computed(services.STUDIES, records)]
    assert [(r["patient_name_pinyin"], r["patient_name_initials"]) for r in out] == [
        ("zhangwei", "zw"),
        ("", ""),
        ("zhangwei", "zw"),
    ]
