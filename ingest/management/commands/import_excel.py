from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.services import audit_record
from ingest import services
from ingest.management.commands._common import add_import_options, fail, print_result


class Command(BaseCommand):
    help = "Import a RIS export of studies (.xlsx, .xls or .csv) with the same rules as the API."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("path", nargs="?", help="the file (default: EXCEL_FILE_PATH)")
        add_import_options(parser)

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        path = Path(options["path"] or settings.EXCEL_FILE_PATH)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            result = services.import_studies(
                source=path, file_name=path.name, on_duplicate=options["on_duplicate"],
                dry_run=options["dry_run"], origin="command",
            )  # fmt: skip
        except services.ImportError_ as exc:
            raise fail(self, exc) from None
        audit_record(
            action="import.studies", outcome="success", username="(command)",
            object_type="import", object_ids=[result["batch_id"]], result_count=result["rows_total"],
            detail={"file_name": path.name},
        )  # fmt: skip
        print_result(self, result)
