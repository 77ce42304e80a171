"""Report search by the patient name of the report's study (issue 26): every filter combines
with it, the total stays exact, bad input is refused like the other text parameters."""

from http import HTTPStatus

import pytest

from audit.models import AuditEvent
from tests.factories import ReportFactory, StudyFactory, local

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/reports/search"


@pytest.fixture
def patients():
    """Reports of four studies: two of 王芳, one of 王建国, one of Zhang Wei."""
    fang = StudyFactory(exam_id="E1", patient_name="王芳")
    fang_again = StudyFactory(exam_id="E2", patient_name="王芳")
    jianguo = StudyFactory(exam_id="E3", patient_name="王建国")
    zhang = StudyFactory(exam_id="E4", patient_name="Zhang Wei")
    rows = [
        ("R1", fang, "draft", "左肺结节，约8mm。", local(2025, 11, 1, 9)),
        ("R2", fang, "finalized", "复查：左肺结节较前缩小。", local(2025, 11, 5, 9)),
        ("R3", fang_again, "finalized", "头颅CT未见异常。", local(2025, 11, 9, 9)),
        ("R4", jianguo, "finalized", "右肺结节，约5mm。", local(2025, 11, 3, 9)),
        ("R5", zhang, "finalized", "Small nodule in the right lung.", local(2025, 11, 4, 9)),
    ]
    for report_id, study, status, content, created in rows:
        ReportFactory(
            report_id=report_id, study=study, status=status, content=content, created_at=created
        )


def _ids(response) -> tuple[list[str], int]:
    assert response.status_code == HTTPStatus.OK, response.content
    body = response.json()
    return [item["report_id"] for item in body["data"]], body["total"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"patient_name": "王芳"}, ["R3", "R2", "R1"]),
        ({"patient_name": "王"}, ["R3", "R2", "R4", "R1"]),
        ({"patient_name": "建国"}, ["R4"]),
        ({"patient_name": "zhang"}, ["R5"]),
        ({"patient_name": "ZHANG WEI"}, ["R5"]),
        ({"patient_name": " 王芳 "}, ["R3", "R2", "R1"]),
        ({"patient_name": "李"}, []),
        ({"patient_name": "王", "q": "结节"}, ["R2", "R4", "R1"]),
        ({"patient_name": "王芳", "status": "finalized"}, ["R3", "R2"]),
        ({"patient_name": "王", "date_from": "2025-11-03", "date_to": "2025-11-05"}, ["R2", "R4"]),
        ({"patient_name": "王", "exam_id": "E1", "q": "缩小"}, ["R2"]),
        ({"patient_name": "王芳", "q": "结节", "status": "draft"}, ["R1"]),
    ],
)
def test_patient_name_filters_and_combines(viewer, patients, params, expected):
    assert _ids(viewer.get(SEARCH, params)) == (expected, len(expected))


def test_patient_name_total_is_exact_across_pages(viewer):
    study = StudyFactory(patient_name="欧阳娜")
    StudyFactory(patient_name="欧阳明")  # no reports
    for _ in range(23):
        ReportFactory(study=study)
    ReportFactory(study=StudyFactory(patient_name="李娜"))
    first, total = _ids(viewer.get(SEARCH, {"patient_name": "欧阳", "page_size": 10}))
    third, again = _ids(viewer.get(SEARCH, {"patient_name": "欧阳", "page_size": 10, "page": 3}))
    assert (len(first), len(third), total, again) == (10, 3, 23, 23)
    assert _ids(viewer.get(SEARCH, {"patient_name": "娜"}))[1] == 24


@pytest.mark.parametrize("path", [SEARCH, "/api/v1/reports/export"])
def test_overlong_patient_name_is_refused_like_q(viewer, patients, path):
    response = viewer.get(path, {"patient_name": "王" * 201})
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    (error,) = response.json()["detail"]
    assert (error["loc"], error["msg"]) == (
        ["query", "patient_name"],
        "String should have at most 200 characters",
    )
    assert not AuditEvent.objects.filter(outcome="success", action__startswith="report.").exists()


@pytest.mark.parametrize("path", [SEARCH, "/api/v1/reports/export"])
def test_nul_in_patient_name_is_refused(viewer, patients, path):
    response = viewer.get(f"{path}?patient_name=%E7%8E%8B%00")
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", "patient_name"]
    assert not AuditEvent.objects.filter(outcome="success", action__startswith="report.").exists()
