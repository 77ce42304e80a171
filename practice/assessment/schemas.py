"""Request shape of both assessment routes (answers are the engines' composed results)."""

from __future__ import annotations

from typing import Annotated, Any

from ninja import Schema
from pydantic import BeforeValidator

from practice.conversations.schemas import OptionalId, no_nul


def _optional_text(value: Any) -> Any:
    value = no_nul(value)
    return None if value == "" else value


class AssessmentIn(Schema):
    """``{messages: [{role, message | content}], scenario_id?}`` or ``{thread_id}``; messages
    are checked one by one in the service, so that a bad one is named."""

    messages: list[Any] | None = None
    scenario_id: OptionalId = None
    thread_id: Annotated[str | None, BeforeValidator(_optional_text)] = None
