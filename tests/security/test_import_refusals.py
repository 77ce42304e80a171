"""Refused imports are recorded and answer the contract's shapes (issue 20, items 10 and 11).

- A 413 (upload too large) recorded no import batch; every refused import is now a
  'rejected' batch, whether the limit was seen in the declared length (the body is not read)
  or in the parsed upload.
- A batch left 'running' by a killed process stayed so for six hours on SQLite; now the next
  import marks it failed at once when its owner process is gone (on PostgreSQL: when its
  advisory lock is free).
- ``POST /import/studies`` without a file answered a string ``detail``; it is now a request
  validation error in Ninja's shape, and recorded too.
"""

import signal
import subprocess
import time
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from accounts.models import Role
from ingest import services
from ingest.models import ImportBatch
from studies.models import Study
from tests.security.conftest import tiny_csv

KINDS = [("studies", "/api/v1/import/studies"), ("reports", "/api/v1/import/reports")]


def _latest() -> ImportBatch:
    return ImportBatch.objects.order_by("-started_at", "-pk").first()


@pytest.mark.parametrize(("kind", "url"), KINDS)
def test_an_upload_over_the_limit_is_413_and_a_rejected_batch(world, settings, kind, url):
    settings.MAX_UPLOAD_MB = 0.01
    before = ImportBatch.objects.count()
    big = SimpleUploadedFile("big.csv", b"x" * 20_000, content_type="text/csv")

    response = world.client(Role.ADMIN).post(url, {"file": big})

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert response.json() == {
        "detail": "The file is larger than the 0.01 MB upload limit",
        "code": "import.too_large",
    }
    assert ImportBatch.objects.count() == before + 1
    batch = _latest()
    assert (batch.kind, batch.status, batch.file_name, batch.file_size) == (
        kind, "rejected", "big.csv", 20_000
    )  # fmt: skip
    assert (batch.username, batch.finished_at is not None) == ("sec_admin", True)
    assert batch.message == "The file is larger than the 0.01 MB upload limit"


def test_a_declared_length_over_the_limit_is_413_without_reading_and_is_recorded(world, settings):
    settings.MAX_UPLOAD_MB = 0.01
    body = b"--b\r\nContent-Disposition: form-data; name=file; filename=a.csv\r\n\r\n"
    body += b"x" * 200_000 + b"\r\n--b--\r\n"

    response = world.client(Role.ADMIN).generic(
        "POST", "/api/v1/import/studies", body, content_type="multipart/form-data; boundary=b"
    )

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    batch = _latest()
    assert (batch.status, batch.file_name, batch.file_size) == ("rejected", "", len(body))
    assert Study.objects.filter(exam_id__startswith="SECI").count() == 0


@pytest.mark.parametrize(("kind", "url"), KINDS)
def test_an_import_without_a_file_is_a_validation_error_and_recorded(world, kind, url):
    before = ImportBatch.objects.count()

    response = world.client(Role.ADMIN).post(url, {"on_duplicate": "skip"})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {
        "detail": [{"type": "missing", "loc": ["file", "file"], "msg": "Field required"}]
    }
    assert ImportBatch.objects.count() == before + 1
    batch = _latest()
    assert (batch.kind, batch.status, batch.on_duplicate) == (kind, "rejected", "skip")
    assert batch.message == "file.file: Field required"


def test_missing_file_and_bad_option_are_listed_together(world):
    response = world.client(Role.ADMIN).post("/api/v1/import/studies", {"dry_run": "maybe"})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert [e["loc"] for e in response.json()["detail"]] == [["file", "file"], ["form", "dry_run"]]


def test_a_batch_of_a_killed_import_is_failed_by_the_next_import(world):
    """The next import notices that the process that ran the batch is gone, at once."""
    child = subprocess.Popen(["sleep", "60"])
    owner = services._owner(child.pid)
    child.send_signal(signal.SIGKILL)
    child.wait()
    time.sleep(0.05)
    orphan = ImportBatch.objects.create(kind="studies", file_name="killed.xlsx", message=owner)
    # A batch still running in a live process (this one) is left alone. (On PostgreSQL the
    # advisory lock decides, and this test's connection would hold it itself.)
    alive = ImportBatch.objects.create(
        kind="studies", file_name="alive.xlsx", message=services._owner()
    )

    response = world.client(Role.ADMIN).post(
        "/api/v1/import/studies", {"file": tiny_csv("SECK0001")}
    )

    assert response.status_code == HTTPStatus.OK, response.content
    orphan.refresh_from_db()
    alive.refresh_from_db()
    assert (orphan.status, orphan.message) == ("failed", services.INTERRUPTED)
    assert orphan.finished_at is not None
    if connection.vendor == "sqlite":
        assert alive.status == "running"
