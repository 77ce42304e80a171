"""Operations endpoints: health."""

import sqlite3
from pathlib import Path
from urllib.parse import quote

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


def _sqlite_file_reachable(name: str) -> bool:
    """The SQLite database the configuration names opens now and is the product's.

    An open connection keeps reading a file that was moved or deleted under it, so it proves
    nothing: a connection of its own (read-only, never creating the file) does.
    """
    if name == ":memory:" or name.startswith("file:"):
        return True
    uri = f"file:{quote(str(Path(name).resolve()))}?mode=ro"
    try:
        probe = sqlite3.connect(uri, uri=True, timeout=2)
    except sqlite3.Error:
        return False
    try:
        probe.execute("SELECT 1 FROM django_migrations LIMIT 1").fetchall()
    except sqlite3.Error:
        return False
    finally:
        probe.close()
    return True


@router.get("/health", response={200: HealthOut, 503: HealthOut}, auth=None)
def health(request: HttpRequest):
    try:
        # A round trip on the server's own connection (PostgreSQL: the server answers now).
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        if connection.vendor == "sqlite" and not _sqlite_file_reachable(
            str(connection.settings_dict["NAME"])
        ):
            raise DatabaseError("the configured SQLite file cannot be opened")
    except DatabaseError:
        # Drop the broken connection so the next request reconnects when the database is back.
        connection.close_if_unusable_or_obsolete()
        return Status(
            503, {"status": "error", "database": "unavailable", "version": settings.VERSION}
        )
    return Status(200, {"status": "ok", "database": "ok", "version": settings.VERSION})
