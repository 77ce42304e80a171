"""The list envelope every list endpoint shares: data, total, page, page_size."""

from typing import Any

from django.db.models import QuerySet
from ninja import Field, Schema

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


class PageParams(Schema):
    page: int = Field(1, ge=1, description="1-based page number")
    page_size: int = Field(
        DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="rows per page (1-100)"
    )


def paginate(
    queryset: QuerySet, *, page: int, page_size: int, total: int | None = None
) -> tuple[list[Any], int]:
    """One page of ``queryset`` and the exact total (counted unless given); past the end, []."""
    if total is None:
        total = queryset.count()
    offset = (page - 1) * page_size
    if offset >= total:
        return [], total
    return list(queryset[offset : offset + page_size]), total
