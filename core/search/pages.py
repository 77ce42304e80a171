"""The pages of a search beyond plain paging: the deep pages of a whole table started from the
warm-up's bookmarks. (The first page counted with its total in one scan of the matches is a
way of totalling a search: ``counts.search_total``.)"""

from bisect import bisect_right
from typing import Any

from django.db.models import F, Model, QuerySet, Window
from django.db.models.functions import Mod, Rank, RowNumber

from core.cache import cached, stored
from core.pagination import rows_at

# The warm-up notes where every this-many-th row of a table's date order stands (a bookmark),
# so that a deep page of the unfiltered list skips fewer rows than this from the date index
# instead of every row before it (page 5,000 of a million studies: 100,000 index entries).
BOOKMARK_EVERY = 10_000


def _bookmarks_key(field: str, descending: bool) -> str:
    return f"bookmarks:{field}:{descending}"


def _bookmarks(
    model: type[Model], field: str, descending: bool, skip_null: bool
) -> list[tuple[Any, int]]:
    order = F(field).desc() if descending else F(field).asc()
    rows = model.objects.filter(**{f"{field}__isnull": False}) if skip_null else model.objects
    marks = (
        rows.annotate(
            row=Window(RowNumber(), order_by=order), before=Window(Rank(), order_by=order)
        )
        .alias(step=Mod("row", BOOKMARK_EVERY))
        .filter(step=0)
        .order_by("row")
        .values_list(field, "before")
    )
    # Rank counts from 1: ``before - 1`` rows come before the first row of that value.
    return [(value, before - 1) for value, before in marks]


def bookmarks(
    model: type[Model], *, field: str, descending: bool, data: str, version: int,
    skip_null: bool = False,
) -> list[tuple[Any, int]]:  # fmt: skip
    """``(value, position)`` of every ``BOOKMARK_EVERY``-th row of ``model`` in ``field``
    order (a NOT NULL field, or ``skip_null``: the rows holding a value), where ``position``
    is the number of rows before the first row holding ``value``. Computed by the import's
    warm-up (one read of the field's index)."""
    return cached(
        data,
        _bookmarks_key(field, descending),
        lambda: _bookmarks(model, field, descending, skip_null),
        version=version,
    )


def bookmark_before(
    *, field: str, descending: bool, data: str, version: int, offset: int
) -> tuple[Any, int] | None:
    """The last bookmark (``bookmarks``) at or before the row ``offset``: ``(value, position)``;
    None when the warm-up did not compute them for this data version, or none is before."""
    marks = stored(data, _bookmarks_key(field, descending), version=version)
    nearest = bisect_right(marks or [], offset, key=lambda mark: mark[1])
    return marks[nearest - 1] if nearest else None


def bookmarked_page(
    queryset: QuerySet, *, field: str, descending: bool, data: str, version: int, page: int,
    page_size: int, total: int,
) -> list[Any] | None:  # fmt: skip
    """The page of the whole table ``queryset`` (ordered by ``field``, then by ties) started
    from the nearest bookmark before it; None when the page is not deep or the bookmarks of
    this data version were not computed (the caller pages as usual: the same rows)."""
    offset = (page - 1) * page_size
    if offset < BOOKMARK_EVERY or offset >= total:
        return None
    mark = bookmark_before(
        field=field, descending=descending, data=data, version=version, offset=offset
    )
    if mark is None:
        return None  # none computed, or every one is past the page (a value of many rows)
    value, position = mark
    # The rows from the first holding ``value`` on are the rows from ``position`` on.
    narrowed = queryset.filter(**{f"{field}__{'lte' if descending else 'gte'}": value})
    return rows_at(narrowed, offset - position, page_size)
