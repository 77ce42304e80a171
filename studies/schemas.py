from typing import Literal

from ninja import Field, Schema

from core.pagination import PageParams
from core.schemas import DateRangeParams, IsoDate, LocalDateTime

SORT_FIELDS = (
    "order_datetime",
    "patient_name",
    "exam_id",
    "patient_age",
    "exam_status",
    "exam_item",
)
SortParam = Literal[
    "order_datetime", "-order_datetime", "patient_name", "-patient_name", "exam_id", "-exam_id",
    "patient_age", "-patient_age", "exam_status", "-exam_status", "exam_item", "-exam_item",
]  # fmt: skip


class StudyFilterParams(DateRangeParams):
    """The filters that search, export and the web page share."""

    q: str | None = Field(
        None, max_length=200, description="text, or an exact exam_id / MRN / order number"
    )
    exam_status: str | None = None
    exam_source: str | None = None
    exam_item: str | None = None
    equipment_type: str | None = None
    patient_gender: Literal["M", "F", "U"] | None = None
    date_from: IsoDate | None = Field(None, description="order date from (inclusive)")
    date_to: IsoDate | None = Field(None, description="order date to (inclusive)")
    sort: SortParam = Field("-order_datetime", description="field, or -field for descending")

    def filters(self) -> dict:
        return self.model_dump(include=set(StudyFilterParams.model_fields))


class StudySearchParams(StudyFilterParams, PageParams):
    pass


class StudyListParams(StudySearchParams):
    """The web studies list's query: the search, optionally grouped by patient."""

    group: Literal["patient"] | None = None


class StudyExportParams(StudyFilterParams):
    format: Literal["xlsx", "csv"] = "xlsx"


class StudyItemOut(Schema):
    exam_id: str
    patient_name: str
    patient_gender: str | None
    patient_age: int | None
    exam_status: str
    exam_source: str
    exam_item: str
    order_datetime: LocalDateTime
    check_in_datetime: LocalDateTime | None
    report_certification_datetime: LocalDateTime | None


class StudyDetailOut(Schema):
    exam_id: str
    medical_record_no: str | None
    application_order_no: str | None
    patient_name: str
    patient_gender: str | None
    patient_age: int | None
    exam_status: str
    exam_source: str
    exam_item: str
    equipment_type: str | None
    exam_description: str | None
    order_datetime: LocalDateTime
    check_in_datetime: LocalDateTime | None
    report_certification_datetime: LocalDateTime | None
    certified_physician: str | None


class SearchFiltersOut(Schema):
    exam_statuses: list[str]
    exam_sources: list[str]
    exam_items: list[str]


class FilterOptionsOut(SearchFiltersOut):
    equipment_types: list[str]


class StudySearchOut(Schema):
    data: list[StudyItemOut]
    total: int
    page: int
    page_size: int
    filters: SearchFiltersOut


class PatientReportOut(Schema):
    report_id: str
    status: str
    radiologist: str
    created_at: LocalDateTime


class PatientStudyOut(Schema):
    """A study in a patient's history: the search item's fields, the modality and the
    study's reports (newest first)."""

    exam_id: str
    patient_name: str
    patient_gender: str | None
    patient_age: int | None
    exam_status: str
    exam_source: str
    exam_item: str
    equipment_type: str | None
    order_datetime: LocalDateTime
    check_in_datetime: LocalDateTime | None
    report_certification_datetime: LocalDateTime | None
    reports: list[PatientReportOut]


class PatientStudiesOut(Schema):
    data: list[PatientStudyOut]
    total: int
    page: int
    page_size: int
