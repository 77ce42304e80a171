"""GET /patients/{medical_record_no}/studies: a patient's history, read by record number."""

from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from reports.models import Report
from studies.models import Study
from tests.factories import ReportFactory, StudyFactory, local

pytestmark = pytest.mark.django_db


def url(mrn: str) -> str:
    return f"/api/v1/patients/{mrn}/studies"


@pytest.fixture
def history():
    """Three studies of MRN-7 (one with two reports), one of another patient."""
    old = StudyFactory(
        exam_id="P-OLD", medical_record_no="MRN-7", patient_name="钱七", patient_gender="F",
        patient_age=60, exam_status="已审核", exam_source="门诊", exam_item="胸部CT平扫",
        equipment_type="CT", order_datetime=local(2024, 3, 1, 9, 0),
        check_in_datetime=local(2024, 3, 1, 9, 20),
        report_certification_datetime=local(2024, 3, 1, 15, 0),
    )  # fmt: skip
    ReportFactory(
        study=old, report_id="R-OLD-1", status="draft", radiologist="李医生",
        created_at=local(2024, 3, 1, 12, 0),
    )  # fmt: skip
    ReportFactory(
        study=old, report_id="R-OLD-2", status="finalized", radiologist="王医生",
        created_at=local(2024, 3, 1, 14, 0),
    )  # fmt: skip
    StudyFactory(
        exam_id="P-NEW", medical_record_no="MRN-7", patient_name="钱七",
        order_datetime=local(2025, 3, 1, 9, 0),
    )  # fmt: skip
    StudyFactory(
        exam_id="P-MID", medical_record_no="MRN-7", patient_name="钱七",
        order_datetime=local(2024, 9, 1, 9, 0),
    )  # fmt: skip
    StudyFactory(exam_id="OTHER", medical_record_no="MRN-8")


def test_patient_studies_are_listed_newest_first_with_their_reports(viewer, history):
    response = viewer.get(url("MRN-7"))
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert (body["total"], body["page"], body["page_size"]) == (3, 1, 20)
    assert [s["exam_id"] for s in body["data"]] == ["P-NEW", "P-MID", "P-OLD"]
    assert body["data"][2] == {
        "exam_id": "P-OLD",
        "patient_name": "钱七",
        "patient_gender": "F",
        "patient_age": 60,
        "exam_status": "已审核",
        "exam_source": "门诊",
        "exam_item": "胸部CT平扫",
        "equipment_type": "CT",
        "order_datetime": "2024-03-01T09:00:00",
        "check_in_datetime": "2024-03-01T09:20:00",
        "report_certification_datetime": "2024-03-01T15:00:00",
        "reports": [
            {"report_id": "R-OLD-2", "status": "finalized", "radiologist": "王医生",
             "created_at": "2024-03-01T14:00:00"},
            {"report_id": "R-OLD-1", "status": "draft", "radiologist": "李医生",
             "created_at": "2024-03-01T12:00:00"},
        ],
    }  # fmt: skip
    assert body["data"][0]["reports"] == []


def test_patient_studies_are_paged(viewer, history):
    body = viewer.get(url("MRN-7"), {"page": 2, "page_size": 2}).json()
    assert [s["exam_id"] for s in body["data"]] == ["P-OLD"]
    assert (body["total"], body["page"], body["page_size"]) == (3, 2, 2)
    past = viewer.get(url("MRN-7"), {"page": 9, "page_size": 2}).json()
    assert (past["data"], past["total"]) == ([], 3)


def test_patient_studies_take_a_record_number_with_a_slash_and_a_trailing_slash(viewer):
    StudyFactory(exam_id="S1", medical_record_no="2025/0042")
    for path in (url("2025/0042"), url("2025/0042") + "/"):
        body = viewer.get(path).json()
        assert [s["exam_id"] for s in body["data"]] == ["S1"], path


def test_patient_studies_queries_do_not_grow_with_studies(
    viewer, history, django_assert_max_num_queries
):
    # Authentication, the count, the page, its reports, the audit event.
    with django_assert_max_num_queries(8):
        assert viewer.get(url("MRN-7")).status_code == HTTPStatus.OK


def test_patient_studies_are_audited_with_the_record_number_and_the_studies(viewer, history):
    viewer.get(url("MRN-7"))
    event = AuditEvent.objects.filter(action="patient.studies").get()
    assert event.object_ids == ["P-NEW", "P-MID", "P-OLD"]
    assert event.result_count == 3
    assert event.detail["medical_record_no"] == "MRN-7"


def test_unknown_record_number_is_404(viewer, history):
    response = viewer.get(url("MRN-404"))
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"detail": "Patient not found"}


def test_blank_record_number_is_404(viewer):
    StudyFactory(medical_record_no=" ")
    response = viewer.get(url("%20"))
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"detail": "Patient not found"}


@pytest.mark.parametrize(
    ("query", "field"), [({"page": 0}, "page"), ({"page_size": 101}, "page_size")]
)
def test_bad_paging_is_422(viewer, history, query, field):
    response = viewer.get(url("MRN-7"), query)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert [e["loc"] for e in response.json()["detail"]] == [["query", field]]


def test_patient_studies_need_a_login(client, history):
    response = client.get(url("MRN-7"))
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"detail": "Not authenticated"}


@pytest.mark.parametrize("role", ["learner", "instructor"])
def test_practice_roles_are_refused_patient_studies(api, history, role):
    response = api(role).get(url("MRN-7"))
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"detail": "This action requires the viewer role"}


def _reads_studies(queries: CaptureQueriesContext) -> bool:
    return any('"studies_study"' in q["sql"] for q in queries.captured_queries)


@pytest.mark.django_db(transaction=True)  # answers are cached outside a transaction only
def test_a_patient_history_is_read_once_until_its_studies_or_reports_change(viewer, history):
    first = viewer.get(url("MRN-7")).json()
    with CaptureQueriesContext(connection) as queries:
        again = viewer.get(url("MRN-7"))
    assert again.json() == first
    assert not _reads_studies(queries)
    # The cached answer is audited as the first one was.
    events = AuditEvent.objects.filter(action="patient.studies").order_by("id")
    assert [(e.object_ids, e.result_count) for e in events] == [
        (["P-NEW", "P-MID", "P-OLD"], 3),
        (["P-NEW", "P-MID", "P-OLD"], 3),
    ]
    # Another page is another answer.
    assert [s["exam_id"] for s in viewer.get(url("MRN-7"), {"page_size": 2}).json()["data"]] == [
        "P-NEW", "P-MID",
    ]  # fmt: skip

    Report.objects.filter(report_id="R-OLD-1").update(status="finalized")
    reports = viewer.get(url("MRN-7")).json()["data"][2]["reports"]
    assert [(r["report_id"], r["status"]) for r in reports] == [
        ("R-OLD-2", "finalized"),
        ("R-OLD-1", "finalized"),
    ]
    Study.objects.filter(exam_id="P-MID").update(exam_status="已取消")
    body = viewer.get(url("MRN-7")).json()
    assert body["data"][1]["exam_status"] == "已取消"
    StudyFactory(exam_id="P-LATEST", medical_record_no="MRN-7", order_datetime=local(2025, 6, 1))
    body = viewer.get(url("MRN-7")).json()
    assert (body["total"], body["data"][0]["exam_id"]) == (4, "P-LATEST")


@pytest.mark.django_db(transaction=True)
def test_an_unknown_record_number_stays_404_once_its_first_study_arrives(viewer, history):
    assert viewer.get(url("MRN-9")).status_code == HTTPStatus.NOT_FOUND
    assert viewer.get(url("MRN-9")).status_code == HTTPStatus.NOT_FOUND
    StudyFactory(exam_id="P-FIRST", medical_record_no="MRN-9")
    response = viewer.get(url("MRN-9"))
    assert response.status_code == HTTPStatus.OK
    assert [s["exam_id"] for s in response.json()["data"]] == ["P-FIRST"]
