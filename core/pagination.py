"""The list envelope every list endpoint shares: data, total, page, page_size."""

from typing import Any

from django.db.models import Count, QuerySet, Window
from ninja import Field, Schema

from core.cache import remember, stored

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
# From this offset on, a page is found by its keys first and its rows fetched after: the rows
# skipped then come from the ordering index alone (an index-only scan on PostgreSQL) instead of
# the table, which made page 5,000 of a million rows 4x slower.
DEEP_OFFSET = 1000


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
    if offset < DEEP_OFFSET:
        return list(queryset[offset : offset + page_size]), total
    keys = list(queryset.values_list("pk", flat=True)[offset : offset + page_size])
    # The same queryset (its joins and annotations) narrowed to those keys.
    return in_key_order(queryset, keys), total


def in_key_order(queryset: QuerySet, keys: list[Any]) -> list[Any]:
    """The rows of ``queryset`` with these primary keys, in the keys' order."""
    rows = {row.pk: row for row in queryset.filter(pk__in=keys)}
    return [rows[key] for key in keys if key in rows]


def counted_page(
    matches: QuerySet, rows: QuerySet, *, data: str, count_key: str, version: int, page: int,
    page_size: int,
) -> tuple[list[Any], int] | None:  # fmt: skip
    """The page of ``matches`` (ordered) and their exact total from one scan of them, the
    first time they are searched: the keys of the page with the total as a window count over
    all the matches, then the page's ``rows`` by key. The total is stored under ``count_key``
    as ``core.cache.cached`` would have. None when it is already known (the page alone is
    cheaper) or the page is past the last one (where the window counts nothing)."""
    if stored(data, count_key, version=version) is not None:
        return None
    offset = (page - 1) * page_size
    window = matches.annotate(matches_total=Window(Count("pk")))
    keys = list(window.values_list("pk", "matches_total")[offset : offset + page_size])
    if not keys and offset:
        return None
    total = keys[0][1] if keys else 0  # no first page: nothing matches
    remember(data, count_key, total, version=version)
    return in_key_order(rows, [k for k, _ in keys]), total
