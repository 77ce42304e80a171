"""The Flask contract's request and response bodies for authoring and users (SPEC-practice §4).

Two rules of the contract live in the types here rather than in every endpoint: a required
text sent as ``""`` (or ``null``) counts as missing (400 ``Missing fields``, as the Flask service
answered, and the frontend recovers from it), and an upsert ``id`` of ``""`` or ``null`` means
create. Unknown extra fields are ignored (Ninja's default).
"""

from typing import Annotated, Any

from ninja import Schema
from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError


def _required(value: Any) -> Any:
    # Type "missing": the contract's validation handler answers "Missing fields" for it.
    if value is None or (isinstance(value, str) and value.strip() == ""):
        raise PydanticCustomError("missing", "Field required")
    return value


def _blank_is_none(value: Any) -> Any:
    return None if value == "" else value


# The largest value of the Flask tables' INTEGER columns.
INT_MAX = 2**31 - 1

RequiredText = Annotated[str, BeforeValidator(_required)]
# In a partial update: may be left out, but if sent it must not be blank.
GivenText = Annotated[str | None, BeforeValidator(_required)]
RequiredInt = Annotated[int, BeforeValidator(_required)]
UpsertId = Annotated[int | None, BeforeValidator(_blank_is_none)]


class MessageOut(Schema):
    message: str


def errors(*codes: int) -> dict[int, type[MessageOut]]:
    """The ``{"message"}`` answers a route documents beside its success (OpenAPI only)."""
    return dict.fromkeys(codes, MessageOut)


class CreatedOut(Schema):
    message: str
    id: int


# ---------------------------------------------------------------- login and users
# Bounds as on /api/v1/auth/login: a megabyte "password" must not cost a hash of it.
Email = Annotated[RequiredText, Field(max_length=254)]
Password = Annotated[RequiredText, Field(max_length=1024)]


class LoginIn(Schema):
    email: Email
    password: Password


class LoginOut(Schema):
    token: str
    role: str
    name: str


class UserCreateIn(Schema):
    username: Annotated[RequiredText, Field(max_length=150)]
    email: Email
    password: Password
    role: str | None = Field(
        None,
        description="learner | instructor | student (= learner) | admin (= instructor); "
        "left out or empty: learner. Ignored for self-registration.",
    )


# ---------------------------------------------------------------- scenarios
class ScenarioCreateIn(Schema):
    scenario_text: RequiredText
    additional_instructions: str | None = None
    communication_preferences: str | None = None
    role: str | None = None
    enable: bool | None = Field(None, description="Absent or null: true.")
    tags: list[str] | None = None
    rubrics: list[str] | None = None
    case: dict[str, Any] | None = None
    language: str | None = None


class ScenarioUpdateIn(Schema):
    """Every field optional: what is left out keeps its stored value."""

    scenario_text: GivenText = None
    additional_instructions: str | None = None
    communication_preferences: str | None = None
    role: str | None = None
    enable: bool | None = None
    tags: list[str] | None = None
    rubrics: list[str] | None = None
    case: dict[str, Any] | None = None
    language: str | None = None


class ScenarioOut(Schema):
    id: int
    scenario_text: str
    additional_instructions: str | None
    enable: bool | None
    role: str | None
    openid: str | None
    communication_preferences: str | None
    tags: list[str | None]
    rubrics: list[str | None]


class ScenarioWithCaseOut(ScenarioOut):
    case: dict[str, Any] | None
    language: str


class RubricQuestionIn(Schema):
    question: RequiredText


class RubricQuestionOut(Schema):
    id: int
    question: str | None


# ---------------------------------------------------------------- categories and criteria
class CriterionOut(Schema):
    id: int
    name: str
    marking_instructions: str | None
    category_id: int | None


class CategoryOut(Schema):
    id: int
    name: str
    total_required_to_pass: int | None
    subcategories: list[CriterionOut]


class CategoryIn(Schema):
    id: UpsertId = None
    name: Annotated[RequiredText, Field(max_length=255)]
    total_required_to_pass: Annotated[RequiredInt, Field(ge=0, le=INT_MAX)]


class CriterionIn(Schema):
    id: UpsertId = None
    name: Annotated[RequiredText, Field(max_length=255)]
    marking_instructions: RequiredText
    category_id: RequiredInt
    evidence: list[str] | None = Field(
        None, description="Example phrasings that count as evidence; left out: kept as stored."
    )


class SavedOut(Schema):
    message: str
    id: int


# The answers (OpenAPI only) of the routes that write one row: an upsert, a change of a row
# named by its id (with a body to check: EDITED), and a change or delete without a body.
SAVED = {200: SavedOut, **errors(400, 401, 403, 404)}
EDITED = {200: MessageOut, **errors(400, 401, 403, 404)}
CHANGED = {200: MessageOut, **errors(401, 403, 404)}


# ---------------------------------------------------------------- activities
class ActivityIn(Schema):
    id: UpsertId = None
    pre_brief: RequiredText
    character_id: RequiredInt
    categories: list[int]


class ActivityOut(Schema):
    id: int
    pre_brief: str | None
    character_id: int | None
    categories: list[int]
