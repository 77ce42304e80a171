"""Schema building blocks shared by every app's API."""

from datetime import datetime
from typing import Annotated

from django.utils import timezone
from pydantic import PlainSerializer

DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S"


def format_local(value: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` in TIME_ZONE's wall-clock time: no zone, no fraction."""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.strftime(DATETIME_FORMAT)


LocalDateTime = Annotated[datetime, PlainSerializer(format_local, return_type=str)]
