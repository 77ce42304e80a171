"""Schemas of the product's own practice API (/api/v1/practice)."""

from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Field, Schema

# The Flask tables' ids are 32-bit: a larger number names no row (and SQLite cannot bind one
# past 64 bits), so it is refused as invalid input instead of reaching the database.
RowId = Annotated[int, Field(ge=1, le=2_147_483_647)]
Text200 = Annotated[str, Field(max_length=200)]


class OverrideOut(Schema):
    subcategory_id: int
    old_score: int
    new_score: int
    reason: str
    by: str
    created_at: datetime


class AssessmentSummaryOut(Schema):
    id: int
    kind: str
    activity_id: int | None
    thread_id: str | None
    learner: str
    engine: str
    model: str
    prompt_version: str
    created_at: datetime
    total_score: int
    passed: bool
    overridden: bool


class AssessmentDetailOut(AssessmentSummaryOut):
    transcript: list[dict[str, Any]]
    automatic_result: dict[str, Any]
    result: dict[str, Any]
    overrides: list[OverrideOut]


class OverrideIn(Schema):
    subcategory_id: RowId
    score: int = Field(..., ge=0, le=2)
    reason: str = Field(..., min_length=1, max_length=2000)


class ConversationSummaryOut(Schema):
    thread_id: str
    learner: str
    scenario_id: int | None
    activity_id: int | None
    created_at: datetime
    updated_at: datetime
    message_count: int


class MessageOut(Schema):
    index: int
    role: str
    content: str
    created_at: datetime
    engine: str
    model: str


class ConversationDetailOut(ConversationSummaryOut):
    messages: list[MessageOut]


class CriterionStatsOut(Schema):
    subcategory_id: int
    name: str
    category_id: int | None
    attempts: int
    missed: int
    partly: int
    fully: int
    miss_rate: float


class ScoreCountOut(Schema):
    total_score: int
    count: int


class ProgressOut(Schema):
    attempt: int
    learners: int
    mean_score: float
    pass_rate: float


class AnalyticsOut(Schema):
    activity_id: int
    attempts: int
    learners: int
    passed: int
    pass_rate: float | None
    mean_score: float | None
    score_distribution: list[ScoreCountOut]
    criteria: list[CriterionStatsOut]
    progress: list[ProgressOut]


class ConfusionCellOut(Schema):
    automatic: int
    instructor: int
    count: int


class AgreementOut(Schema):
    activity_id: int | None
    pairs: int
    exact_agreement: float | None
    weighted_kappa: float | None
    confusion: list[ConfusionCellOut]


class CaseSheetIn(Schema):
    case: dict[str, Any]


class CaseSheetErrorOut(Schema):
    path: str
    message: str


class CaseSheetCheckOut(Schema):
    valid: bool
    errors: list[CaseSheetErrorOut]


class ExportParams(Schema):
    activity_id: RowId | None = None
    format: Literal["csv", "json"] = "csv"


class StreamIn(Schema):
    content: str = Field(..., min_length=1, max_length=8000)


class TurnIn(Schema):
    role: Literal["user", "assistant"]
    content: str = Field(..., max_length=8000)


class TryIn(Schema):
    """An unsaved scenario as the authoring form holds it, and the conversation so far."""

    scenario_text: str = ""
    language: Literal["en", "zh-hans"] = "en"
    case: Any = None
    messages: list[TurnIn] = Field(..., min_length=1, max_length=80)
