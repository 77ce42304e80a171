from ninja import Field, Schema
from pydantic import model_validator

from core.pagination import PageParams
from core.schemas import IsoDate, LocalDateTime
from studies.schemas import StudyItemOut


class ReportFilterParams(Schema):
    q: str | None = Field(
        None, max_length=200, description="case-insensitive substring of the content"
    )
    status: str | None = None
    radiologist: str | None = None
    exam_id: str | None = None
    date_from: IsoDate | None = Field(None, description="created from (inclusive)")
    date_to: IsoDate | None = Field(None, description="created to (inclusive)")

    @model_validator(mode="after")
    def _dates_in_order(self) -> "ReportFilterParams":
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("date_from must not be after date_to")
        return self

    def filters(self) -> dict:
        return self.model_dump(include=set(ReportFilterParams.model_fields))


class ReportSearchParams(ReportFilterParams, PageParams):
    pass


class ReportItemOut(Schema):
    report_id: str
    exam_id: str
    patient_name: str
    exam_item: str
    radiologist: str
    status: str
    created_at: LocalDateTime
    submitted_at: LocalDateTime | None
    reviewed_at: LocalDateTime | None
    snippet: str


class ReportFiltersOut(Schema):
    statuses: list[str]
    radiologists: list[str]


class ReportSearchOut(Schema):
    data: list[ReportItemOut]
    total: int
    page: int
    page_size: int
    filters: ReportFiltersOut


class ReportDetailOut(Schema):
    report_id: str
    exam_id: str
    radiologist: str
    content: str
    status: str
    created_at: LocalDateTime
    updated_at: LocalDateTime
    submitted_at: LocalDateTime | None
    reviewed_at: LocalDateTime | None
    study: StudyItemOut
