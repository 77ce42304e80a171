from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from ingest.management.commands._common import add_import_options, run_import


class Command(BaseCommand):
    help = "Import a RIS export of studies (.xlsx, .xls or .csv) with the same rules as the API."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("path", nargs="?", help="the file (default: EXCEL_FILE_PATH)")
        add_import_options(parser)

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        path = Path(options["path"] or settings.EXCEL_FILE_PATH)
        run_import(self, "studies", path, options)
