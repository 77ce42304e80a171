"""Prepare the answers the first searches after a data change ask for (imports do this)."""

from django.core.management.base import BaseCommand

from reports import services as report_services
from studies import services as study_services


class Command(BaseCommand):
    help = (
        "Compute the filter lists and the first search pages (with their exact totals) for the "
        "current data, into the cache every server process shares. Imports do this "
        "themselves; run it after changing data by other means (a restore, a SQL fix)."
    )

    def handle(self, *args: object, **options: object) -> None:
        studies = study_services.warm_caches()
        reports = report_services.warm_caches()
        self.stdout.write(f"Prepared {studies} study answers and {reports} report answers.")
