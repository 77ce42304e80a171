from typing import Any

from ninja import Schema

from core.schemas import LocalDateTime


class RowErrorOut(Schema):
    """A row error or warning; ``code`` is stable, ``message`` in the request's language."""

    row: int | None
    column: str
    value: Any
    message: str
    code: str = ""


class _ImportCounts(Schema):
    """An import and how its rows went: what an upload's answer and a batch's record share."""

    batch_id: str
    file_name: str
    rows_total: int
    created: int
    updated: int
    unchanged: int
    skipped: int
    rejected: int


class ImportResultOut(_ImportCounts):
    errors: list[RowErrorOut]
    ignored_columns: list[str]
    duration_ms: int
    error_count: int
    warnings: list[RowErrorOut]
    warning_count: int
    on_invalid: str
    rejected_rows_url: str | None


class ImportBatchOut(_ImportCounts):
    kind: str
    source: str
    file_sha256: str
    file_size: int | None
    username: str
    on_duplicate: str
    on_invalid: str
    dry_run: bool
    status: str
    message: str
    error_count: int
    warning_count: int
    started_at: LocalDateTime
    finished_at: LocalDateTime | None
    duration_ms: int | None


class ImportBatchDetailOut(ImportBatchOut):
    errors: list[RowErrorOut]
    warnings: list[RowErrorOut]
    ignored_columns: list[str]


class ImportBatchPage(Schema):
    data: list[ImportBatchOut]
    total: int
    page: int
    page_size: int
