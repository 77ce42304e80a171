from pathlib import Path

from django.core.management.base import BaseCommand

from ingest.management.commands._common import add_import_options, run_import


class Command(BaseCommand):
    help = "Import reports (.xlsx, .csv or .json) with the same rules as the API."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("path", help="the file")
        add_import_options(parser)

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        run_import(self, "reports", Path(options["path"]), options)
