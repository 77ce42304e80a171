"""The record of every import: who, when, which file, what it did."""

import uuid

from django.conf import settings
from django.db import models


def new_batch_id() -> str:
    return uuid.uuid4().hex


class ImportBatch(models.Model):
    """One import attempt, recorded whatever its outcome (including rejected files)."""

    class Kind(models.TextChoices):
        STUDIES = "studies"
        REPORTS = "reports"

    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        DRY_RUN = "dry_run"
        REJECTED = "rejected"
        CONFLICT = "conflict"
        FAILED = "failed"

    batch_id = models.CharField(max_length=32, primary_key=True, default=new_batch_id)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    source = models.CharField(max_length=20, default="api")  # api, command, duckdb
    file_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64, blank=True)
    file_size = models.BigIntegerField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True)
    on_duplicate = models.CharField(max_length=10, default="update")
    # 'reject' (the whole file is refused if a row is invalid) or 'skip' (the valid rows are
    # imported and the invalid ones kept in rejected_rows for their workbook).
    on_invalid = models.CharField(max_length=10, default="reject")
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    message = models.TextField(blank=True)
    # The message's reasons as [[code, params], ...] (ingest.messages), to say it again in the
    # reader's language; empty for messages without a code (a failure, an interruption).
    message_codes = models.JSONField(default=list, blank=True)
    rows_total = models.IntegerField(default=0)
    created = models.IntegerField(default=0)
    updated = models.IntegerField(default=0)
    unchanged = models.IntegerField(default=0)
    skipped = models.IntegerField(default=0)
    rejected = models.IntegerField(default=0)
    error_count = models.IntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    ignored_columns = models.JSONField(default=list, blank=True)
    warning_count = models.IntegerField(default=0)
    warnings = models.JSONField(default=list, blank=True)
    # With on_invalid='skip': {"headers": [...], "rows": [[row, [cells], [errors]], ...]}.
    rejected_rows = models.JSONField(null=True, blank=True)
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "batch_id"]
        verbose_name_plural = "import batches"

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name} ({self.status})"

    @property
    def message_text(self) -> str:
        """The message in the active language (the English ``message`` if it has no code)."""
        from ingest.messages import text

        if not self.message_codes:
            return self.message
        return "; ".join(text(code, params) for code, params in self.message_codes)
