"""Writing the audit log. Endpoints describe what they returned; the middleware writes once."""

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from audit.models import AuditEvent
from core import rawsql
from core.badinput import without_nul
from core.middleware import client_ip


@dataclass
class AuditNote:
    """What a request did, filled in by the endpoint that served it."""

    action: str = ""
    object_type: str = ""
    object_ids: list[str] = field(default_factory=list)
    result_count: int | None = None
    username: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


def audit_note(request: HttpRequest, **values: Any) -> AuditNote:
    """Attach (or extend) the audit description of this request."""
    note: AuditNote | None = getattr(request, "audit_note", None)
    if note is None:
        note = AuditNote()
        request.audit_note = note
    for key, value in values.items():
        setattr(note, key, value)
    return note


def audit_record(
    *,
    action: str,
    outcome: str,
    user: Any = None,
    username: str = "",
    request: HttpRequest | None = None,
    status_code: int | None = None,
    object_type: str = "",
    object_ids: list[str] | None = None,
    result_count: int | None = None,
    query: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. Callable from services and commands as well as from requests.

    Text is stored with any NUL character marked (``core.badinput.without_nul``): neither
    PostgreSQL's text nor its JSONB can hold one, and a refused input must still be recorded.
    """
    if user is not None and getattr(user, "is_authenticated", False):
        username = username or user.get_username()
    else:
        user = None
    event = AuditEvent(
        user=user,
        username=without_nul(username)[:150],
        action=without_nul(action)[:50],
        outcome=outcome,
        status_code=status_code,
        object_type=without_nul(object_type),
        object_ids=[without_nul(str(i)) for i in (object_ids or [])],
        result_count=result_count,
        query=without_nul(query or {}),
        detail=without_nul(detail or {}),
    )
    if request is not None:
        event.ip_address = without_nul(client_ip(request))
        event.user_agent = without_nul(request.META.get("HTTP_USER_AGENT", ""))[:300]
        event.request_id = getattr(request, "request_id", "")
        event.method = without_nul(request.method or "")
        event.path = without_nul(request.path)[:500]
    # The one write of every API call: plain SQL, no per-call statement compilation.
    rawsql.insert(event)
    return event
