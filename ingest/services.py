"""Imports: read → map headers → validate every row → write in one transaction → verify → record.

Nothing is written unless every row of the file is valid, or, with ``on_invalid='skip'``, the
valid rows are written and the invalid ones kept on the batch for their workbook
(ingest.rejected). Every message carries a stable code (ingest.messages). Valid rows stream into a temporary
staging table inside the import's transaction (COPY on PostgreSQL, batched inserts on SQLite);
the counts (created / updated / unchanged / skipped) are then answered by SQL against the
target table, the target is written with one UPDATE of the changed records and one INSERT of
the new ones (under a lock that keeps other writers out; a large import into an empty table
builds the table's indexes after that INSERT instead of during it), and the result is checked
against the database before the transaction commits. Studies imported into an empty table on
PostgreSQL, which need no comparison, skip the staging table: their rows are copied straight
into the table while the file is read (``_fill``). A dry run does all of that and rolls
back. The batch record is written outside the transaction, so a failed or rejected import is
recorded too.

``import_file(kind=…)`` is the one entry of the API, the web page and the management commands.
The readers (``ingest.readers``) turn the file into rows; every SQL statement is in
``ingest.sql``; after the commit ``_after_commit`` hands the search the character counts the
fill counted, refreshes the planner's statistics, reads the findings of imported reports and
prepares the search (``_warm_search``).
"""

import hashlib
import logging
import os
import re
import socket
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain, islice
from pathlib import Path
from typing import IO, Any

from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.cache import data_version
from core.errors import Conflict, DomainError, InvalidInput, UnsupportedMediaType
from ingest import readers, sql
from ingest.messages import Problem
from ingest.models import ImportBatch
from ingest.rows import (
    MAX_KEPT_REJECTED,
    REPORT_SCHEMA,
    STUDY_SCHEMA,
    HeaderError,
    Schema,
    map_headers,
    problem_entry,
    validate_rows,
)
from studies import selectors as study_selectors
from studies.models import PINYIN_FIELDS
from studies.pinyin import read_name

logger = logging.getLogger(__name__)

# An import that fills an empty table with at least this many rows builds indexes once after
# its rows instead of keeping them up to date row by row (PostgreSQL): every plain index after
# the INSERT from the staging table (reports; for a million studies the INSERT with upkeep of
# thirteen indexes took 89 s, the INSERT alone 2 s and the builds 49 s), or the target's
# ``built_after_fill`` after its COPY (studies, ``_fill``). Readers of the table wait for the
# import to commit meanwhile (DROP INDEX locks the table); the table they would read was empty.
REBUILD_INDEXES_MIN_ROWS = 50_000
ON_DUPLICATE = ("update", "skip", "fail")
# 'reject': one invalid row refuses the file (the default); 'skip': the valid rows are imported.
ON_INVALID = ("reject", "skip")


class ImportRefused(DomainError):
    """An import that did not write anything; ``result`` is the full result object, which the
    answer carries next to ``detail`` and ``code`` (config/api.py). Its HTTP status comes from
    the core.errors class each subclass also is. ``problems`` are the reasons, with their codes
    (ingest.messages), from which ``detail`` is said in the caller's language."""

    def __init__(
        self, problems: Problem | list[Problem], result: dict[str, Any] | None = None
    ) -> None:
        self.problems = problems if isinstance(problems, list) else [problems]
        super().__init__("; ".join(map(str, self.problems)))
        self.result = result or {}

    @property
    def code(self) -> str:
        return self.problems[0].code

    def again(self, result: dict[str, Any]) -> "ImportRefused":
        """The same refusal, with the import's full result."""
        return type(self)(self.problems, result)


class ImportRejected(ImportRefused, InvalidInput):
    """The file, a row or an option is not acceptable (422)."""


class ImportConflict(ImportRefused, Conflict):
    """Records of the file exist and on_duplicate is 'fail' (409)."""


class ImportUnsupported(ImportRefused, UnsupportedMediaType):
    """The file's type is not one this import accepts (415)."""


class ImportVerificationError(RuntimeError):
    """The database disagrees with the counts of the import: it is rolled back."""


class _DryRun(Exception):
    """Raised to roll back a dry run after its counts are known."""


@dataclass(frozen=True)
class Target:
    """Where a schema's records go: table, key, and the file field → column mapping."""

    schema: Schema
    table: str
    key_column: str
    columns: dict[str, str]  # schema field → table column
    # NOT NULL columns a file may leave empty: kept from the existing row, else this default.
    fallbacks: dict[str, str] = field(default_factory=dict)
    # Whether each record's key must name a stored study (checked against the staging table).
    references_studies: bool = False
    # The indexes a large import into the empty table builds after its last row instead of
    # keeping them up to date as it copies (``_fill``).
    built_after_fill: tuple[str, ...] = ()
    # The fields whose characters the study search counts (studies.selectors): a large fill
    # counts them from the rows it read while PostgreSQL builds the indexes.
    character_fields: tuple[str, ...] = ()
    # The file types this import reads.
    extensions: tuple[str, ...] = readers.STUDY_EXTENSIONS
    # Columns computed from a field of the file, written whenever that field is: field ->
    # (columns, function of the field's value giving their values).
    computed: dict[str, tuple[tuple[str, ...], Callable[[Any], tuple]]] = field(
        default_factory=dict
    )

    def kind(self, name: str) -> str:
        """The schema kind of a staged field; a computed column is text."""
        if any(name in columns for columns, _ in self.computed.values()):
            return "text"
        return self.schema.field(name).kind


STUDIES = Target(
    schema=STUDY_SCHEMA,
    table="studies_study",
    key_column="exam_id",
    columns={**{f.name: f.name for f in STUDY_SCHEMA.fields}, **{c: c for c in PINYIN_FIELDS}},
    # The GIN indexes over the long description: their upkeep (1M studies: 44 s) would keep
    # PostgreSQL busy longer than the file takes to read (36 s), and costs twice their builds
    # (19 s). The B-trees (19 s of upkeep) and the name and item trigram indexes (4.5 s, as
    # much as their builds) are kept up to date while the file is read.
    built_after_fill=("study_exam_description_trgm", "study_text_chars_cp"),
    character_fields=study_selectors.TEXT_FIELDS,
    extensions=readers.STUDY_EXTENSIONS,
    # The search's pinyin of the name (studies.pinyin), from the file's name as it is written.
    computed={"patient_name": (PINYIN_FIELDS, read_name)},
)
REPORTS = Target(
    schema=REPORT_SCHEMA,
    table="reports_report",
    key_column="report_id",
    columns={f.name: ("study_id" if f.name == "exam_id" else f.name) for f in REPORT_SCHEMA.fields},
    fallbacks={"radiologist": "''", "created_at": "NOW"},
    references_studies=True,
    extensions=readers.REPORT_EXTENSIONS,
)
TARGETS = {ImportBatch.Kind.STUDIES: STUDIES, ImportBatch.Kind.REPORTS: REPORTS}


@dataclass
class Outcome:
    rows_total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    warning_count: int = 0
    # With on_invalid='skip': the file's headers and its rejected rows (ingest.rejected).
    rejected_rows: dict[str, Any] | None = None
    table_rows_before: int = 0
    # The character counts of the rows a large fill wrote (studies), and the data version
    # they belong to: stored for the warm-up once the import has committed.
    character_counts: dict[str, int] | None = None
    counted_version: int = 0


# What a finished batch keeps of its outcome, each in the ImportBatch field of the same name.
_KEPT_OUTCOME = (
    "rows_total", "created", "updated", "unchanged", "skipped", "rejected",
    "error_count", "errors", "ignored_columns", "warning_count", "warnings", "rejected_rows",
)  # fmt: skip


# ---------------------------------------------------------------- public services


def import_file(
    *,
    kind: str,
    source: str | Path | IO[bytes] | UploadedFile,
    file_name: str,
    user: Any = None,
    on_duplicate: str = "update",
    dry_run: bool = False,
    origin: str = "api",
    on_invalid: str = "reject",
) -> dict[str, Any]:
    """Import a file of ``kind`` ('studies' or 'reports'): the API, the web page and the
    management commands all call this. See the module docstring.

    Studies come from a RIS export (.xlsx, .xls, .csv); reports from .xlsx, .csv or .json,
    and a report of an unknown exam_id is a row error. ``source`` is a path, a seekable
    binary file, or an uploaded file (Django's ``UploadedFile``).
    """
    target = TARGETS[kind]
    if on_duplicate not in ON_DUPLICATE:
        raise ValueError(f"on_duplicate must be one of {', '.join(ON_DUPLICATE)}")
    if on_invalid not in ON_INVALID:
        raise ValueError(f"on_invalid must be one of {', '.join(ON_INVALID)}")
    source = _readable(source)
    sha256, size = _digest(source)
    batch = _start_batch(
        target, file_name=file_name, sha256=sha256, size=size, user=user,
        on_duplicate=on_duplicate, dry_run=dry_run, origin=origin, on_invalid=on_invalid,
    )  # fmt: skip
    try:
        table = readers.read_table(
            source, file_name=file_name, allowed_extensions=target.extensions
        )
    except readers.ReaderError as exc:
        refusal = _reader_error(exc, batch, Outcome())
        _finish(batch, ImportBatch.Status.REJECTED, Outcome(), **_said(refusal))
        raise refusal.again(_result(batch, Outcome())) from exc
    with table:
        return _run(
            target, batch, table, on_duplicate=on_duplicate, dry_run=dry_run,
            on_invalid=on_invalid,
        )  # fmt: skip


def _readable(source: str | Path | IO[bytes] | UploadedFile) -> str | Path | IO[bytes]:
    """A path or a binary file: an upload Django spooled to a temporary file is read by its
    path, a small one from memory."""
    if not isinstance(source, UploadedFile):
        return source
    path = getattr(source, "temporary_file_path", None)
    return path() if path else source.file


def import_table(
    target: Target,
    *,
    table: Any,
    file_name: str,
    file_sha256: str = "",
    file_size: int | None = None,
    user: Any = None,
    on_duplicate: str = "update",
    dry_run: bool = False,
    origin: str = "command",
    expected_rows: int | None = None,
) -> dict[str, Any]:
    """Import an already opened table (an object with ``headers`` and ``rows()``).

    ``expected_rows`` is the source's own count of its rows: a different number of rows read
    fails the import inside its transaction, so nothing of it is committed (a source that
    changes between two reads, such as a hostile view, cannot leave a partial import behind).
    """
    batch = _start_batch(
        target, file_name=file_name, sha256=file_sha256, size=file_size, user=user,
        on_duplicate=on_duplicate, dry_run=dry_run, origin=origin,
    )  # fmt: skip
    return _run(
        target, batch, table, on_duplicate=on_duplicate, dry_run=dry_run,
        expected_rows=expected_rows,
    )  # fmt: skip


def record_refused_import(
    *,
    kind: str,
    file_name: str,
    message: str,
    size: int | None = None,
    user: Any = None,
    on_duplicate: str = "update",
    dry_run: bool = False,
    origin: str = "api",
    on_invalid: str = "reject",
    problems: list[Problem] = (),
) -> dict[str, Any]:
    """Record an import refused before its file was read (too large, no file, bad options):
    every refused import is in the batch list, not only those whose file was opened."""
    target = TARGETS[kind]
    batch = _start_batch(
        target, file_name=file_name, sha256="", size=size, user=user,
        on_duplicate=on_duplicate if on_duplicate in ON_DUPLICATE else "update",
        dry_run=dry_run, origin=origin,
        on_invalid=on_invalid if on_invalid in ON_INVALID else "reject",
    )  # fmt: skip
    return _finish(
        batch, ImportBatch.Status.REJECTED, Outcome(), message=message, problems=problems
    )


# ---------------------------------------------------------------- orchestration


def _run(
    target: Target, batch: ImportBatch, table: Any, *, on_duplicate: str, dry_run: bool,
    expected_rows: int | None = None, on_invalid: str = "reject",
) -> dict[str, Any]:  # fmt: skip
    outcome = Outcome()
    partial = on_invalid == "skip"
    try:
        header_map = map_headers(table.headers, target.schema)
        outcome.ignored_columns = list(header_map.ignored_columns)
        header_map.check(target.schema)
        fields = _staged_fields(target, header_map)
        if partial:
            outcome.rejected_rows = {"headers": list(header_map.headers), "rows": []}
        with transaction.atomic():
            _lock(target)
            records = _Computed(
                target,
                validate_rows(table.rows(), header_map, target.schema, keep_rejected=partial),
            )
            if _fills_empty_table(target):
                _fill(target, fields, records, outcome, dry_run=dry_run, partial=partial)
            else:
                _stage(target, fields, records, outcome)
                _check_references(target, outcome, header_map, fields, partial=partial)
                _check_rows(outcome, partial=partial)
                _count(target, fields, outcome, on_duplicate=on_duplicate)
                if on_duplicate == "fail" and outcome.skipped:
                    raise ImportConflict(_conflict_problem(target, outcome))
                _write(target, fields, outcome, on_duplicate=on_duplicate, dry_run=dry_run)
                _verify(target, fields, outcome, on_duplicate=on_duplicate)
                _drop_staging()
            if expected_rows is not None and outcome.rows_total != expected_rows:
                raise ImportVerificationError(
                    f"The source counted {expected_rows} rows but {outcome.rows_total} were "
                    "read; the import is rolled back"
                )
            if dry_run:
                raise _DryRun
    except _DryRun:
        return _finish(batch, ImportBatch.Status.DRY_RUN, outcome)
    except HeaderError as exc:
        refusal = ImportRejected(exc.problems)
        _finish(batch, ImportBatch.Status.REJECTED, outcome, **_said(refusal))
        raise refusal.again(_result(batch, outcome)) from exc
    except readers.ReaderError as exc:
        refusal = _reader_error(exc, batch, outcome)
        _finish(batch, ImportBatch.Status.REJECTED, outcome, **_said(refusal))
        raise refusal.again(_result(batch, outcome)) from exc
    except ImportRejected as exc:
        _finish(batch, ImportBatch.Status.REJECTED, outcome, **_said(exc))
        raise exc.again(_result(batch, outcome)) from None
    except ImportConflict as exc:
        _finish(batch, ImportBatch.Status.CONFLICT, outcome, **_said(exc))
        raise exc.again(_result(batch, outcome)) from None
    except Exception as exc:
        logger.exception("Import %s failed and was rolled back", batch.batch_id)
        _finish(batch, ImportBatch.Status.FAILED, outcome, message=f"{type(exc).__name__}: {exc}")
        raise
    result = _finish(batch, ImportBatch.Status.SUCCEEDED, outcome)
    _after_commit(target, outcome)
    return result


def _after_commit(target: Target, outcome: Outcome) -> None:
    """What follows a committed import, in this order: the character counts its fill
    prepared, the planner's statistics, then for a reports import the findings of its
    reports, then the search warm-up."""
    # The counts first: until they are stored, a surname searched alone is counted through
    # the character index, and the statistics take seconds at a million rows.
    _store_character_counts(outcome)
    changed = bool(outcome.created or outcome.updated)
    if changed:
        _refresh_statistics(target)
    # A reports import that wrote reports, or a studies import that changed studies (an
    # examination renamed makes its reports' findings stale: reports.findings.stale_reports),
    # has finished here. New studies have no reports yet.
    if (target is REPORTS and changed) or outcome.updated:
        _queue_report_findings()
    _warm_search(target)


def _queue_report_findings() -> None:
    """The task worker reads the findings of the reports written or whose study changed
    (search by finding)."""
    from reports.services import findings_read_enqueue

    try:
        findings_read_enqueue()
    except Exception:
        # The import is committed; the next import's reading, or `manage.py
        # extract_report_findings`, reads these reports too.
        logger.exception("Queuing the reading of the imported reports' findings failed")


def _refresh_statistics(target: Target) -> None:
    """Give the planner the new data's statistics and PostgreSQL's visibility map the new rows.

    Without statistics a table filled by an import is planned as if it were still empty (and
    autovacuum, which would gather them later, may be off or far behind a million new rows);
    without the visibility map, counts and deep pages read the table instead of the index.
    """
    if connection.in_atomic_block:
        return  # VACUUM cannot run inside a transaction; the caller's data is not committed
    try:
        with connection.cursor() as cursor:
            sql.dialect().refresh_statistics(cursor, target.table)
    except DatabaseError:
        # The import is committed; statistics that could not be refreshed are refreshed by
        # autovacuum (or the next import) instead.
        logger.exception("Refreshing the planner statistics after an import failed")


def _store_character_counts(outcome: Outcome) -> None:
    """Hand the search the character counts a large fill counted from the rows it read, for
    the version it wrote (the warm-up then does not read the table for them)."""
    if outcome.character_counts is not None:
        # Nothing is stored inside a caller's transaction (core.cache.remember).
        study_selectors.prepare_character_counts(
            outcome.character_counts, version=outcome.counted_version
        )


def _warm_search(target: Target) -> None:
    """The call into the search code after an import: prepare the first searches of the new
    data (the filter lists, the first pages and their exact totals), so that no user waits
    for a count over the whole table."""
    if connection.in_atomic_block:
        return  # inside a caller's transaction nothing is cached (core.cache.cached)
    from reports import services as report_services
    from studies import services as study_services

    warm = study_services.warm_caches if target is STUDIES else report_services.warm_caches
    try:
        warm()
    except Exception:
        # The import is committed; a cache that could not be prepared fills on first use.
        logger.exception("Preparing the search caches after an import failed")


def _said(refusal: ImportRefused) -> dict[str, Any]:
    """What the batch records of a refusal: its English message and its codes."""
    return {"message": refusal.message, "problems": refusal.problems}


def _reader_error(exc: readers.ReaderError, batch: ImportBatch, outcome: Outcome) -> ImportRefused:
    if isinstance(exc, readers.UnsupportedFileType):
        problem = Problem("file.unsupported_type", **exc.params)
        return ImportUnsupported(problem, _result(batch, outcome))
    code = "file.too_complex" if isinstance(exc, readers.FileTooComplex) else "file.invalid"
    return ImportRejected(Problem(code, message=exc.message), _result(batch, outcome))


def _rejected_problem(outcome: Outcome) -> Problem:
    return Problem("import.invalid_rows", rejected=outcome.rejected, errors=outcome.error_count)


def _conflict_problem(target: Target, outcome: Outcome) -> Problem:
    return Problem("import.conflict", count=outcome.skipped, key=target.schema.key)


# ---------------------------------------------------------------- batch record


def _digest(source: str | Path | IO[bytes]) -> tuple[str, int]:
    sha = hashlib.sha256()
    size = 0
    if isinstance(source, str | Path):
        with Path(source).open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                sha.update(chunk)
                size += len(chunk)
        return sha.hexdigest(), size
    position = source.tell()
    for chunk in iter(lambda: source.read(1 << 20), b""):
        sha.update(chunk)
        size += len(chunk)
    source.seek(position)
    return sha.hexdigest(), size


def _start_batch(
    target: Target, *, file_name: str, sha256: str, size: int | None, user: Any,
    on_duplicate: str, dry_run: bool, origin: str, on_invalid: str = "reject",
) -> ImportBatch:  # fmt: skip
    _fail_interrupted_batches()
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    batch = ImportBatch.objects.create(
        kind=target.schema.name,
        source=origin,
        file_name=file_name[:255],
        file_sha256=sha256,
        file_size=size,
        user=user if authenticated else None,
        username=user.get_username() if authenticated else "",
        on_duplicate=on_duplicate,
        on_invalid=on_invalid,
        dry_run=dry_run,
        message=_owner(),
    )
    _hold_batch_lock(batch, take=True)
    return batch


# A batch whose importing process died (kill -9, a lost server) stays 'running': its
# transaction was rolled back, nothing was written, and it is marked failed at the next import.
# On PostgreSQL an advisory lock held by the importing connection tells (sql.postgresql); on
# SQLite the running batch's message names its owner (host, process id and the process's start
# time, which tells a reused id apart), and a batch whose owner on this host is gone is the
# interrupted one (sql.sqlite).
INTERRUPTED = "Interrupted (the importing process ended); nothing was written"


def _hold_batch_lock(batch: ImportBatch, *, take: bool) -> None:
    sql.dialect().hold_batch_lock(batch.batch_id, take=take)


_OWNER_PREFIX = "Running in "


def _process_start(pid: int) -> str | None:
    """The start time of process ``pid`` in clock ticks since boot (Linux), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22; the command name (field 2, in parentheses) may itself hold spaces.
    return stat.rpartition(")")[2].split()[19]


def _owner(pid: int | None = None) -> str:
    """What a running batch's message says of the process that imports it."""
    pid = os.getpid() if pid is None else pid
    return f"{_OWNER_PREFIX}{socket.gethostname()} pid {pid} start {_process_start(pid)}"


def _owner_gone(message: str) -> bool:
    """Whether the owner named by a running batch's message is known to have ended."""
    match = re.fullmatch(rf"{_OWNER_PREFIX}(.+) pid (\d+) start (\d+)", message)
    if match is None or match.group(1) != socket.gethostname():
        return False
    return _process_start(int(match.group(2))) != match.group(3)


def _fail_interrupted_batches() -> int:
    running = ImportBatch.objects.filter(status=ImportBatch.Status.RUNNING)
    interrupted = sql.dialect().interrupted(running, owner_gone=_owner_gone)
    return running.filter(interrupted).update(
        status=ImportBatch.Status.FAILED, message=INTERRUPTED, finished_at=timezone.now()
    )


def _finish(
    batch: ImportBatch, status: str, outcome: Outcome, *, message: str = "",
    problems: list[Problem] = (),
) -> dict[str, Any]:  # fmt: skip
    finished = timezone.now()
    batch.status = status
    batch.message = message[:2000]
    batch.message_codes = [[p.code, p.params] for p in problems]
    for name in _KEPT_OUTCOME:
        setattr(batch, name, getattr(outcome, name))
    batch.finished_at = finished
    batch.duration_ms = int((finished - batch.started_at).total_seconds() * 1000)
    batch.save()
    _hold_batch_lock(batch, take=False)
    return _result(batch, outcome)


def _result(batch: ImportBatch, outcome: Outcome) -> dict[str, Any]:
    duration = batch.duration_ms
    if duration is None:
        duration = int((timezone.now() - batch.started_at).total_seconds() * 1000)
    return {
        "batch_id": batch.batch_id,
        "file_name": batch.file_name,
        "rows_total": outcome.rows_total,
        "created": outcome.created,
        "updated": outcome.updated,
        "unchanged": outcome.unchanged,
        "skipped": outcome.skipped,
        "rejected": outcome.rejected,
        "errors": outcome.errors,
        "ignored_columns": outcome.ignored_columns,
        "duration_ms": duration,
        "error_count": outcome.error_count,
        "warnings": outcome.warnings,
        "warning_count": outcome.warning_count,
        "on_invalid": batch.on_invalid,
        "has_rejected_rows": bool(outcome.rejected_rows and outcome.rejected_rows["rows"]),
    }


# ---------------------------------------------------------------- staging and writing


def _staged_fields(target: Target, header_map: Any) -> list[str]:
    """The fields every staged row has: mapped columns, fields with a default, and NOT NULL
    columns that fall back to the stored value (so an absent column leaves them alone)."""
    mapped = set(header_map.columns.values())
    fields = [
        f.name
        for f in target.schema.fields
        if f.name in mapped or f.default is not None or f.name in target.fallbacks
    ]
    for source, (columns, _compute) in target.computed.items():
        if source in fields:
            fields.extend(columns)
    return fields


# A computed column's field (a patient's name) repeats across the rows of a file: each
# distinct value is computed once per import, up to this many values, the later ones as they
# come. A million studies hold ~215,000 distinct names.
COMPUTED_MEMO = 400_000
# Joins a value's computed texts in the memo: one string a value instead of a tuple of
# strings (less than half the memory), and a character no text column holds (PostgreSQL's text
# cannot).
_PACKED = "\x00"


class _Computed:
    """The validated records (``ingest.rows.RowValidator``, whose counts it passes on) with
    the target's computed columns added to every record that has their field."""

    def __init__(self, target: Target, records: Any) -> None:
        self._computed = target.computed
        self._records = records

    def __iter__(self) -> Iterator[tuple[int, dict]]:
        # (field, its columns, compute, memo of value -> its computed texts packed)
        computed = [(source, *spec, {}) for source, spec in self._computed.items()]
        for item in self._records:
            record = item[1]
            for source, columns, compute, memo in computed:
                if source in record:
                    value = record[source]
                    packed = memo.get(value)
                    if packed is None:
                        texts = compute(value)
                        if len(texts) != len(columns) or any(_PACKED in t for t in texts):
                            raise ValueError(f"{compute.__name__} gave {texts!r} for {columns}")
                        packed = _PACKED.join(texts)
                        if len(memo) < COMPUTED_MEMO:
                            memo[value] = packed
                    # As many texts as columns: checked when computed.
                    record.update(zip(columns, packed.split(_PACKED), strict=False))
            yield item

    def __getattr__(self, name: str) -> Any:
        return getattr(self._records, name)


def _lock(target: Target) -> None:
    # One import at a time per table, so that the count check cannot be disturbed by a
    # concurrent import (on SQLite its IMMEDIATE transactions admit one writer already).
    with connection.cursor() as cursor:
        sql.dialect().lock_table(cursor, target.table)


def _stage(
    target: Target, fields: list[str], records: Iterable[tuple[int, dict]], outcome: Outcome
) -> None:
    with connection.cursor() as cursor:
        sql.stage(cursor, target, fields, records)
    _read_counts(records, outcome)


class _Texts:
    """The searched texts of the imported rows, kept for ``_CharacterCount``: each
    ``TEXTS_BLOCK`` of them joined into one string with their lengths beside it, about half
    the memory of as many strings (a million studies: ~80 MB less)."""

    def __init__(self) -> None:
        self._blocks: list[tuple[str, array]] = []
        self._open: list[str] = []

    def append(self, text: str) -> None:
        self._open.append(text)
        if len(self._open) >= TEXTS_BLOCK:
            self._close_block()

    def _close_block(self) -> None:
        if self._open:
            self._blocks.append(("".join(self._open), array("I", map(len, self._open))))
            self._open = []

    def take(self) -> Iterator[str]:
        """Every text in order, each block freed once read (this object is empty after)."""
        self._close_block()
        blocks, self._blocks = self._blocks, []
        blocks.reverse()
        while blocks:
            joined, lengths = blocks.pop()
            start = 0
            for length in lengths:
                yield joined[start : start + length]
                start += length


# Texts joined into one string by ``_Texts``.
TEXTS_BLOCK = 20_000


class _CharacterCount:
    """Counts the characters of the imported texts in a thread while PostgreSQL builds the
    indexes: the importer, waiting for PostgreSQL, does not hold the interpreter's lock, so the
    count (4 s for a million studies, which the warm-up would spend reading the table and
    counting) costs no time."""

    def __init__(self, texts: Iterator[str]) -> None:
        self._texts = texts
        self._counts: dict[str, int] | None = None
        self._thread = threading.Thread(target=self._count, name="import-character-count")
        self._thread.start()

    def _count(self) -> None:
        try:
            self._counts = study_selectors.count_characters(self._texts)
        except Exception:
            # The warm-up counts them from the table instead.
            logger.exception("Counting the characters of the imported rows failed")
        finally:
            self._texts = iter(())

    def result(self) -> dict[str, int] | None:
        self._thread.join()
        return self._counts


def _read_counts(records: Any, outcome: Outcome) -> None:
    """The rows, errors and warnings the validation of the file found."""
    outcome.rows_total = records.rows_total
    outcome.rejected = records.rejected
    outcome.error_count = records.error_count
    outcome.errors = list(records.errors)
    outcome.warning_count = records.warning_count
    outcome.warnings = list(records.warnings)
    if outcome.rejected_rows is not None:
        outcome.rejected_rows["rows"] = [list(row) for row in records.rejected_rows]


def _check_rows(outcome: Outcome, *, partial: bool) -> None:
    """Refuse a file without rows, or (unless ``partial``) with an invalid row."""
    if outcome.rows_total == 0:
        raise ImportRejected(Problem("import.no_rows"))
    if outcome.error_count and not partial:
        raise ImportRejected(_rejected_problem(outcome))
    if partial and outcome.rejected > MAX_KEPT_REJECTED:
        raise ImportRejected(Problem("import.too_many_rejected", limit=MAX_KEPT_REJECTED))


def _fills_empty_table(target: Target) -> bool:
    """Whether the import copies its rows straight into the table (``_fill``): into an empty
    table (PostgreSQL), for records that need nothing from the database (no stored values to
    fall back on, no references to check). The caller holds the table lock (``_lock``)."""
    if target.fallbacks or target.references_studies:
        return False
    with connection.cursor() as cursor:
        return sql.dialect().fills_empty_table(cursor, target.table)


def _fill(
    target: Target, fields: list[str], records: Any, outcome: Outcome, *, dry_run: bool,
    partial: bool = False,
) -> None:  # fmt: skip
    """Copy the valid rows of the file into the empty table by one COPY, as the file is read.

    Every row is new, so there is nothing to compare and no staging table: PostgreSQL inserts
    each row, with the upkeep of the table's indexes, on the other core while this process
    reads and checks the next ones. The indexes that would make PostgreSQL the slower of the
    two (the target's ``built_after_fill``) are dropped before the first row of an import of
    at least ``REBUILD_INDEXES_MIN_ROWS`` rows and built after its last. From the first
    invalid row on nothing more is copied (unless ``partial``: then every valid row is); the
    file is still read to its end for the errors, then the import is rejected and rolled back.
    """
    db = sql.dialect()
    stamps = [c for c in ("created_at", "updated_at") if c not in fields]
    columns = [*(target.columns[f] for f in fields), *stamps]
    types = [sql.column_type(target, f) for f in fields] + ["timestamptz"] * len(stamps)
    now = [timezone.now()] * len(stamps)
    staged_row = db.staged_row(target, fields, numbered=False)
    # A dry run builds no indexes, so nothing would count the texts: they are not kept.
    character_fields = () if dry_run else target.character_fields
    texts = _Texts()

    def valid_rows() -> Iterator[list]:
        for row_number, record in records:
            if partial or not records.error_count:
                row = staged_row(row_number, record)
                row += now
                if character_fields:
                    texts.append("".join(filter(None, map(record.get, character_fields))))
                yield row

    rows = valid_rows()
    # The first rows tell whether the import is large enough to build indexes after its rows.
    head = list(islice(rows, REBUILD_INDEXES_MIN_ROWS))
    with connection.cursor() as cursor:
        large = len(head) >= REBUILD_INDEXES_MIN_ROWS
        rebuilt = (
            db.drop_indexes(cursor, target.table, names=target.built_after_fill) if large else []
        )
        copied = db.copy(cursor, sql.copy_sql(target, columns), types, chain(head, rows))
        del head
        _read_counts(records, outcome)
        _check_rows(outcome, partial=partial)
        outcome.created = copied
        _verify(target, fields, outcome, on_duplicate="skip", staged=False)
        if rebuilt and not dry_run:
            # The thread takes the texts; each block is freed once counted.
            counting = _CharacterCount(texts.take()) if character_fields else None
            db.build_indexes(cursor, rebuilt)
            if counting is not None:
                outcome.character_counts = counting.result()
                # The version this import's COPY gave the studies (the table lock keeps every
                # other writer out until the commit).
                outcome.counted_version = data_version("studies")


def _check_references(
    target: Target, outcome: Outcome, header_map: Any, fields: list[str], *, partial: bool
) -> None:
    """Reports must point at known studies: each unknown exam_id is a row error. A partial
    import takes those rows out of the staging table and keeps them as rejected rows (their
    cells as the staging table holds them, under the file's headers)."""
    if not target.references_studies:
        return
    with connection.cursor() as cursor:
        unknown = sql.unknown_studies(cursor)
        if not unknown:
            return
        staged = sql.take_unknown_studies(cursor, fields) if partial else {}
    header = header_map.headers[header_map.column_of("exam_id")]
    positions = {name: index for index, name in header_map.columns.items()}
    for row_number, exam_id in unknown:
        outcome.error_count += 1
        outcome.rejected += 1
        error = problem_entry(row_number, header, exam_id, Problem("row.unknown_exam"))
        if len(outcome.errors) < 1000:
            outcome.errors.append(error)
        if partial and outcome.rejected_rows is not None:
            cells = [""] * len(header_map.headers)
            for name, value in staged.get(row_number, {}).items():
                if name in positions:
                    cells[positions[name]] = _staged_text(value)
            outcome.rejected_rows["rows"].append([row_number, cells, [error]])
    outcome.errors.sort(key=lambda e: e["row"])
    if outcome.rejected_rows is not None:
        outcome.rejected_rows["rows"].sort(key=lambda r: r[0])


def _staged_text(value: Any) -> str:
    """A staged value as the file would hold it: local wall-clock times, as imported."""
    if isinstance(value, str) and value[:4].isdigit() and value[4:5] == "-":
        value = parse_datetime(value) or value
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    return "" if value is None else str(value)


def _count(target: Target, fields: list[str], outcome: Outcome, *, on_duplicate: str) -> None:
    with connection.cursor() as cursor:
        sql.fill_fallbacks(cursor, target, fields, sql.dialect().adapt(timezone.now()))
        existing, unchanged, staged = sql.count_staged(cursor, target, fields)
        outcome.table_rows_before = sql.table_count(cursor, target.table)
        if on_duplicate == "fail" and existing:
            outcome.errors = [
                problem_entry(row, target.schema.key, value, Problem("row.already_exists"))
                for row, value in sql.existing_keys(cursor, target)
            ]
    outcome.created = staged - existing
    if on_duplicate == "update":
        outcome.unchanged = unchanged
        outcome.updated = existing - unchanged
    else:
        outcome.skipped = existing


def _write(
    target: Target, fields: list[str], outcome: Outcome, *, on_duplicate: str, dry_run: bool
) -> None:
    """Update the changed records, then insert the new ones.

    The table lock (``_lock``) keeps every other writer out until commit, so which keys exist
    cannot change under these two statements; that is what lets them replace one
    INSERT … ON CONFLICT, which takes a row lock on every existing record it meets, changed or
    not (a million row locks when the same file is imported again), and pays for a
    speculative insertion on every new one.
    """
    db = sql.dialect()
    # Timestamps the file does not give are set now; updated_at only changes with the row.
    stamps = [c for c in ("created_at", "updated_at") if c not in fields]
    now = db.adapt(timezone.now())
    with connection.cursor() as cursor:
        # A statement that would write no row is not run: it would still bump the table's
        # data version (a trigger per statement, core migration 0002), and a file imported
        # again unchanged would throw away every cached search answer.
        if on_duplicate == "update" and outcome.updated:
            sql.update_changed(cursor, target, fields, now)
        rebuilt = db.drop_indexes(cursor, target.table) if _rebuilds_indexes(outcome) else []
        if outcome.created:
            sql.insert_new(cursor, target, fields, stamps, now)
        # A dry run skips the builds: its rollback brings the dropped indexes back as they
        # were, and its verification reads the key's index, which stays.
        if rebuilt and not dry_run:
            db.build_indexes(cursor, rebuilt)


def _rebuilds_indexes(outcome: Outcome) -> bool:
    return (
        sql.dialect().REBUILDS_INDEXES
        and outcome.table_rows_before == 0
        and outcome.created >= REBUILD_INDEXES_MIN_ROWS
    )


def _drop_staging() -> None:
    with connection.cursor() as cursor:
        sql.drop_staging(cursor)


def _verify(
    target: Target, fields: list[str], outcome: Outcome, *, on_duplicate: str, staged: bool = True
) -> None:
    """After the write, every staged row must be in the table as the file says (update).

    Rows copied straight into an empty table (``_fill``, ``staged=False``) are checked by the
    table's count, which must be the file's: the key is unique, so every row is there once.
    """
    with connection.cursor() as cursor:
        table_rows = sql.table_count(cursor, target.table)
        if not staged:
            staged_rows = present = table_rows - outcome.table_rows_before
        else:
            staged_rows, present = sql.count_present(
                cursor, target, fields, compare=on_duplicate == "update"
            )
    expected = outcome.created + outcome.updated + outcome.unchanged + outcome.skipped
    grown = table_rows - outcome.table_rows_before
    # Every row of the file, but the rejected ones of a partial import.
    valid_rows = outcome.rows_total - outcome.rejected
    if (
        present != staged_rows
        or expected != staged_rows
        or staged_rows != valid_rows
        or grown != outcome.created
    ):
        raise ImportVerificationError(
            f"Verification failed: valid file rows {valid_rows}, staged {staged_rows}, counted "
            f"{expected}, found in the database {present}, table grew by {grown} for "
            f"{outcome.created} created"
        )
