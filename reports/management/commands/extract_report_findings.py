"""Read the findings of existing reports into the table report search by finding uses."""

import time

from django.core.management.base import BaseCommand, CommandParser

from reports import services
from reports.findings import BATCH


class Command(BaseCommand):
    help = (
        "Analyse every report whose findings were never read, or were read from an older "
        "version of the report or of the analysis lexicon, into the indexed findings table "
        "(the task worker does this after each reports import), then prepare the search "
        "caches. A reading already running (the worker's) is waited for first. --queue leaves "
        "the work to the task worker instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=BATCH)
        parser.add_argument(
            "--queue",
            action="store_true",
            help="queue the reading for the task worker and return (nothing is queued when "
            "a reading already waits in the queue)",
        )

    def handle(self, *args: object, **options: object) -> None:
        if options["queue"]:
            services.findings_read_enqueue()
            self.stdout.write(
                "The task worker reads the reports' findings (queued, unless a reading was "
                "already waiting in the queue)."
            )
            return
        started = time.perf_counter()
        totals = services.findings_read(wait=True, batch_size=int(options["batch_size"]))
        self.stdout.write(
            f"Read {totals['reports']} report(s) ({totals['texts']} distinct text(s)) into "
            f"{totals['findings']} finding row(s) in {time.perf_counter() - started:.1f} s."
        )
