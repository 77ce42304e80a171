"""Operations endpoints: health."""

from django.conf import settings
from django.db import connection
from django.db.utils import DatabaseError
from django.http import HttpRequest
from ninja import Router, Schema, Status

router = Router(tags=["operations"])


class HealthOut(Schema):
    status: str
    database: str
    version: str


@router.get("/health", response={200: HealthOut, 503: HealthOut}, auth=None)
def health(request: HttpRequest):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        # Drop the broken connection so the next request reconnects when the database is back.
        connection.close_if_unusable_or_obsolete()
        return Status(
            503, {"status": "error", "database": "unavailable", "version": settings.VERSION}
        )
    return Status(200, {"status": "ok", "database": "ok", "version": settings.VERSION})
