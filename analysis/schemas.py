from typing import Any, Literal

from ninja import Field, Schema

from analysis.models import AnalysisTask
from core.pagination import PageParams
from core.schemas import LocalDateTime

AnalysisTypeValue = Literal["general", "detailed", "comparison"]
TaskStatusValue = Literal["pending", "processing", "completed", "failed", "cancelled"]


class AnalysisTaskIn(Schema):
    exam_id: str = Field(..., min_length=1, max_length=50)
    analysis_type: AnalysisTypeValue
    description: str | None = Field(None, max_length=2000)


class AnalysisTaskFilterParams(Schema):
    status: TaskStatusValue | None = None
    analysis_type: AnalysisTypeValue | None = None
    exam_id: str | None = None

    def filters(self) -> dict:
        return self.model_dump(include=set(AnalysisTaskFilterParams.model_fields))


class AnalysisTaskListParams(AnalysisTaskFilterParams, PageParams):
    pass


class AnalysisTaskOut(Schema):
    task_id: str
    exam_id: str
    analysis_type: str
    status: str
    progress: int
    description: str | None
    result: dict[str, Any] | None
    error_message: str | None
    error_code: str | None
    created_by: str | None
    created_at: LocalDateTime
    updated_at: LocalDateTime
    started_at: LocalDateTime | None
    completed_at: LocalDateTime | None

    # Empty texts are stored as "" and shown as null: the API never answers "".
    @staticmethod
    def resolve_exam_id(obj: AnalysisTask) -> str:
        return obj.study_id

    @staticmethod
    def resolve_description(obj: AnalysisTask) -> str | None:
        return obj.description or None

    @staticmethod
    def resolve_error_message(obj: AnalysisTask) -> str | None:
        return obj.error_message or None

    @staticmethod
    def resolve_error_code(obj: AnalysisTask) -> str | None:
        return obj.error_code or None

    @staticmethod
    def resolve_created_by(obj: AnalysisTask) -> str | None:
        return obj.created_by_username or None


class AnalysisTaskListOut(Schema):
    data: list[AnalysisTaskOut]
    total: int
    page: int
    page_size: int


class StatusCountsOut(Schema):
    pending: int
    processing: int
    completed: int
    failed: int
    cancelled: int


class TypeCountsOut(Schema):
    general: int
    detailed: int
    comparison: int


class AnalysisStatisticsOut(Schema):
    total: int
    by_status: StatusCountsOut
    by_type: TypeCountsOut
    completed_last_24h: int
    mean_processing_seconds: float | None
    success_rate: float | None


class AnalysisTypeOptionOut(Schema):
    value: str
    label: str
    description: str


class StatusOptionOut(Schema):
    value: str
    label: str


class AnalysisOptionsOut(Schema):
    analysis_types: list[AnalysisTypeOptionOut]
    statuses: list[StatusOptionOut]
