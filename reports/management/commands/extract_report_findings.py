"""Read the findings of existing reports into the table report search by finding uses."""

import time

from django.core.management.base import BaseCommand, CommandParser

from reports import services
from reports.findings import BATCH, refresh_report_findings


class Command(BaseCommand):
    help = (
        "Analyse every report whose findings were never read, or were read from an older "
        "version of the report or of the analysis lexicon, into the indexed findings table "
        "(imports do this for the reports they write). Then prepare the search caches."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=BATCH)

    def handle(self, *args: object, **options: object) -> None:
        started = time.perf_counter()
        totals = refresh_report_findings(batch_size=int(options["batch_size"]))
        if totals["reports"]:
            services.warm_caches()
        self.stdout.write(
            f"Read {totals['reports']} report(s) ({totals['texts']} distinct text(s)) into "
            f"{totals['findings']} finding row(s) in {time.perf_counter() - started:.1f} s."
        )
