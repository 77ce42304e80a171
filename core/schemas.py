"""Schema building blocks shared by every app's API."""

import re
from datetime import date, datetime
from typing import Annotated, Any, Self

from django.utils import timezone
from ninja import Schema
from pydantic import BeforeValidator, PlainSerializer, model_validator

DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S"


def format_local(value: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` in TIME_ZONE's wall-clock time: no zone, no fraction."""
    if timezone.is_aware(value):
        # The default zone itself (nothing activates another): localtime() would look up the
        # current zone for each of the ~60 datetimes of a page.
        value = value.astimezone(timezone.get_default_timezone())
    return value.strftime(DATETIME_FORMAT)


LocalDateTime = Annotated[datetime, PlainSerializer(format_local, return_type=str)]


def _iso_date_only(value: Any) -> Any:
    """Refuse what pydantic would otherwise read as a date: a number is not a day (``0`` would
    silently mean 1970-01-01), nor is a datetime string."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise ValueError("Input should be a date as YYYY-MM-DD")
    return value


# A calendar day given as YYYY-MM-DD (query filters such as date_from / date_to).
IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]


class DateRangeParams(Schema):
    """Filters with a ``date_from`` / ``date_to`` pair (each schema declares them, with its own
    descriptions): a range that ends before it starts is refused (422), not answered empty."""

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("date_from must not be after date_to")
        return self
