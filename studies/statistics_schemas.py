"""Parameters and answers of the department's figures (studies.statistics_api)."""

from datetime import date

from django.conf import settings
from ninja import Field, Schema

from core.pagination import PageParams
from core.schemas import DateRangeParams, IsoDate, LocalDateTime
from studies.statistics import Filters, window


class StatisticsFilterParams(DateRangeParams):
    """The studies list's filters that the figures follow."""

    date_from: IsoDate | None = Field(None, description="order date from (inclusive)")
    date_to: IsoDate | None = Field(None, description="order date to (inclusive)")
    exam_status: str | None = Field(None, max_length=20)
    exam_source: str | None = Field(None, max_length=50)
    equipment_type: str | None = Field(None, max_length=50, description="modality")

    def filters(self) -> Filters:
        """As given: a missing date bounds nothing (the data-quality checks)."""
        return Filters(
            date_from=self.date_from,
            date_to=self.date_to,
            exam_status=self.exam_status or None,
            exam_source=self.exam_source or None,
            equipment_type=self.equipment_type or None,
        )

    def windowed(self) -> Filters:
        """With a window: a missing end is the newest order's day, a missing start 30 days
        before the end (the dashboard's default)."""
        first, last = window(date_from=self.date_from, date_to=self.date_to)
        given = self.filters()
        return Filters(**{**given.as_dict(), "date_from": first, "date_to": last})


class QualityParams(StatisticsFilterParams):
    stuck_hours: float | None = Field(
        None,
        gt=0,
        le=87600,
        description="a study not certified whose latest step is older than this many hours is "
        "stuck (default STATISTICS_STUCK_HOURS)",
    )

    def stuck(self) -> float:
        return self.stuck_hours if self.stuck_hours is not None else settings.STATISTICS_STUCK_HOURS


class QualityRowsParams(QualityParams, PageParams):
    pass


class ModalityCountOut(Schema):
    equipment_type: str | None
    count: int


class PeriodOut(Schema):
    start: date
    end: date
    counts: list[ModalityCountOut]
    total: int


class StatusCountOut(Schema):
    exam_status: str
    count: int


class BucketOut(Schema):
    from_hours: int
    to_hours: int | None
    count: int


class TurnaroundSummaryOut(Schema):
    certified: int
    median_hours: float | None
    p90_hours: float | None
    mean_hours: float | None
    within_limit: int
    within_limit_share: float | None = Field(description="within_limit / certified, 0 to 1")


class ModalityTurnaroundOut(TurnaroundSummaryOut):
    equipment_type: str | None


class SourceTurnaroundOut(TurnaroundSummaryOut):
    exam_source: str


class TurnaroundOut(Schema):
    limit_hours: float
    certified: int
    uncertified: int
    certified_before_order: int
    buckets: list[BucketOut]
    overall: TurnaroundSummaryOut
    by_modality: list[ModalityTurnaroundOut]
    by_source: list[SourceTurnaroundOut]


class StudyStatisticsOut(Schema):
    date_from: date
    date_to: date
    unit: str = Field(description='"day", "week" or "month": what a period is')
    total: int
    modalities: list[str | None]
    periods: list[PeriodOut]
    statuses: list[StatusCountOut]
    turnaround: TurnaroundOut


class QualityCountsOut(Schema):
    certified_before_order: int
    checked_in_before_order: int
    reported_without_physician: int
    stuck: int
    duplicate_patients: int


class QualityOut(Schema):
    stuck_hours: float
    stuck_before: LocalDateTime
    counts: QualityCountsOut
    stuck_by_status: list[StatusCountOut]


class QualityStudyOut(Schema):
    exam_id: str
    medical_record_no: str | None
    patient_name: str
    exam_status: str
    exam_source: str
    exam_item: str
    equipment_type: str | None
    order_datetime: LocalDateTime
    check_in_datetime: LocalDateTime | None
    report_certification_datetime: LocalDateTime | None
    certified_physician: str | None


class QualityStudiesOut(Schema):
    check: str
    data: list[QualityStudyOut]
    total: int
    page: int
    page_size: int


class PatientRecordOut(Schema):
    medical_record_no: str
    studies: int


class DuplicatePatientOut(Schema):
    patient_name: str
    birth_year: int
    records: list[PatientRecordOut]


class DuplicatePatientsOut(Schema):
    data: list[DuplicatePatientOut]
    total: int
    page: int
    page_size: int
