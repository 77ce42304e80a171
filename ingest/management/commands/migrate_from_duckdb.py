import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit.services import audit_record
from ingest import services
from ingest.duckdb_source import LEGACY_TABLE, READ_SECONDS, DuckDBTable
from ingest.management.commands._common import fail, print_result
from ingest.readers import ReaderError


class Command(BaseCommand):
    help = (
        f"Copy {LEGACY_TABLE} from the legacy DuckDB file (opened read-only) into the studies "
        "table with the importer's rules, then verify the counts. Safe to run again: existing "
        "studies are updated in place, never duplicated. Exits non-zero on any mismatch."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument(
            "--path",
            default=os.environ.get("DUCKDB_PATH", "medical_imaging.duckdb"),
            help="the DuckDB file (default: DUCKDB_PATH, else medical_imaging.duckdb)",
        )
        parser.add_argument(
            "--time-limit",
            type=float,
            default=READ_SECONDS,
            help=f"seconds each read of the file may take, else it is refused ({READ_SECONDS})",
        )

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            with DuckDBTable(path, time_limit=options["time_limit"]) as table:
                source_count = table.count()
                self.stdout.write(f"DuckDB {LEGACY_TABLE}: {source_count} rows")
                duplicated = table.duplicated_keys()
                if duplicated:
                    shown = ", ".join(f"{key} ({n}×)" for key, n in duplicated)
                    raise CommandError(
                        f"The DuckDB file repeats exam_id values: {shown}; nothing was imported"
                    )
                # The count is checked inside the import's transaction: a source that reads
                # differently the second time is rolled back, not committed and then flagged.
                result = services.import_table(
                    services.STUDIES, table=table, file_name=path.name, origin="duckdb",
                    expected_rows=source_count,
                )  # fmt: skip
        except ReaderError as exc:
            raise CommandError(exc.message) from exc
        except services.ImportVerificationError as exc:
            raise CommandError(f"{exc}; nothing was imported") from exc
        except services.ImportRefused as exc:
            raise fail(self, exc) from None
        print_result(self, result)
        imported = result["created"] + result["updated"] + result["unchanged"]
        self.stdout.write(f"Imported (now in the database): {imported} rows")
        audit_record(
            action="import.duckdb", outcome="success", username="(command)", object_type="import",
            object_ids=[result["batch_id"]], result_count=imported, detail={"file_name": path.name},
        )  # fmt: skip
        if imported != source_count or result["rows_total"] != source_count:
            raise CommandError(
                f"Count mismatch: DuckDB has {source_count} rows, {imported} are in the database"
            )
        self.stdout.write(
            self.style.SUCCESS(f"Verified: {source_count} = {imported}, no duplicate exam_id")
        )
