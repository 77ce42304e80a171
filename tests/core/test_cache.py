"""Cached totals and filter lists are exact: any write to the data makes them recompute."""

import threading
import time
from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.db import connection, connections
from django.utils import timezone

from core.cache import clear, data_version
from reports.models import Report
from studies.models import Study
from studies.schemas import StudyFilterParams
from studies.selectors import study_list
from tests.factories import ReportFactory, StudyFactory, local
from tests.ingest.helpers import study_row, write_xlsx

pytestmark = pytest.mark.django_db(transaction=True)

SEARCH = "/api/v1/studies/search"


def test_every_kind_of_write_bumps_the_data_version(db):
    versions = [data_version("studies")]
    study = StudyFactory()
    versions.append(data_version("studies"))
    Study.objects.filter(pk=study.pk).update(exam_status="已取消")
    versions.append(data_version("studies"))
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM studies_study")
    versions.append(data_version("studies"))
    assert versions == sorted(set(versions))
    report_version = data_version("reports")
    ReportFactory()
    assert data_version("reports") > report_version


def test_cached_answers_match_uncached_ones_after_writes(viewer):
    for n in range(5):
        StudyFactory(exam_status="已审核" if n % 2 else "已登记", exam_item="胸部CT平扫")
    first = viewer.get(SEARCH, {"exam_status": "已审核"}).json()
    again = viewer.get(SEARCH, {"exam_status": "已审核"}).json()
    assert first == again
    assert first["total"] == study_list(exam_status="已审核").count() == 2

    StudyFactory(exam_status="已审核", exam_item="头颅MR平扫")
    after = viewer.get(SEARCH, {"exam_status": "已审核"}).json()
    assert after["total"] == study_list(exam_status="已审核").count() == 3
    assert after["filters"]["exam_items"] == ["头颅MR平扫", "胸部CT平扫"]
    options = viewer.get("/api/v1/studies/filters/options").json()
    assert options["exam_items"] == ["头颅MR平扫", "胸部CT平扫"]

    Study.objects.filter(exam_item="头颅MR平扫").delete()
    final = viewer.get(SEARCH, {"exam_status": "已审核"}).json()
    assert final["total"] == 2
    assert final["filters"]["exam_items"] == ["胸部CT平扫"]


def test_report_filter_options_follow_writes(viewer):
    ReportFactory(radiologist="Dr. A")
    assert viewer.get("/api/v1/reports/filters/options").json()["radiologists"] == ["Dr. A"]
    ReportFactory(radiologist="Dr. B")
    assert viewer.get("/api/v1/reports/search").json()["filters"]["radiologists"] == [
        "Dr. A",
        "Dr. B",
    ]
    Report.objects.all().delete()
    assert viewer.get("/api/v1/reports/search").json()["total"] == 0


def test_a_report_search_shows_the_names_a_studies_import_changed(
    viewer, admin_client, tmp_path, django_assert_num_queries
):
    study = StudyFactory(exam_id="CT000001", patient_name="Old Name", exam_item="Old item")
    ReportFactory(report_id="R1", study=study, content="右肺结节")
    params = {"q": "结节"}
    assert viewer.get("/api/v1/reports/search", params).json()["data"][0]["patient_name"] == (
        "Old Name"
    )
    # The answer is reused while neither table changes (auth with the versions, audit).
    with django_assert_num_queries(2):
        viewer.get("/api/v1/reports/search", params)

    # A studies import writes no report, yet the report's row shows the study's new values.
    upload = write_xlsx(tmp_path / "rename.xlsx", [study_row(1)])
    with upload.open("rb") as fh:
        assert admin_client.post("/api/v1/import/studies", {"file": fh}).json()["updated"] == 1
    row = viewer.get("/api/v1/reports/search", params).json()["data"][0]
    assert (row["patient_name"], row["exam_item"]) == ("张伟", "胸部CT平扫")
    assert viewer.get("/api/v1/reports/search", params).json() == _uncached(
        viewer, "/api/v1/reports/search", params
    )


def _uncached(client, url: str, params: dict) -> dict:
    # A cleared cache (this process's and the shared table) makes the next answer come from
    # plain queries again.
    clear()
    return client.get(url, params).json()


SEARCHES = [
    {},
    {"page": 2, "page_size": 3},
    {"exam_status": "已审核"},
    {"q": "张"},
    {"q": "CT0000"},
    {"exam_item": "胸部CT平扫", "sort": "patient_name"},
]


def test_cached_pages_equal_uncached_ones_after_an_import(viewer, admin_client, tmp_path):
    for n in range(7):
        StudyFactory(exam_status="已审核" if n % 2 else "已登记", patient_name=f"张{n}")
    before = {i: viewer.get(SEARCH, params).json() for i, params in enumerate(SEARCHES)}
    options_before = viewer.get("/api/v1/studies/filters/options").json()
    assert before == {i: viewer.get(SEARCH, p).json() for i, p in enumerate(SEARCHES)}

    rows = [study_row(n, 检查状态="已审核" if n % 3 else "已预约") for n in range(1, 9)]
    upload = write_xlsx(tmp_path / "more.xlsx", rows)
    with upload.open("rb") as fh:
        response = admin_client.post("/api/v1/import/studies", {"file": fh})
    assert response.status_code == 200, response.content

    for i, params in enumerate(SEARCHES):
        cached_answer = viewer.get(SEARCH, params).json()
        assert cached_answer == viewer.get(SEARCH, params).json()
        assert cached_answer == _uncached(viewer, SEARCH, params)
        if i in (0, 2, 3):
            assert cached_answer != before[i]
        expected = study_list(**{k: v for k, v in params.items() if k not in ("page", "page_size")})
        page, size = params.get("page", 1), params.get("page_size", 20)
        assert cached_answer["total"] == expected.count()
        assert [s["exam_id"] for s in cached_answer["data"]] == [
            s.exam_id for s in expected[(page - 1) * size : page * size]
        ]
    options = viewer.get("/api/v1/studies/filters/options").json()
    assert options == _uncached(viewer, "/api/v1/studies/filters/options", {})
    assert options["exam_statuses"] == sorted({*options_before["exam_statuses"], "已预约"})


def test_a_warm_search_reads_only_the_login_with_the_data_versions(
    viewer, django_assert_num_queries
):
    StudyFactory.create_batch(3)
    viewer.get(SEARCH, {"q": "x", "exam_status": "已审核"})
    viewer.get("/api/v1/studies/filters/options")
    # auth (which reads the data versions too), audit: the count, the page and the filter
    # lists are reused.
    with django_assert_num_queries(2):
        viewer.get(SEARCH, {"q": "x", "exam_status": "已审核"})
    with django_assert_num_queries(2):
        viewer.get("/api/v1/studies/filters/options")


def test_deep_pages_are_the_same_rows_as_plain_offsets(viewer, monkeypatch):
    from core import pagination

    for n in range(12):
        StudyFactory(order_datetime=local(2025, 1, 1 + n % 4, 8, 0))
    plain = [viewer.get(SEARCH, {"page": p, "page_size": 5}).json() for p in (1, 2, 3)]
    cache.clear()
    monkeypatch.setattr(pagination, "DEEP_OFFSET", 1)
    deep = [viewer.get(SEARCH, {"page": p, "page_size": 5}).json() for p in (1, 2, 3)]
    assert deep == plain
    assert [len(p["data"]) for p in deep] == [5, 5, 2]


def test_deep_pages_start_from_the_warm_up_bookmarks_and_are_the_plain_pages(viewer, monkeypatch):
    from django.test.utils import CaptureQueriesContext

    from core import pagination
    from core.search import pages as search_pages
    from studies.services import warm_caches

    monkeypatch.setattr(search_pages, "BOOKMARK_EVERY", 4)
    monkeypatch.setattr(pagination, "DEEP_OFFSET", 2)
    # Runs of equal order times straddle the bookmarks (every 4th row, newest first).
    for n in range(23):
        StudyFactory(order_datetime=local(2025, 1, 1 + n // 3, 8, 0))
    pages = [(p, size) for size in (3, 5) for p in range(1, 10)]
    plain = [_uncached(viewer, SEARCH, {"page": p, "page_size": s}) for p, s in pages]
    clear()
    warm_caches()
    assert search_pages.bookmarks(
        Study, field="order_datetime", descending=True, data="studies",
        version=data_version("studies"),
    ) == [(local(2025, 1, 7, 8, 0), 2), (local(2025, 1, 6, 8, 0), 5),
          (local(2025, 1, 4, 8, 0), 11), (local(2025, 1, 3, 8, 0), 14),
          (local(2025, 1, 2, 8, 0), 17)]  # fmt: skip
    for (p, size), answer in zip(pages, plain, strict=True):
        with CaptureQueriesContext(connection) as queries:
            assert viewer.get(SEARCH, {"page": p, "page_size": size}).json() == answer
        started = any('order_datetime" <=' in q["sql"] for q in queries)
        assert started == (p > 1 and 4 <= (p - 1) * size < 23), (p, size)
    # A filtered search or another order pages as usual.
    for params in ({"page": 3, "page_size": 5, "sort": "order_datetime"},
                   {"page": 2, "page_size": 5, "exam_status": "已审核"}):  # fmt: skip
        assert viewer.get(SEARCH, params).json() == _uncached(viewer, SEARCH, params)
    # A write: a new version has no bookmarks until its warm-up, and pages as usual.
    StudyFactory(order_datetime=local(2025, 1, 9, 8, 0))
    assert (
        viewer.get(SEARCH, {"page": 4, "page_size": 5}).json()["data"]
        == (_uncached(viewer, SEARCH, {"page": 4, "page_size": 5})["data"])
    )


def test_answers_are_shared_between_processes(viewer, django_assert_num_queries):
    StudyFactory.create_batch(3, exam_status="已审核")
    first = viewer.get(SEARCH, {"exam_status": "已审核"}).json()
    # Another worker process: its memory is empty, the shared table is not.
    cache.clear()
    # auth with the data versions, the shared table, audit
    with django_assert_num_queries(3):
        again = viewer.get(SEARCH, {"exam_status": "已审核"}).json()
    assert again == first


def test_the_warm_up_prepares_the_first_pages_exactly(viewer, django_assert_num_queries):
    from studies.services import warm_caches

    for n in range(25):
        StudyFactory(exam_status="已审核" if n % 3 else "已登记", exam_source="门诊")
    # no filter, then each listed status (2), source, item and equipment type
    assert warm_caches() == 1 + 2 + 1 + 1 + 1
    searches = ({}, {"exam_status": "已登记"}, {"exam_source": "门诊"})
    warmed = []
    for params in searches:
        cache.clear()
        with django_assert_num_queries(3):
            warmed.append(viewer.get(SEARCH, params).json())
    for params, answer in zip(searches, warmed, strict=True):
        assert answer == _uncached(viewer, SEARCH, params)
        assert answer["total"] == study_list(**params).count()


def test_an_import_prepares_the_first_searches(
    viewer, admin_client, tmp_path, django_assert_num_queries
):
    rows = [study_row(n, 检查状态="已审核" if n % 2 else "已登记") for n in range(1, 6)]
    with write_xlsx(tmp_path / "first.xlsx", rows).open("rb") as fh:
        assert admin_client.post("/api/v1/import/studies", {"file": fh}).status_code == 200
    cache.clear()  # a worker that never served a search: only the shared table can answer
    for params in ({}, {"exam_status": "已登记"}):
        # auth with the data versions, the shared table, audit: nothing is counted
        with django_assert_num_queries(3):
            answer = viewer.get(SEARCH, params).json()
        assert answer["total"] == study_list(**params).count()
    with django_assert_num_queries(3):
        viewer.get("/api/v1/studies/filters/options")


def test_an_import_gives_the_planner_the_new_rows(admin_client, tmp_path):
    rows = [study_row(n) for n in range(1, 8)]
    with write_xlsx(tmp_path / "stats.xlsx", rows).open("rb") as fh:
        assert admin_client.post("/api/v1/import/studies", {"file": fh}).status_code == 200
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT reltuples, relallvisible = relpages FROM pg_class WHERE relname = %s",
                ["studies_study"],
            )
            assert cursor.fetchone() == (7, True)
        else:
            # main.: the import's staging statistics live in a temp.sqlite_stat1
            cursor.execute("SELECT stat FROM main.sqlite_stat1 WHERE tbl = %s", ["studies_study"])
            assert {int(stat.split()[0]) for (stat,) in cursor.fetchall()} == {7}


COMBINATIONS = [
    {"exam_status": "已审核", "exam_source": "门诊"},
    {"exam_status": "已审核", "exam_source": "门诊", "equipment_type": "CT"},
    {"exam_status": "已登记", "patient_gender": "F", "exam_item": "胸部CT平扫"},
    {"exam_source": "急诊", "equipment_type": "MR", "patient_gender": "M"},
    {"exam_status": "已取消", "exam_source": "门诊"},  # no such study
    {"patient_gender": "M", "date_from": "2025-01-02"},
    {"exam_status": "已审核", "exam_source": "门诊", "sort": "order_datetime"},
]


@pytest.mark.parametrize("walk_limit", [20_000, 0], ids=["planner", "filter-first"])
def test_combined_filters_total_and_page_like_plain_queries(viewer, monkeypatch, walk_limit):
    from core.search.backends import postgresql as search

    # 0: every combination's page is fetched filter first (a rare combination in a big table)
    monkeypatch.setattr(search, "WALK_LIMIT", walk_limit)
    for n in range(40):
        StudyFactory(
            exam_status=("已审核", "已登记")[n % 2],
            exam_source=("门诊", "急诊", "住院")[n % 3],
            equipment_type=("CT", "MR")[n % 5 % 2],
            exam_item=("胸部CT平扫", "头颅MR平扫")[n % 7 % 2],
            patient_gender=("M", "F", None)[n % 4 % 3],
            order_datetime=local(2025, 1, 1 + n % 5, 8, n),
        )
    for params in COMBINATIONS:
        expected = study_list(**StudyFilterParams(**params).filters())
        answer = viewer.get(SEARCH, {**params, "page_size": 4}).json()
        assert answer["total"] == expected.count()
        assert [s["exam_id"] for s in answer["data"]] == [s.exam_id for s in expected[:4]]
    assert viewer.get(SEARCH, COMBINATIONS[4]).json()["total"] == 0


def test_combined_filter_totals_follow_an_import(viewer, admin_client, tmp_path):
    params = {"exam_status": "已审核", "exam_source": "门诊"}
    StudyFactory.create_batch(3, **params)
    assert viewer.get(SEARCH, params).json()["total"] == 3
    rows = [study_row(n, 检查状态="已审核") for n in range(1, 6)]
    with write_xlsx(tmp_path / "more.xlsx", rows).open("rb") as fh:
        assert admin_client.post("/api/v1/import/studies", {"file": fh}).status_code == 200
    assert viewer.get(SEARCH, params).json()["total"] == 3 + 5
    for combination in (
        {"exam_status": "已审核"},
        {**params, "equipment_type": "CT", "patient_gender": "M"},
        {**params, "exam_item": "胸部CT平扫"},
    ):
        assert viewer.get(SEARCH, combination).json()["total"] == study_list(**combination).count()


def _at_once(n: int, ask: Callable[[], None]) -> None:
    """``ask`` in ``n`` threads started together, each with its own database connection."""
    start = threading.Barrier(n)

    def run() -> None:
        start.wait()
        try:
            ask()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.parametrize("shared", [True, False])
def test_an_answer_asked_for_at_once_is_computed_once(shared):
    from core.cache import cached

    calls, answers = [], []

    def compute() -> int:
        calls.append(1)
        time.sleep(0.2)  # a count over a million rows, while the other threads ask
        return 42

    def ask() -> None:
        answers.append(cached("studies", "slow", compute, version=7, shared=shared))

    _at_once(6, ask)
    assert answers == [42] * 6
    assert len(calls) == 1


@pytest.mark.parametrize("window", [1, 3, 100])
@pytest.mark.parametrize("sort", ["-order_datetime", "order_datetime"])
def test_a_walk_of_the_date_index_that_meets_too_few_matches_gives_the_same_page(
    viewer, monkeypatch, window, sort
):
    from core.search.backends import postgresql as search

    # Every term walks the date index, and stops after `window` rows: the matches of "旧"
    # are all among the oldest studies, those of "新" among the newest.
    monkeypatch.setattr(search, "WALK_LIMIT", 10**9)
    monkeypatch.setattr(search, "WALK_WINDOWS", (window,))
    for n in range(12):
        StudyFactory(
            patient_name=("旧" if n < 4 else "新") + f"{n}",
            order_datetime=local(2025, 1, 1 + n, 8, 0),
        )
    for q in ("旧", "新", "旧1", "新1"):
        params = {"q": q, "sort": sort, "page_size": 3}
        expected = list(study_list(q=q, sort=sort).values_list("exam_id", flat=True))
        for page in (1, 2, 3):
            answer = viewer.get(SEARCH, {**params, "page": page}).json()
            assert answer["total"] == len(expected)
            assert [s["exam_id"] for s in answer["data"]] == expected[(page - 1) * 3 : page * 3]


def test_a_costly_answer_is_computed_once_by_all_processes(monkeypatch):
    import contextlib

    from core import cache as core_cache

    if connection.vendor != "postgresql":
        pytest.skip("the workers' processes share a lock through PostgreSQL only")
    # Threads without the in-process lock stand for the server's worker processes: each has
    # its own connection, and only PostgreSQL's advisory lock keeps them from counting twice.
    monkeypatch.setattr(core_cache, "_one_at_a_time", lambda key: contextlib.nullcontext())
    calls, answers = [], []

    def compute() -> int:
        calls.append(1)
        time.sleep(0.3)
        return 7

    def ask() -> None:
        answers.append(core_cache.cached("studies", "costly", compute, version=3, costly=True))
        cache.clear()  # the next ask of this "process" goes to the shared table
        answers.append(core_cache.cached("studies", "costly", compute, version=3, costly=True))

    _at_once(4, ask)
    assert answers == [7] * 8
    assert len(calls) == 1


def test_the_warm_up_leaves_no_dead_answers_behind():
    from studies.services import warm_caches

    StudyFactory.create_batch(3)
    warm_caches()
    Study.objects.update(exam_status="已审核")  # a new data version
    started = timezone.now()
    warm_caches()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(DISTINCT version) FROM core_sharedanswer WHERE name = 'studies'"
        )
        assert cursor.fetchone() == (1,)
        if connection.vendor == "postgresql":
            # the older answers are not only deleted but vacuumed away
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT relname, last_vacuum >= %s FROM pg_stat_user_tables "
                "WHERE relname IN ('core_sharedanswer', 'core_dataversion') ORDER BY relname",
                [started],
            )
            assert cursor.fetchall() == [("core_dataversion", True), ("core_sharedanswer", True)]


def test_shared_answers_are_unlogged_on_postgresql_and_serve_every_process():
    """A cached answer's commit does not wait for the write-ahead log on PostgreSQL (an
    unlogged table: a crash empties it, and it is computed again); it is still shared."""
    from core import cache as core_cache

    calls: list[int] = []
    answer = core_cache.cached("studies", "unlogged", lambda: calls.append(1) or 41, version=9)
    cache.clear()  # another process: the shared table answers
    again = core_cache.cached("studies", "unlogged", lambda: calls.append(1) or 42, version=9)
    assert (answer, again, len(calls)) == (41, 41, 1)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname, relpersistence FROM pg_class "
                "WHERE relname IN ('core_sharedanswer', 'audit_auditevent') ORDER BY relname"
            )
            # the audit log stays on the write-ahead log: it must survive a crash
            assert cursor.fetchall() == [("audit_auditevent", "p"), ("core_sharedanswer", "u")]


def test_one_character_totals_after_an_import_are_exact(viewer, admin_client, tmp_path):
    from core.cache import stored

    rows = [
        study_row(1, 姓名="王芳芳", 检查描述="双肺纹理清晰"),  # 芳 twice in one study: one study
        study_row(2, 姓名="李王", 检查项目="头颅MR平扫"),
        study_row(3, 姓名="Wang Li", 检查描述="右肺结节5mm"),  # a digit in the description
        study_row(4, 姓名="张伟", 病历号="王"),  # the term is this study's record number only
        study_row(5, 姓名="赵六", 检查号="5", 检查描述="未见异常"),  # an identifier equal to "5"
        study_row(6, 检查描述=None),
    ]
    with write_xlsx(tmp_path / "one.xlsx", rows).open("rb") as fh:
        assert admin_client.post("/api/v1/import/studies", {"file": fh}).status_code == 200
    # The import's warm-up counted the characters; the searches below are answered from them.
    counts = stored("studies", "characters", version=data_version("studies"))
    assert counts["芳"] == 1 and counts["王"] == 2 and counts["5"] == 1
    assert "W" not in counts  # a letter has case: its terms are counted by the database
    for q in ("王", "芳", "李", "肺", "5", "平", "W", "w", "x", "鑫", "CT", "王芳"):
        expected = study_list(q=q, text_index=False)
        answer = viewer.get(SEARCH, {"q": q, "page_size": 2}).json()
        assert answer["total"] == expected.count(), q
        assert [s["exam_id"] for s in answer["data"]] == [s.exam_id for s in expected[:2]], q
    # With another filter the counts of the whole table do not apply.
    answer = viewer.get(SEARCH, {"q": "王", "exam_item": "头颅MR平扫"}).json()
    assert answer["total"] == study_list(q="王", exam_item="头颅MR平扫").count() == 1


def test_one_character_totals_without_the_warm_up_are_counted(viewer):
    from core.cache import stored
    from studies.selectors import study_character_counts

    StudyFactory(patient_name="王五")
    version = data_version("studies")
    assert study_character_counts(version=version)["王"] == 1
    # A write after the warm-up: its counts are stale, and no request computes new ones.
    StudyFactory(patient_name="王六")
    assert viewer.get(SEARCH, {"q": "王"}).json()["total"] == 2
    assert stored("studies", "characters", version=data_version("studies")) is None


def test_a_walk_takes_the_smallest_window_that_holds_four_times_what_it_expects(monkeypatch):
    from core.search.backends import postgresql as search

    # 2 matches in 24 studies: page 1 of 2 rows expects to read 24 rows (x4: 96), page 2 48
    # (x4: 192), both within the window of 200 rows; 22 matches expect 2 rows (x4: 9): 40.
    monkeypatch.setattr(search, "WALK_WINDOWS", (40, 200, 1000))
    monkeypatch.setattr(search, "_estimate", lambda table: 24.0)
    for n in range(24):
        StudyFactory(
            patient_name="新" if n in (3, 20) else "旧", order_datetime=local(2025, 1, 1, n)
        )
    seen: list[int] = []
    edge = search.window_edge

    def window_edge(*args, **kwargs):
        seen.append(kwargs["size"])
        return edge(*args, **kwargs)

    monkeypatch.setattr(search, "window_edge", window_edge)
    matches = study_list(q="新", text_index=False)
    others = study_list(q="旧", text_index=False)
    for walk, page, total in ((matches, 1, 2), (matches, 2, 2), (others, 1, 22)):
        rows = search.walked_page(
            walk, walk, field="order_datetime", descending=True, data="studies",
            version=data_version("studies"), page=page, page_size=2, total=total,
        )  # fmt: skip
        assert [s.exam_id for s in rows] == [s.exam_id for s in walk[2 * page - 2 : 2 * page]]
    assert seen == [200, 200, 40]


def test_a_rare_term_is_counted_and_paged_in_one_scan_the_first_time(
    viewer, admin_client, tmp_path
):
    names = ["王明", "王明明", "刘明", "明王", "王小明", "张伟", "Wang Ming", "Ming Wang"]
    rows = [study_row(n, 姓名=names[n % 8], 检查号=f"CT{n:06d}") for n in range(1, 33)]
    rows.append(study_row(99, 姓名="李四", 病历号="王明"))  # the term as a record number
    with write_xlsx(tmp_path / "rare.xlsx", rows).open("rb") as fh:
        assert admin_client.post("/api/v1/import/studies", {"file": fh}).status_code == 200
    searched: set[tuple] = set()
    for params in (
        {"q": "王明", "page_size": 3},
        {"q": "王明", "page_size": 3, "page": 3},
        {"q": "王明", "page_size": 3, "page": 9},  # past the end
        {"q": "明王", "sort": "patient_name", "page_size": 2},
        {"q": "刘明", "exam_status": "已审核", "page_size": 2},
        {"q": "鑫鑫", "page_size": 2},  # no study holds these characters
        {"q": "wang", "page_size": 3},  # letters: through the trigram indexes
        {"q": "wang", "page_size": 3, "page": 2},
        {"q": "MING W", "sort": "-exam_id", "page_size": 3},
        {"q": "wan", "exam_status": "已登记", "page_size": 3},  # no match
    ):
        filters = StudyFilterParams(**params).filters()
        expected = list(study_list(**filters, text_index=False))
        page, size = params.get("page", 1), params["page_size"]
        first: list[str] = []

        def record(run, sql, params, *args, first=first):
            first.append(f"{sql} {params}")
            return run(sql, params, *args)

        with connection.execute_wrapper(record):
            answer = viewer.get(SEARCH, params).json()
        again = viewer.get(SEARCH, params).json()
        assert answer == again
        assert answer["total"] == len(expected), params
        page_ids = [s.exam_id for s in expected[(page - 1) * size : page * size]]
        assert [s["exam_id"] for s in answer["data"]] == page_ids, params
        counted = [sql for sql in first if "COUNT(" in sql]
        if connection.vendor == "postgresql" and page_ids:
            # The first search of a term: one query gave both, the total as a window count
            # over the matches; its next pages: the total is known, nothing is counted.
            term = (params["q"], params.get("exam_status"))
            assert [" OVER () " in sql for sql in counted] == ([] if term in searched else [True])
            if term not in searched:
                # Its total is stored as found, without another lookup of the count's key.
                count_reads = [
                    sql for sql in first if sql.startswith("SELECT value") and ":count:" in sql
                ]
                assert len(count_reads) == 1, count_reads
            searched.add(term)


def test_a_report_term_with_letters_is_counted_and_paged_in_one_scan_the_first_time(viewer):
    from reports.schemas import ReportFilterParams
    from reports.selectors import report_list

    study = StudyFactory()
    texts = ["No acute findings.", "Small nodule. NO ACUTE change.", "右肺结节", "no acutely ill"]
    for n in range(12):
        ReportFactory(
            report_id=f"R{n:02d}", study=study, content=texts[n % 4],
            status="final" if n % 3 else "draft", created_at=local(2025, 1, 1 + n % 5, 8, 0),
        )  # fmt: skip
    searched: set[tuple] = set()
    for params in (
        {"q": "no acute", "page_size": 3},
        {"q": "no acute", "page_size": 3, "page": 2},  # counted: paged as usual
        {"q": "no acute", "page_size": 3, "page": 9},  # past the end
        {"q": "NODULE", "status": "final", "page_size": 2},
        {"q": "结节", "page_size": 2},  # Chinese: counted from the character index
        {"q": "no", "page_size": 2},  # two letters: counted, no trigram to find them by
        {"q": "zzz", "page_size": 2},  # no match
        {"q": "small nodule", "page_size": 2, "page": 4},  # past the end, the first time
    ):
        filters = ReportFilterParams(**params).filters()
        expected = list(report_list(**filters, text_index=False))
        page, size = params.get("page", 1), params["page_size"]
        first: list[str] = []

        def record(run, sql, params, *args, first=first):
            first.append(sql)
            return run(sql, params, *args)

        with connection.execute_wrapper(record):
            answer = viewer.get("/api/v1/reports/search", params).json()
        assert answer == viewer.get("/api/v1/reports/search", params).json()
        assert answer == _uncached(viewer, "/api/v1/reports/search", params)
        assert answer["total"] == len(expected), params
        page_ids = [r.report_id for r in expected[(page - 1) * size : page * size]]
        assert [r["report_id"] for r in answer["data"]] == page_ids, params
        counted = [" OVER () " in sql for sql in first if "COUNT(" in sql]
        term = (params["q"], params.get("status"))
        if term in searched:
            assert counted == [], params  # its total is known: nothing is counted again
        elif len(term[0]) > 2 and term[0].isascii():
            # The first search of a term with letters: one query gave both, the total as a
            # window count over its matches (counted again when a later page is empty).
            assert counted == ([True] if page == 1 else [True, False]), params
        else:
            assert counted == [False], params
        searched.add(term)


@pytest.mark.parametrize(
    ("total", "walks", "walks_with_window_per_match"),
    [
        (60_088, True, True),  # a common term: 313 rows expected, read within 5,000
        (11_589, True, True),  # 1,621 expected: a window of 10,000 holds < 2 rows per match
        (4_272, True, False),  # 4,397 expected: a window of 20,000, 4.7 rows per match
        (985, True, False),  # 19,071 expected: the window of 40,000
        (900, False, False),  # 20,872 expected: past the walk limit
    ],
)
def test_a_walk_whose_window_holds_many_rows_per_match_is_left_to_a_sort(
    db, monkeypatch, total, walks, walks_with_window_per_match
):
    from core.search.backends import postgresql as search

    # Reports at a million rows: reading one in the walk costs about what sorting a match does.
    monkeypatch.setattr(search, "_estimate", lambda table: 939_240.0)
    asked = {"table": "reports_report", "data": "reports", "version": 1, "rows_needed": 20}
    assert search.walks_date_index(**asked, total=total) is walks
    assert (
        search.walks_date_index(**asked, total=total, window_per_match=2.0)
        is walks_with_window_per_match
    )
    assert search.walks_date_index(**asked, total=0, window_per_match=2.0) is False


def test_report_character_counts_count_each_report_once_per_caseless_character_and_pair(
    monkeypatch,
):
    from reports import selectors

    monkeypatch.setattr(selectors, "COUNTED_MIN", 2)
    texts = [("右肺结节，结节大小", 1), ("结节钙化", 3), ("Nodule结节", 1), ("AB ab 12", 2)]
    # 结节 is in five reports (twice in the first, counted once); 节钙 in three identical ones;
    # letters, spaces, punctuation and what one report alone holds are left out.
    assert selectors.count_characters(texts) == {
        "结": 5, "节": 5, "结节": 5, "钙": 3, "化": 3, "节钙": 3, "钙化": 3,
        "1": 2, "2": 2, "12": 2,
    }  # fmt: skip
    assert selectors.count_characters([]) == {}


def test_a_report_search_of_chinese_characters_is_totalled_and_planned_from_the_warm_up_counts(
    viewer, monkeypatch
):
    from reports import selectors, services
    from reports.schemas import ReportFilterParams
    from reports.selectors import report_list

    monkeypatch.setattr(selectors, "COUNTED_MIN", 4)
    study = StudyFactory()
    texts = ["右肺结节。", "双肺多发结节，结节钙化。", "肝囊肿。", "Lung nodule 结节", "肾结石"]
    for n in range(15):
        ReportFactory(
            report_id=f"R{n:02d}", study=study, content=texts[n % 5],
            status="final" if n % 2 else "draft", created_at=local(2025, 2, 1 + n % 7, 9, 0),
        )  # fmt: skip
    assert selectors.report_character_counts(version=data_version("reports"))["结节"] == 9

    def searched(params: dict, *, warm: bool = True) -> tuple[dict, list[str]]:
        if warm:  # as after an import (the comparison with a plain answer clears the cache)
            services.warm_caches()
        sqls: list[str] = []

        def record(run, sql, args, *rest):
            sqls.append(sql)
            return run(sql, args, *rest)

        with connection.execute_wrapper(record):
            answer = viewer.get("/api/v1/reports/search", params).json()
        filters = ReportFilterParams(**params).filters()
        expected = list(report_list(**filters, text_index=False))
        page, size = params.get("page", 1), params.get("page_size", 20)
        assert answer["total"] == len(expected), params
        assert [r["report_id"] for r in answer["data"]] == [
            r.report_id for r in expected[(page - 1) * size : page * size]
        ], params
        assert answer == _uncached(viewer, "/api/v1/reports/search", params), params
        return answer, [s for s in sqls if "COUNT(" in s]

    # A frequent pair alone: its total is the kept count, nothing is counted.
    answer, counts = searched({"q": "结节", "page_size": 4, "page": 2})
    assert answer["total"] == 9 and counts == []
    # With another filter the table's counts do not total it; they bound it (9 reports at
    # most), so its matches are counted and paged by one scan.
    answer, counts = searched({"q": "结节", "status": "final", "page_size": 4})
    assert [" OVER () " in c for c in counts] == [True]
    # A frequent character alone: its kept count too.
    answer, counts = searched({"q": "节"})
    assert answer["total"] == 9 and counts == []
    # A rare character or pair (held by fewer reports than the counts' minimum), and a longer
    # term whose characters bound it: counted and paged by one scan the first time.
    for params in ({"q": "石"}, {"q": "结石", "page_size": 2}, {"q": "多发结节", "page_size": 2}):
        answer, counts = searched(params)
        assert answer["total"] == 3 and [" OVER () " in c for c in counts] == [True], params
    # A term no report holds: its empty first page is its total.
    answer, counts = searched({"q": "肝结节"})
    assert answer["total"] == 0 and [" OVER () " in c for c in counts] == [True]
    if connection.vendor == "postgresql":
        # 多发结节's rarest character is about as rare as its rarest pair: found through the
        # character index. 结节结's characters are all frequent, one pair is not: trigrams.
        for q, by_characters in (("多发结节", True), ("结节结", False)):
            answer, counts = searched({"q": q})
            assert ("regexp_split_to_array" in counts[0]) is by_characters, q
            assert ("UPPER(" in counts[0]) is not by_characters, q

    # A write after the warm-up: the counts of the older data are not used, the term is
    # counted, and the next warm-up keeps the new count.
    ReportFactory(report_id="R99", study=study, content="结节", created_at=local(2025, 3, 1, 9))
    answer, counts = searched({"q": "结节"}, warm=False)
    assert answer["total"] == 10 and len(counts) == 1
    answer, counts = searched({"q": "结节", "page_size": 3})
    assert answer["total"] == 10 and counts == []
