"""Shared output of the import commands."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.services import audit_record
from ingest.services import ImportRefused, import_file


def print_result(command: BaseCommand, result: dict[str, Any]) -> None:
    command.stdout.write(
        f"batch {result['batch_id']}: {result['rows_total']} rows — "
        f"created {result['created']}, updated {result['updated']}, "
        f"unchanged {result['unchanged']}, skipped {result['skipped']}, "
        f"rejected {result['rejected']} ({result['duration_ms']} ms)"
    )
    if result["ignored_columns"]:
        command.stdout.write("ignored columns: " + ", ".join(result["ignored_columns"]))


def fail(command: BaseCommand, exc: ImportRefused) -> CommandError:
    """Print the row errors of a refused import and turn it into a non-zero exit."""
    result = exc.result
    for error in result.get("errors", [])[:50]:
        command.stderr.write(
            f"row {error['row']}, column {error['column']!r}, value {error['value']!r}: {error['message']}"
        )
    if len(result.get("errors", [])) > 50:
        command.stderr.write(
            f"… and {len(result['errors']) - 50} more listed in batch {result.get('batch_id')}"
        )
    return CommandError(exc.message)


def add_import_options(parser) -> None:  # noqa: ANN001
    parser.add_argument(
        "--on-duplicate", choices=["update", "skip", "fail"], default="update",
        help="what to do with an exam_id/report_id that already exists (default: update)",
    )  # fmt: skip
    parser.add_argument("--dry-run", action="store_true", help="validate and count; write nothing")


def run_import(command: BaseCommand, kind: str, path: Path, options: dict) -> None:
    """Import ``path`` as the API would, then audit and print the summary."""
    if not path.is_file():
        raise CommandError(f"No such file: {path}")
    try:
        result = import_file(
            kind=kind, source=path, file_name=path.name, on_duplicate=options["on_duplicate"],
            dry_run=options["dry_run"], origin="command",
        )  # fmt: skip
    except ImportRefused as exc:
        raise fail(command, exc) from None
    audit_record(
        action=f"import.{kind}", outcome="success", username="(command)", object_type="import",
        object_ids=[result["batch_id"]], result_count=result["rows_total"],
        detail={"file_name": path.name},
    )  # fmt: skip
    print_result(command, result)
