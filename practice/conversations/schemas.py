"""Request and answer shapes of the thread, run and context routes (SPEC-practice §4).

Unknown extra fields are ignored (the frontend sends more than it must). A required text sent
as ``""`` counts as missing (400 "Missing fields"); a NUL byte anywhere is a 400.
"""

from __future__ import annotations

from typing import Annotated, Any

from ninja import Schema
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError


def no_nul(value: Any) -> Any:
    if isinstance(value, str) and "\x00" in value:
        raise PydanticCustomError("nul_byte", "NUL bytes are not allowed")
    return value


def _required_text(value: Any) -> Any:
    value = no_nul(value)
    if value is None or value == "":
        raise PydanticCustomError("missing", "Field required")
    return value


def _optional_id(value: Any) -> Any:
    """``null``, ``""`` or absent mean "not given" (the frontend sends empty fields)."""
    value = no_nul(value)
    return None if value == "" else value


RequiredText = Annotated[str, BeforeValidator(_required_text)]
OptionalText = Annotated[str | None, BeforeValidator(no_nul)]
OptionalId = Annotated[int | None, BeforeValidator(_optional_id)]


class ThreadIn(Schema):
    scenario_id: OptionalId = None
    activity_id: OptionalId = None


class ThreadOut(Schema):
    thread_id: str


class MessageIn(Schema):
    role: RequiredText
    content: RequiredText


class MessageCreatedOut(Schema):
    id: int
    role: str
    message: str
    created_at: int  # epoch milliseconds


class MessageOut(Schema):
    role: str
    message: str
    created_at: int


class RunIn(Schema):
    thread_id: RequiredText
    scenario_id: OptionalId = None
    activity_id: OptionalId = None
    model: OptionalText = None


class RunOut(Schema):
    run_id: str
    status: str


class RunStatusQuery(Schema):
    thread_id: RequiredText


class ContextPreviewQuery(Schema):
    activity_id: OptionalId = None
    scenario_id: OptionalId = None


class ContextPreviewOut(Schema):
    activity_id: int | None
    scenario_id: int
    context: str
    length: int
