"""A small department whose figures are known by hand (see each study's comment)."""

import pytest

from tests.factories import local
from tests.studies.factories import make_studies


@pytest.fixture
def department(db):  # noqa: ANN001
    """Eight studies; the window 2025-03-09..10 holds six of them.

    Turnarounds (order -> certification) of the window: A 0.5 h, B 3 h, F 24 h, D 96 h, and E
    certified an hour before its order (a data error, left out of the turnaround figures).
    """
    # Turnaround of each certified study in the window, at the end of its row.
    make_studies(
        "exam_id medical_record_no patient_name patient_age equipment_type exam_source"
        " exam_status order_datetime check_in_datetime report_certification_datetime"
        " certified_physician",
        ("A", "M1", "张伟", 45, "CT", "门诊", "已审核", local(2025, 3, 9, 8, 0), None,
         local(2025, 3, 9, 8, 30), "李医生"),  # 0.5 h
        ("B", "M1", "张伟", 45, "CT", "门诊", "已审核", local(2025, 3, 10, 8, 0), None,
         local(2025, 3, 10, 11, 0), "李医生"),  # 3 h
        ("C", "M3", "李娜", 30, "MR", "住院", "已登记", local(2025, 3, 10, 23, 59), None,
         None, None),  # not certified
        ("D", "M4", "王芳", 60, None, "住院", "已审核", local(2025, 3, 10, 9, 0), None,
         local(2025, 3, 14, 9, 0), None),  # 96 h, no physician
        ("E", "M2", "张伟", 45, "CT", "急诊", "已审核", local(2025, 3, 10, 9, 0),
         local(2025, 3, 10, 8, 30), local(2025, 3, 10, 8, 0), "王医生"),  # certified before order
        ("F", "M5", "王芳", 30, "CT", "门诊", "已审核", local(2025, 3, 9, 10, 0), None,
         local(2025, 3, 10, 10, 0), "  "),  # 24 h exactly: within the limit; a blank physician
        ("OLD", "M6", "赵磊", 50, "CT", ..., "已检查", local(2025, 3, 1, 8, 0), None, None, None),
        ("LATER", "M6", "赵磊", 50, "CT", ..., "已检查", local(2025, 3, 11, 0, 0), None, None,
         None),
    )  # fmt: skip
