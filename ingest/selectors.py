from django.db.models import QuerySet

from core.errors import NotFound
from ingest.models import ImportBatch


def import_batch_list(
    *, kind: str | None = None, status: str | None = None
) -> QuerySet[ImportBatch]:
    qs = ImportBatch.objects.all()
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-started_at", "batch_id")


def import_batch_get(*, batch_id: str) -> ImportBatch:
    batch = ImportBatch.objects.filter(batch_id=batch_id).first()
    if batch is None:
        raise NotFound("Import batch not found")
    return batch
