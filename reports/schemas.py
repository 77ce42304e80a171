from typing import Literal

from ninja import Field, Schema
from pydantic import field_validator, model_validator

from core.pagination import PageParams
from core.schemas import DateRangeParams, IsoDate, LocalDateTime
from nlp import default_lexicon
from studies.schemas import StudyItemOut


class ReportFilterParams(DateRangeParams):
    q: str | None = Field(
        None, max_length=200, description="case-insensitive substring of the content"
    )
    patient_name: str | None = Field(
        None,
        max_length=200,
        description="case-insensitive substring of the patient name of the report's study",
    )
    status: str | None = None
    radiologist: str | None = None
    exam_id: str | None = None
    date_from: IsoDate | None = Field(None, description="created from (inclusive)")
    date_to: IsoDate | None = Field(None, description="created to (inclusive)")
    finding: str | None = Field(
        None,
        max_length=50,
        description="a finding key of the analysis lexicon (GET /reports/findings/options); "
        "answered from the findings the task worker has read: a report imported since is "
        "found by finding once read, a changed one by its previous version's until then",
    )
    assertion: Literal["present", "absent", "uncertain"] | None = Field(
        None, description="how the report asserts the finding; present when not given"
    )
    min_size_mm: float | None = Field(
        None, ge=0, le=10_000, description="the finding's largest current size, at least"
    )

    @field_validator("finding")
    @classmethod
    def _finding_known(cls, value: str | None) -> str | None:
        if value is not None and value not in default_lexicon().findings:
            raise ValueError(f"unknown finding {value!r}")
        return value

    @model_validator(mode="after")
    def _finding_given(self) -> "ReportFilterParams":
        if self.finding is None and (self.assertion or self.min_size_mm is not None):
            raise ValueError("assertion and min_size_mm need a finding")
        return self

    def filters(self) -> dict:
        values = self.model_dump(include=set(ReportFilterParams.model_fields))
        if values["patient_name"] is None:
            # Absent, so that the searches without it keep their cache keys.
            values.pop("patient_name")
        if values["finding"] is None:
            # Without a finding these are absent, so the plain filters keep their cache keys.
            for name in ("finding", "assertion", "min_size_mm"):
                values.pop(name)
        elif values["assertion"] is None:
            values["assertion"] = "present"
        return values


class ReportSearchParams(ReportFilterParams, PageParams):
    pass


class ReportExportParams(ReportFilterParams):
    format: Literal["xlsx", "csv"] = "xlsx"


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


class FindingOptionOut(Schema):
    key: str
    label_en: str
    label_zh: str
    region: str


class FindingOptionsOut(Schema):
    findings: list[FindingOptionOut]
    assertions: list[str]


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
