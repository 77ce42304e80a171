"""Factories for the models the tests need."""

from datetime import datetime

import factory
from django.utils import timezone

from accounts.models import Role, User
from studies.models import Study

PASSWORD = "correct-horse-battery-9"


def local(*args: int) -> datetime:
    """An aware datetime in TIME_ZONE from wall-clock parts."""
    return timezone.make_aware(datetime(*args))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@hospital.example")
    role = Role.VIEWER
    password = factory.django.Password(PASSWORD)


class StudyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Study

    exam_id = factory.Sequence(lambda n: f"CT{n:08d}")
    medical_record_no = factory.Sequence(lambda n: f"MRN{n:07d}")
    application_order_no = factory.Sequence(lambda n: f"AO{n:07d}")
    patient_name = "张伟"
    patient_gender = "M"
    patient_age = 45
    exam_status = "已审核"
    exam_source = "门诊"
    exam_item = "胸部CT平扫"
    equipment_type = "CT"
    exam_description = "双肺纹理清晰"
    order_datetime = factory.Sequence(
        lambda n: local(2025, 1, 1, 8, 0) + timezone.timedelta(hours=n)
    )
    check_in_datetime = None
    report_certification_datetime = None
    certified_physician = None


class ReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "reports.Report"

    report_id = factory.Sequence(lambda n: f"RPT{n:08d}")
    study = factory.SubFactory(StudyFactory)
    radiologist = "李医生"
    content = "检查所见：双肺纹理清晰，未见明显异常。诊断意见：胸部CT平扫未见异常。"
    status = "finalized"
    created_at = factory.Sequence(lambda n: local(2025, 2, 1, 8, 0) + timezone.timedelta(hours=n))
    submitted_at = None
    reviewed_at = None
