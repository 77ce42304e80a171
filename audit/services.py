"""Writing the audit log. Endpoints describe what they returned; the middleware writes once."""

import functools
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.http import HttpRequest

from audit.models import AuditEvent
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
    """Append one event. Callable from services and commands as well as from requests."""
    if user is not None and getattr(user, "is_authenticated", False):
        username = username or user.get_username()
    else:
        user = None
    event = AuditEvent(
        user=user,
        username=username[:150],
        action=action[:50],
        outcome=outcome,
        status_code=status_code,
        object_type=object_type,
        object_ids=[str(i) for i in (object_ids or [])],
        result_count=result_count,
        query=query or {},
        detail=detail or {},
    )
    if request is not None:
        event.ip_address = client_ip(request)
        event.user_agent = request.META.get("HTTP_USER_AGENT", "")[:300]
        event.request_id = getattr(request, "request_id", "")
        event.method = request.method or ""
        event.path = request.path[:500]
    _insert(event)
    return event


@functools.cache
def _insert_sql() -> tuple[str, list]:
    quote = connection.ops.quote_name
    fields = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
    sql = (
        f"INSERT INTO {quote(AuditEvent._meta.db_table)} "
        f"({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    return sql, fields


def _insert(event: AuditEvent) -> None:
    """INSERT the event with prepared field values; what ``save(force_insert=True)`` does,
    without compiling the statement anew on each of the many calls per second."""
    sql, fields = _insert_sql()
    values = [f.get_db_prep_save(f.pre_save(event, add=True), connection) for f in fields]
    with connection.cursor() as cursor:
        if connection.features.can_return_columns_from_insert:
            cursor.execute(sql + " RETURNING id", values)
            event.pk = cursor.fetchone()[0]
        else:
            cursor.execute(sql, values)
            event.pk = cursor.lastrowid
    event._state.adding = False
    event._state.db = connection.alias
