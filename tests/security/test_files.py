"""The file attack corpus (bench/reliability/corpus.py) through the import API.

Figure: N files, 0 server errors, 0 crashes, 0 partial imports, nothing fetched, time and
peak RSS under the caps below. Plus the reader bugs the corpus found, pinned at reader level.
"""

import resource
import socket
import threading
import time
from http import HTTPStatus
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role
from bench.reliability import corpus
from ingest import readers
from ingest.models import ImportBatch
from reports.models import Report
from studies.models import Study

SECONDS_PER_FILE = 30.0
PEAK_RSS_MB = 2048


class Canary:
    """A loopback listener that counts connections: the corpus points its links here."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.hits = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/book.xlsx"

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.hits += 1
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.sock.close()


@pytest.fixture(scope="module")
def canary():
    listener = Canary()
    yield listener
    listener.close()


@pytest.fixture(scope="module")
def specimens(tmp_path_factory, canary) -> list[corpus.Specimen]:
    return corpus.build(tmp_path_factory.mktemp("corpus"), canary_url=canary.url)


def upload(client, specimen: corpus.Specimen):
    data = specimen.path.read_bytes()
    file = SimpleUploadedFile(specimen.upload_name, data, content_type="application/octet-stream")
    return client.post(f"/api/v1/import/{specimen.endpoint}", {"file": file})


@pytest.mark.django_db
def test_the_attack_corpus_never_crashes_or_half_imports(world, specimens, canary):
    admin = world.client(Role.ADMIN)
    slip = Path("/tmp/mip_zip_slip_canary")
    slip.unlink(missing_ok=True)
    failures = []
    for specimen in specimens:
        studies, reports = Study.objects.count(), Report.objects.count()
        started = time.monotonic()
        response = upload(admin, specimen)
        elapsed = time.monotonic() - started
        status = response.status_code
        batch = ImportBatch.objects.order_by("-started_at").first()
        grown = Study.objects.count() - studies + Report.objects.count() - reports
        stored = Study.objects.filter(exam_id__in=specimen.exam_ids).count()
        problems = []
        if status not in specimen.allowed:
            problems.append(f"status {status}: {response.content[:200]!r}")
        if elapsed > SECONDS_PER_FILE:
            problems.append(f"{elapsed:.1f} s")
        if status == HTTPStatus.OK:
            result = response.json()
            if grown != result["created"] or batch.status != "succeeded":
                problems.append(f"grew {grown}, created {result['created']}, {batch.status}")
            if specimen.exam_ids and stored not in (0, len(specimen.exam_ids)):
                problems.append(f"partial: {stored} of {len(specimen.exam_ids)}")
        elif grown or (batch is not None and batch.status in ("running", "succeeded")):
            problems.append(f"refused but grew {grown}, batch {batch and batch.status}")
        for text in specimen.forbidden_text:
            if Study.objects.filter(exam_description__contains=text).exists():
                problems.append(f"stored {text!r}")
        if problems:
            failures.append((specimen.name, problems))
    assert len(specimens) >= 38
    assert failures == []
    assert canary.hits == 0
    assert not slip.exists()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert peak_mb < PEAK_RSS_MB


# --- the reader bugs the corpus found (each crashed the process or answered 500 before) ----


def test_an_xls_that_makes_calamine_allocate_137_gb_is_refused_and_the_process_lives(tmp_path):
    specimen = corpus.xls_far_cell(tmp_path)
    with pytest.raises(readers.FileTooComplex, match="bigger inside than this importer reads"):
        readers.read_table(specimen.path, file_name=specimen.upload_name)


def test_an_xls_whose_sector_chain_is_a_cycle_is_refused_and_the_process_lives(tmp_path):
    specimen = corpus.encrypted_ole(tmp_path, ".xls")
    with pytest.raises(readers.FileFormatError):
        readers.read_table(specimen.path, file_name=specimen.upload_name)


def test_a_valid_xls_is_read_through_the_child_process(tmp_path):
    rows = [["检查号", "年龄", "开单时间"], ["E1", 45.0, 45967.4375], [None, None, None], ["E3"]]
    path = corpus.write_xls(tmp_path / "ris.xls", rows)
    with readers.read_table(path, file_name="ris.xls") as table:
        assert (table.format, table.headers, table.sheet_name) == ("xls", rows[0], "Sheet1")
        assert list(table.rows()) == [(2, ["E1", 45.0, 45967.4375]), (4, ["E3", None, None])]
        assert list(table.rows()) == list(table.rows())


def test_an_xls_child_that_runs_too_long_is_stopped(tmp_path):
    path = corpus.write_xls(tmp_path / "ris.xls", [["检查号"], ["E1"]])
    with pytest.raises(readers.FileTooComplex, match="takes too long"):
        readers.read_table(
            path, file_name="ris.xls", limits=readers.ReaderLimits(xls_seconds=0.001)
        )


@pytest.mark.parametrize(
    ("maker", "message"),
    [
        (corpus.json_deep, "nested too deeply"),
        (corpus.json_big_number, "number too long"),
    ],
)
def test_json_the_decoder_cannot_handle_is_a_clear_422(tmp_path, maker, message):
    specimen = maker(tmp_path)
    with pytest.raises(readers.FileFormatError, match=message) as exc:
        readers.read_table(
            specimen.path, file_name=specimen.upload_name, allowed_extensions=(".json",)
        )
    assert exc.value.status_code == 422


def test_json_with_lone_surrogates_is_a_clear_422_not_a_500(tmp_path):
    specimen = corpus.json_lone_surrogate(tmp_path)
    with (
        pytest.raises(readers.FileFormatError, match="not valid Unicode"),
        readers.read_table(
            specimen.path, file_name=specimen.upload_name, allowed_extensions=(".json",)
        ) as table,
    ):
        list(table.rows())
