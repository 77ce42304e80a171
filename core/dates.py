"""Calendar days as instants, safe at the edges of what Python's datetime can hold.

Any ``YYYY-MM-DD`` that the API accepts must be answered, ``0001-01-01`` and ``9999-12-31``
included: the day after 9999-12-31 does not exist (``OverflowError``), and the local midnight
of 0001-01-01 east of UTC is an instant before ``datetime.min`` (the conversion to UTC that
the database adapters make overflows). A bound past either edge excludes nothing, so these
helpers answer None — "no bound" — there.
"""

from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone


def day_start(day: date) -> datetime | None:
    """The instant local ``day`` begins (TIME_ZONE), or None when it is before any instant."""
    try:
        start = timezone.make_aware(datetime.combine(day, time.min))
        start.astimezone(UTC)
    except OverflowError:
        return None
    return start


def day_after(day: date) -> datetime | None:
    """The instant local ``day`` ends (the next day's start), or None past the last instant."""
    try:
        return day_start(day + timedelta(days=1))
    except OverflowError:
        return None


def clamp_window(last_day: date, days: int) -> date:
    """``last_day`` moved, where needed, so that the ``days`` days ending with it (and a day
    either side, for the conversion to instants) are all dates."""
    earliest = date.min + timedelta(days=days)
    latest = date.max - timedelta(days=1)
    return min(max(last_day, earliest), latest)
