"""Recover analysis tasks left behind by a dead worker (workers also do this themselves)."""

from argparse import ArgumentParser
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand

from analysis import services


class Command(BaseCommand):
    help = (
        "Re-queue (or, after ANALYSIS_MAX_ATTEMPTS, fail) processing analysis tasks whose "
        "worker stopped responding, and re-queue pending tasks that lost their queue entry"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--older-than",
            type=float,
            default=float(settings.ANALYSIS_STALE_SECONDS),
            help="seconds without a heartbeat after which a task counts as abandoned "
            "(default: ANALYSIS_STALE_SECONDS)",
        )

    def handle(self, *args, older_than: float, **options) -> None:
        recovered = services.analysis_recover_stale(older_than=timedelta(seconds=older_than))
        for key in ("requeued", "failed", "reenqueued"):
            ids = recovered[key]
            self.stdout.write(f"{key}: {len(ids)}" + (f" ({', '.join(ids)})" if ids else ""))
