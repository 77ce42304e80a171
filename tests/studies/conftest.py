"""A small department whose figures are known by hand (see each study's comment)."""

import pytest

from tests.factories import StudyFactory, local


@pytest.fixture
def department(db):  # noqa: ANN001
    """Eight studies; the window 2025-03-09..10 holds six of them.

    Turnarounds (order -> certification) of the window: A 0.5 h, B 3 h, F 24 h, D 96 h, and E
    certified an hour before its order (a data error, left out of the turnaround figures).
    """
    make = StudyFactory
    make(
        exam_id="A",
        medical_record_no="M1",
        patient_name="张伟",
        patient_age=45,
        equipment_type="CT",
        exam_source="门诊",
        exam_status="已审核",
        order_datetime=local(2025, 3, 9, 8, 0),
        report_certification_datetime=local(2025, 3, 9, 8, 30),
        certified_physician="李医生",
    )
    make(
        exam_id="B",
        medical_record_no="M1",
        patient_name="张伟",
        patient_age=45,
        equipment_type="CT",
        exam_source="门诊",
        exam_status="已审核",
        order_datetime=local(2025, 3, 10, 8, 0),
        report_certification_datetime=local(2025, 3, 10, 11, 0),
        certified_physician="李医生",
    )
    make(
        exam_id="C",
        medical_record_no="M3",
        patient_name="李娜",
        patient_age=30,
        equipment_type="MR",
        exam_source="住院",
        exam_status="已登记",
        order_datetime=local(2025, 3, 10, 23, 59),
    )  # not certified
    make(
        exam_id="D",
        medical_record_no="M4",
        patient_name="王芳",
        patient_age=60,
        equipment_type=None,
        exam_source="住院",
        exam_status="已审核",
        order_datetime=local(2025, 3, 10, 9, 0),
        report_certification_datetime=local(2025, 3, 14, 9, 0),
        certified_physician=None,
    )  # 96 h, no physician
    make(
        exam_id="E",
        medical_record_no="M2",
        patient_name="张伟",
        patient_age=45,
        equipment_type="CT",
        exam_source="急诊",
        exam_status="已审核",
        order_datetime=local(2025, 3, 10, 9, 0),
        check_in_datetime=local(2025, 3, 10, 8, 30),
        report_certification_datetime=local(2025, 3, 10, 8, 0),
        certified_physician="王医生",
    )
    make(
        exam_id="F",
        medical_record_no="M5",
        patient_name="王芳",
        patient_age=30,
        equipment_type="CT",
        exam_source="门诊",
        exam_status="已审核",
        order_datetime=local(2025, 3, 9, 10, 0),
        report_certification_datetime=local(2025, 3, 10, 10, 0),
        certified_physician="  ",
    )  # 24 h exactly: within the limit; a blank physician
    make(
        exam_id="OLD",
        medical_record_no="M6",
        patient_name="赵磊",
        patient_age=50,
        equipment_type="CT",
        exam_status="已检查",
        order_datetime=local(2025, 3, 1, 8, 0),
    )
    make(
        exam_id="LATER",
        medical_record_no="M6",
        patient_name="赵磊",
        patient_age=50,
        equipment_type="CT",
        exam_status="已检查",
        order_datetime=local(2025, 3, 11, 0, 0),
    )
    # fmt: skip
