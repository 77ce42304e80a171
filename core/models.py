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
