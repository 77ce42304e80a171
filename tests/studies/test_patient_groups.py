"""The studies search grouped by patient (studies.patients.patient_groups_page): the groups,
their counts, a group that runs over a page, and every filter with it."""

from datetime import date

import pytest

from studies.patients import patient_groups_page
from tests.factories import StudyFactory, local

pytestmark = pytest.mark.django_db


@pytest.fixture
def patients():
    """Three patients with record numbers and two without; twelve studies in all.

    MRN-A 赵一: three studies, two certified. MRN-B 钱二: two. MRN-C 周五: four, one in 2024.
    Without a record number: 孙三 (two) and 李四 (one), grouped by name after the numbers."""
    rows = [
        ("A1", "MRN-A", "赵一", "已审核", local(2025, 1, 1, 9)),
        ("A2", "MRN-A", "赵一", "已登记", local(2025, 3, 1, 9)),
        ("A3", "MRN-A", "赵一", "已审核", local(2025, 2, 1, 9)),
        ("B1", "MRN-B", "钱二", "已审核", local(2025, 4, 1, 9)),
        ("B2", "MRN-B", "钱二", "已登记", local(2025, 5, 1, 9)),
        ("C1", "MRN-C", "周五", "已审核", local(2024, 6, 1, 9)),
        ("C2", "MRN-C", "周五", "已审核", local(2025, 6, 2, 9)),
        ("C3", "MRN-C", "周五", "已登记", local(2025, 6, 3, 9)),
        ("C4", "MRN-C", "周五", "已审核", local(2025, 6, 4, 9)),
        ("N1", None, "孙三", "已审核", local(2025, 7, 1, 9)),
        ("N2", None, "孙三", "已登记", local(2025, 7, 2, 9)),
        ("N3", None, "李四", "已审核", local(2025, 7, 3, 9)),
    ]
    for exam_id, mrn, name, status, when in rows:
        StudyFactory(
            exam_id=exam_id, medical_record_no=mrn, patient_name=name, exam_status=status,
            order_datetime=when, patient_gender="F" if mrn == "MRN-B" else "M",
        )  # fmt: skip


def _shape(groups) -> list[tuple]:
    return [
        (g.medical_record_no, g.patient_name, [s.exam_id for s in g.studies], g.matched, g.total,
         g.continued, g.continues)
        for g in groups
    ]  # fmt: skip


def test_groups_by_record_number_newest_first_with_the_nameless_last(patients):
    groups, total, options = patient_groups_page(page=1, page_size=20)
    assert total == 12
    assert _shape(groups) == [
        ("MRN-A", "赵一", ["A2", "A3", "A1"], 3, 3, False, False),
        ("MRN-B", "钱二", ["B2", "B1"], 2, 2, False, False),
        ("MRN-C", "周五", ["C4", "C3", "C2", "C1"], 4, 4, False, False),
        (None, "孙三", ["N2", "N1"], 2, None, False, False),
        (None, "李四", ["N3"], 1, None, False, False),
    ]
    assert (groups[1].patient_gender, groups[1].patient_age) == ("F", 45)
    assert options["exam_statuses"] == ["已审核", "已登记"]


def test_a_group_that_runs_over_a_page_is_marked_on_both_pages(patients):
    pages = [patient_groups_page(page=n, page_size=4) for n in (1, 2, 3)]
    assert [total for _, total, _ in pages] == [12, 12, 12]
    assert _shape(pages[0][0]) == [
        ("MRN-A", "赵一", ["A2", "A3", "A1"], 3, 3, False, False),
        ("MRN-B", "钱二", ["B2"], 2, 2, False, True),
    ]
    assert _shape(pages[1][0]) == [
        ("MRN-B", "钱二", ["B1"], 2, 2, True, False),
        ("MRN-C", "周五", ["C4", "C3", "C2"], 4, 4, False, True),
    ]
    assert _shape(pages[2][0]) == [
        ("MRN-C", "周五", ["C1"], 4, 4, True, False),
        (None, "孙三", ["N2", "N1"], 2, None, False, False),
        (None, "李四", ["N3"], 1, None, False, False),
    ]


def test_a_page_past_the_last_is_empty_with_the_total(patients):
    assert patient_groups_page(page=4, page_size=4)[:2] == ([], 12)


def test_a_filter_counts_the_matching_studies_and_keeps_the_patients_totals(patients):
    groups, total, _ = patient_groups_page(page=1, page_size=20, exam_status="已审核")
    assert total == 8
    assert _shape(groups) == [
        ("MRN-A", "赵一", ["A3", "A1"], 2, 3, False, False),
        ("MRN-B", "钱二", ["B1"], 1, 2, False, False),
        ("MRN-C", "周五", ["C4", "C2", "C1"], 3, 4, False, False),
        (None, "孙三", ["N1"], 1, None, False, False),
        (None, "李四", ["N3"], 1, None, False, False),
    ]


def test_filters_combined_with_a_term_and_dates_and_a_sort(patients):
    groups, total, _ = patient_groups_page(
        page=1, page_size=20, q="周五", exam_status="已审核", date_from=date(2025, 1, 1),
        date_to=date(2025, 12, 31), sort="exam_id",
    )  # fmt: skip
    assert total == 2
    assert _shape(groups) == [("MRN-C", "周五", ["C2", "C4"], 2, 4, False, False)]
    # The record number as the term finds the patient's studies.
    groups, total, _ = patient_groups_page(page=1, page_size=2, q="MRN-A", patient_gender="M")
    assert total == 3
    assert _shape(groups) == [("MRN-A", "赵一", ["A2", "A3"], 3, 3, False, True)]


def test_nothing_matches(patients):
    assert patient_groups_page(page=1, page_size=20, q="nobody")[:2] == ([], 0)


def test_an_empty_record_number_is_no_number_grouped_by_name(patients):
    StudyFactory(
        exam_id="E1", medical_record_no="", patient_name="孙三", order_datetime=local(2025, 8, 1)
    )
    StudyFactory(
        exam_id="E2", medical_record_no="", patient_name="孙三", order_datetime=local(2025, 8, 2)
    )
    groups, total, _ = patient_groups_page(page=1, page_size=3)
    assert total == 14
    # An empty number sorts before the others; its group is apart from the missing numbers'.
    assert _shape(groups) == [
        (None, "孙三", ["E2", "E1"], 2, None, False, False),
        ("MRN-A", "赵一", ["A2"], 3, 3, False, True),
    ]
    last, _, _ = patient_groups_page(page=5, page_size=3)
    assert _shape(last) == [
        (None, "孙三", ["N1"], 2, None, True, False),
        (None, "李四", ["N3"], 1, None, False, False),
    ]


@pytest.mark.django_db(transaction=True)  # answers are cached outside a transaction only
def test_deep_pages_start_from_the_record_number_bookmarks_and_are_the_plain_pages(
    monkeypatch,
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core import pagination
    from core.cache import clear, data_version
    from core.search import pages as search_pages
    from studies.models import Study
    from studies.services import warm_caches

    monkeypatch.setattr(search_pages, "BOOKMARK_EVERY", 4)
    monkeypatch.setattr(pagination, "DEEP_OFFSET", 2)
    # Patients of one to four studies straddle the bookmarks; three studies have no number.
    for n in range(26):
        StudyFactory(
            exam_id=f"S{n:02d}", medical_record_no=None if n % 9 == 4 else f"M{n // 3 + n % 2:02d}",
            patient_name=f"P{n % 2}", order_datetime=local(2025, 1, 1 + n),
        )  # fmt: skip
    pages = [(p, size) for size in (3, 5) for p in range(1, 11)]

    def shapes(page: int, size: int) -> list[tuple]:
        return _shape(patient_groups_page(page=page, page_size=size)[0])

    plain = [shapes(p, s) for p, s in pages]
    clear()
    warm_caches()
    assert search_pages.bookmarks(
        Study, field="medical_record_no", descending=False, data="studies",
        version=data_version("studies"),
        skip_null=True,
    ) == [("M02", 3), ("M03", 7), ("M04", 9), ("M06", 14), ("M08", 19)]  # fmt: skip
    for (p, size), answer in zip(pages, plain, strict=True):
        with CaptureQueriesContext(connection) as queries:
            assert shapes(p, size) == answer, (p, size)
        started = any('"medical_record_no" >=' in q["sql"] for q in queries)
        # From the first bookmark on (a page reaching the studies without a number is then
        # read again the usual way: the rows compared above).
        assert started == (4 <= (p - 1) * size - 1 < 26 - 1), (p, size)
    # A filtered search pages as usual.
    assert _shape(patient_groups_page(page=3, page_size=5, patient_gender="M")[0]) == _shape(
        patient_groups_page(page=3, page_size=5, patient_gender="M", sort="-order_datetime")[0]
    )
