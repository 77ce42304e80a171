"""The studies list grouped by patient (?group=patient): the header row of each patient, its
counts and record number link, a group that runs over a page, the control kept by the paging,
sorting and page-size links, both languages, the audit event and the queries of a page."""

from http import HTTPStatus

import pytest

from audit.models import AuditEvent
from tests.factories import StudyFactory, local

pytestmark = pytest.mark.django_db

STUDIES = "/studies/"
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
SESSION_SAVE_TRANSACTION = 2


@pytest.fixture
def patients():
    """MRN-A 赵一: three studies, two certified; MRN-B 钱二: one; 孙三 without a number."""
    rows = [
        ("A1", "MRN-A", "赵一", "已审核", local(2025, 1, 1, 9)),
        ("A2", "MRN-A", "赵一", "已登记", local(2025, 3, 1, 9)),
        ("A3", "MRN-A", "赵一", "已审核", local(2025, 2, 1, 9)),
        ("B1", "MRN-B", "钱二", "已审核", local(2025, 4, 1, 9)),
        ("N1", None, "孙三", "已审核", local(2025, 7, 1, 9)),
    ]
    for exam_id, mrn, name, status, when in rows:
        StudyFactory(
            exam_id=exam_id, medical_record_no=mrn, patient_name=name, exam_status=status,
            order_datetime=when, patient_gender="F", patient_age=61,
        )  # fmt: skip


def _heads(body: str) -> list[str]:
    parts = body.split('<tr class="group-head">')[1:]
    return [part[: part.index("</tr>")] for part in parts]


def test_grouped_list_shows_a_header_row_per_patient(viewer_web, patients):
    response = viewer_web.get(STUDIES, {"group": "patient", "exam_status": "已审核"})
    assert response.status_code == HTTPStatus.OK
    body = response.content.decode()
    heads = _heads(body)
    assert len(heads) == 3
    assert '<span class="group-name">赵一</span>' in heads[0]
    assert 'href="/patients/MRN-A/" data-patient-link' in heads[0]
    assert "Female" in heads[0] and "age 61" in heads[0]
    assert '<span data-matched="2">2 studies match</span>' in heads[0]
    assert '<span data-studies="3">3 studies in all</span>' in heads[0]
    assert '<span data-matched="1">1 study matches</span>' in heads[1]
    assert '<span data-studies="1">1 study in all</span>' in heads[1]
    # No record number: no link and no total, the name heads the group.
    assert "data-patient-link" not in heads[2] and "No record number" in heads[2]
    assert "data-studies" not in heads[2]
    assert "data-continued" not in body and "data-continues" not in body
    assert [s.exam_id for s in response.context["rows"]] == ["A3", "A1", "B1", "N1"]
    # The control is ticked; the export links leave the grouping out.
    assert 'name="group" value="patient" checked' in body
    assert "format=csv" in body and "group=patient&amp;format" not in body
    event = AuditEvent.objects.get()
    assert (event.action, event.object_ids, event.result_count) == (
        "web.study.search", ["A3", "A1", "B1", "N1"], 4,
    )  # fmt: skip


def test_grouping_is_kept_by_paging_sorting_and_page_size_links(viewer_web, patients):
    response = viewer_web.get(STUDIES, {"group": "patient", "page_size": 20})
    body = response.content.decode()
    assert "sort=patient_age" in body and body.count("group=patient") >= 10
    response = viewer_web.get(STUDIES, {"group": "patient", "sort": "exam_id"})
    assert [s.exam_id for s in response.context["rows"]] == ["A1", "A2", "A3", "B1", "N1"]


def test_a_group_over_two_pages_is_marked_continued(viewer_web, patients):
    StudyFactory.create_batch(20, medical_record_no="MRN-Z", patient_name="吴六")
    first = viewer_web.get(STUDIES, {"group": "patient"}).content.decode()
    assert "data-continues" in _heads(first)[-1] and "data-continued" not in first
    assert 'rel="next"' in first and "group=patient" in first.split('rel="next"')[0][-200:]
    second = viewer_web.get(STUDIES, {"group": "patient", "page": 2}).content.decode()
    heads = _heads(second)
    assert "吴六" in heads[0] and "data-continued" in heads[0]
    assert "continued from the previous page" in heads[0]
    assert '<span data-matched="20">20 studies match</span>' in heads[0]


def test_grouped_list_in_chinese(viewer_web, patients):
    StudyFactory.create_batch(20, medical_record_no="MRN-Z", patient_name="吴六")
    body = viewer_web.get(STUDIES, {"group": "patient", "page": 2}, **ZH).content.decode()
    assert "按患者分组" in body
    heads = _heads(body)
    assert "接上页" in heads[0] and "20 项检查符合条件" in heads[0] and "共 20 项检查" in heads[0]
    assert "45 岁" in heads[0] and "男" in heads[0]
    assert "无病历号" in heads[-1]


def test_nothing_matches_when_grouped(viewer_web, patients):
    response = viewer_web.get(STUDIES, {"group": "patient", "q": "nobody"})
    assert "No study matches this search." in response.content.decode()
    assert response.context["groups"] == []


def test_an_unknown_grouping_is_ignored_with_a_message(viewer_web, patients):
    response = viewer_web.get(STUDIES, {"group": "ward"})
    assert response.status_code == HTTPStatus.OK
    assert response.context["groups"] is None
    assert "Ignored the invalid value of “group”." in response.content.decode()
    assert len(response.context["rows"]) == 5


def test_the_htmx_fragment_of_a_grouped_search(viewer_web, patients):
    response = viewer_web.get(
        STUDIES, {"group": "patient"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results"
    )
    body = response.content.decode()
    assert body.startswith('<section id="results"') and len(_heads(body)) == 3


@pytest.mark.django_db(transaction=True)
def test_grouped_page_adds_two_counts_to_a_search(viewer_web, django_assert_num_queries):
    for n in range(30):
        StudyFactory(exam_id=f"Q{n:03d}", medical_record_no=f"M{n % 7}")
    viewer_web.get(STUDIES, {"q": "张", "group": "patient"})  # warms the count and the options
    # session, user, data version, one page of studies, the page's patients' matching studies
    # and all their studies, audit event, session save
    with django_assert_num_queries(8 + SESSION_SAVE_TRANSACTION):
        response = viewer_web.get(STUDIES, {"q": "张", "group": "patient"})
    assert len(response.context["rows"]) == 20
