"""A study's timeline: order -> check-in -> report certification, and its turnaround flags.

Datetimes may be ``datetime`` objects, ISO strings or None. They are shown as given, as
``YYYY-MM-DDTHH:MM:SS`` with no zone: the caller passes local wall-clock times (Django's
``timezone.localtime``), which is what the API shows. Intervals are computed on the instants,
so aware values in different zones still subtract correctly; if aware and naive values are
mixed, the naive ones are taken as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

from nlp.messages import message

# (name, from field, to field) in the order a study goes through them.
INTERVALS = (
    ("order_to_check_in", "order_datetime", "check_in_datetime"),
    ("check_in_to_certification", "check_in_datetime", "report_certification_datetime"),
    ("order_to_certification", "order_datetime", "report_certification_datetime"),
)
_LABELS = {
    "order_datetime": "order",
    "check_in_datetime": "check-in",
    "report_certification_datetime": "certification",
}


def parse_datetime(value: datetime | str | None) -> datetime | None:
    """A datetime from a datetime, an ISO 8601 string or None; anything else is an error."""
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
        try:
            return datetime.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"not an ISO datetime: {value!r}") from exc
    raise TypeError(f"expected a datetime, an ISO string or None, got {type(value).__name__}")


def format_datetime(value: datetime | str | None) -> str | None:
    """``YYYY-MM-DDTHH:MM:SS`` wall-clock time, no zone or fraction, or None."""
    dt = parse_datetime(value)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") if dt is not None else None


def instant(value: datetime) -> datetime:
    """A naive UTC datetime to compare and subtract values of mixed awareness."""
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def compute_timeline(
    order_datetime: datetime | str | None,
    check_in_datetime: datetime | str | None,
    report_certification_datetime: datetime | str | None,
    *,
    turnaround_limit_hours: float = 24.0,
) -> dict:
    """Intervals in minutes between the three times, flagged when over the limit or negative.

    Every interval is checked against ``turnaround_limit_hours``; a negative interval (a
    check-in recorded before the order, say) is flagged as a data problem.
    """
    if isinstance(turnaround_limit_hours, bool) or not turnaround_limit_hours > 0:
        raise ValueError("turnaround_limit_hours must be a positive number")
    times = {
        "order_datetime": parse_datetime(order_datetime),
        "check_in_datetime": parse_datetime(check_in_datetime),
        "report_certification_datetime": parse_datetime(report_certification_datetime),
    }
    limit_minutes = float(turnaround_limit_hours) * 60
    minutes: dict[str, float | None] = {}
    flags: list[dict] = []
    for name, start_field, end_field in INTERVALS:
        start, end = times[start_field], times[end_field]
        if start is None or end is None:
            minutes[name] = None
            continue
        value = round((instant(end) - instant(start)).total_seconds() / 60, 1)
        minutes[name] = value
        if value < 0:
            flags.append(
                {
                    "interval": name,
                    "kind": "negative_interval",
                    "minutes": value,
                    "limit_minutes": limit_minutes,
                    **message(
                        "timeline.negative_interval",
                        start=_LABELS[start_field],
                        end=_LABELS[end_field],
                    ),
                }
            )
        elif value > limit_minutes:
            flags.append(
                {
                    "interval": name,
                    "kind": "exceeds_limit",
                    "minutes": value,
                    "limit_minutes": limit_minutes,
                    **message(
                        "timeline.exceeds_limit",
                        interval=name,
                        hours=value / 60,
                        limit_hours=float(turnaround_limit_hours),
                    ),
                }
            )
    return {
        **{field: format_datetime(value) for field, value in times.items()},
        "intervals_minutes": minutes,
        "turnaround_limit_hours": float(turnaround_limit_hours),
        "exceeds_limit": any(f["kind"] == "exceeds_limit" for f in flags),
        "certified": times["report_certification_datetime"] is not None,
        "flags": flags,
    }
