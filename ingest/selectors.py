from django.db.models import QuerySet

from core.errors import NotFound
from ingest.models import ImportBatch


def import_batch_list(
    *, kind: str | None = None, status: str | None = None
) -> QuerySet[ImportBatch]:
    # The list shows counts; the errors, warnings and rejected rows are for one batch's page.
    qs = ImportBatch.objects.defer("errors", "warnings", "rejected_rows")
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-started_at", "batch_id")


def import_batch_get(*, batch_id: str) -> ImportBatch:
    batch = ImportBatch.objects.defer("rejected_rows").filter(batch_id=batch_id).first()
    if batch is None:
        raise NotFound("Import batch not found")
    return batch


def rejected_rows(*, batch_id: str) -> tuple[ImportBatch, dict]:
    """The batch and the rows its import rejected (``{"headers", "rows"}``), or NotFound."""
    batch = ImportBatch.objects.filter(batch_id=batch_id).first()
    if batch is None:
        raise NotFound("Import batch not found")
    if not batch.rejected_rows or not batch.rejected_rows.get("rows"):
        raise NotFound("This import kept no rejected rows")
    return batch, batch.rejected_rows
