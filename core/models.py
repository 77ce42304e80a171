"""Shared bookkeeping."""

from django.db import models


class DataVersion(models.Model):
    """A counter per table that database triggers bump on every write to that table.

    Counts and filter lists are cached under the current version, so a cached answer is only
    served while the data it was computed from is unchanged, however the data was changed
    (import, admin, a raw SQL fix). That keeps cached answers exact.
    """

    name = models.CharField(max_length=50, primary_key=True)
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}@{self.version}"


class SharedAnswer(models.Model):
    """A cached answer that every server process (and the importer) can read.

    Each process keeps answers in its own memory; this table is the second level behind it,
    so that an answer computed once (by any worker, or ahead of time right after an import)
    serves all workers. Keys carry the data version, so rows of older versions are never read
    again; they are removed as newer ones are written.
    """

    key = models.CharField(max_length=200, primary_key=True)
    name = models.CharField(max_length=50)
    version = models.BigIntegerField()
    value = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["name", "version"], name="shared_answer_version_idx")]

    def __str__(self) -> str:
        return self.key
