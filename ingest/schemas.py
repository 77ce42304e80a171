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


class ImportResultOut(Schema):
    batch_id: str
    file_name: str
    rows_total: int
    created: int
    updated: int
    unchanged: int
    skipped: int
    rejected: int
    errors: list[RowErrorOut]
    ignored_columns: list[str]
    duration_ms: int
    error_count: int
    warnings: list[RowErrorOut]
    warning_count: int
    on_invalid: str
    rejected_rows_url: str | None


class ImportBatchOut(Schema):
    # The batch history's keys, in the order its answer has always had (the counts after the
    # status, unlike an upload's answer): a shared base class would reorder them.
    batch_id: str
    kind: str
    source: str
    file_name: str
    file_sha256: str
    file_size: int | None
    username: str
    on_duplicate: str
    on_invalid: str
    dry_run: bool
    status: str
    message: str
    rows_total: int
    created: int
    updated: int
    unchanged: int
    skipped: int
    rejected: int
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
