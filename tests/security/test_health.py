"""Issue 20 item 13: /health says whether the database the configuration names answers now,
not whether a connection opened earlier still reads something."""

import os
from http import HTTPStatus
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

pytestmark = pytest.mark.django_db
HEALTH = "/api/v1/health"
DOWN = {"status": "error", "database": "unavailable", "version": settings.VERSION}
UP = {"status": "ok", "database": "ok", "version": settings.VERSION}


def test_health_is_ok_while_the_database_answers():
    response = Client().get(HEALTH)
    assert (response.status_code, response.json()) == (HTTPStatus.OK, UP)


@pytest.mark.django_db(transaction=True)  # as in production: autocommit, no test transaction
@pytest.mark.skipif(
    os.environ.get("DB_ENGINE", "sqlite").endswith("postgresql"),
    reason="a file database: on PostgreSQL the server's own connection is the live check "
    "(bench/reliability/faults.py cuts it)",
)
def test_health_is_503_once_the_sqlite_file_is_moved_away():
    path = Path(connection.settings_dict["NAME"])
    client = Client()
    assert client.get(HEALTH).status_code == HTTPStatus.OK  # the connection is open now
    # Everything written so far into the file itself: the write-ahead log keeps its own name
    # when the file is moved, and an empty file opened under that name would take it over.
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    moved = path.with_name(path.name + ".moved")
    path.rename(moved)
    try:
        response = client.get(HEALTH)
        assert (response.status_code, response.json()) == (HTTPStatus.SERVICE_UNAVAILABLE, DOWN)
        assert not path.exists()  # the check did not create an empty database in its place
        path.write_bytes(b"")  # an empty file under the name is not the product's database
        assert client.get(HEALTH).status_code == HTTPStatus.SERVICE_UNAVAILABLE
        path.unlink()
    finally:
        moved.rename(path)
    assert client.get(HEALTH).status_code == HTTPStatus.OK
