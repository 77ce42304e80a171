"""A search's exact total (``search_total``): counted with its first page, answered without
counting from the grouped count of the exact-match filters' combinations, or counted, and
cached; and the counts of the characters without letter case."""

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, islice
from typing import Any

from django.db.models import Count, Model, Window

from core.cache import cached, remember, stored
from core.search.query import is_caseless
from core.search.spec import Filters, Hints, SearchSpec


@dataclass(frozen=True)
class GroupCounts:
    """How many rows hold each combination of the exact-match filters' values, with, for
    each filter value, the combinations that hold it (a sum over a few of the thousands of
    combinations instead of a test of each)."""

    counts: tuple[int, ...]
    holding: dict[str, dict[str, tuple[int, ...]]]  # field -> value -> combinations

    def rows_holding(self, wanted: Sequence[tuple[str, Any]]) -> int:
        """How many rows hold every ``(field, value)`` of ``wanted`` (all rows: none)."""
        if not wanted:
            return sum(self.counts)
        found = [self.holding[field].get(value, ()) for field, value in wanted]
        fewest = min(found, key=len)
        others = [set(combinations) for combinations in found if combinations is not fewest]
        return sum(self.counts[i] for i in fewest if all(i in other for other in others))


def group_counts(model: type[Model], fields: tuple[str, ...]) -> GroupCounts:
    """How many rows of ``model`` hold each combination of the values of ``fields``."""
    rows = model.objects.values_list(*fields).annotate(n=Count("pk")).order_by()
    counts: list[int] = []
    holding: dict[str, dict[str, list[int]]] = {field: {} for field in fields}
    for i, row in enumerate(rows):
        counts.append(row[-1])
        for field, value in zip(fields, row[:-1], strict=False):
            holding[field].setdefault(value, []).append(i)
    return GroupCounts(
        tuple(counts),
        {field: {v: tuple(ids) for v, ids in values.items()} for field, values in holding.items()},
    )


def count_caseless(
    texts: Iterable[tuple[str, int]],
    terms: Callable[[str], Iterable[str]] = iter,
    *,
    minimum: int = 1,
) -> dict[str, int]:
    """How many rows hold each term without letter case (``is_caseless``) that
    ``terms(text)`` yields (by default its characters), from ``(text, how many rows hold
    it)``, for the terms held by ``minimum`` rows or more. A row counts once per term,
    however often its text holds it; identical texts given once with their number are split
    once."""
    counts: Counter[str] = Counter()
    rows = iter(texts)
    while chunk := list(islice(rows, 20_000)):
        alike: defaultdict[int, list[str]] = defaultdict(list)
        for text, times in chunk:
            alike[times].append(text)
        for times, group in alike.items():
            found = Counter(chain.from_iterable(set(terms(t)) for t in group))
            counts.update({term: n * times for term, n in found.items()} if times > 1 else found)
    return {t: n for t, n in counts.items() if n >= minimum and is_caseless(t)}


def grouped_counts(spec: SearchSpec, *, version: int | None = None) -> GroupCounts:
    """How many rows hold each combination of the exact-match filters' values.

    One scan of the table (~0.3 s at a million studies) gives a few thousand combinations; the
    total of any combination of those filters is then a sum over them, exact to the row.
    """
    return cached(
        spec.name, "groups", lambda: group_counts(spec.model, spec.grouped_filters), version=version
    )


def search_total(
    spec: SearchSpec, filters: Filters, hints: Hints, *, version: int,
    first_page: tuple[int, int] | None = None,
) -> tuple[int, list[Any] | None]:  # fmt: skip
    """The exact number of rows matching ``filters``, cached under the data version, and the
    keys of the first page counted with it, or None.

    A search of exact-match filters alone is totalled from the grouped count. The first
    search of a term its hints find worth it (``first_page``: the page and its size) reads
    its matches once for both: the keys of the page with the total as a window count over
    all the matches, the total then stored as ``cached`` would have. Any other search (or
    that one with its total known, or its page past the last one, where the window counts
    nothing) is counted. The total does not depend on the order: one count serves every sort
    of a search.
    """
    if spec.grouped_filters and not filters.q and not filters.ranged:
        return grouped_counts(spec, version=version).rows_holding(filters.grouped), None
    if hints.scanned_once and first_page is not None:
        page, page_size = first_page
        matches = spec.matches(filters, hints, filter_first=True)
        if stored(spec.name, filters.total_key, version=version) is None:
            offset = (page - 1) * page_size
            window = matches.annotate(matches_total=Window(Count("pk")))
            keys = list(window.values_list("pk", "matches_total")[offset : offset + page_size])
            if keys or not offset:
                total = keys[0][1] if keys else 0  # no first page: nothing matches
                remember(spec.name, filters.total_key, total, version=version)
                return total, [key for key, _ in keys]
    # A term may match most of the table; a date range is counted from its index alone.
    total = cached(
        spec.name,
        filters.total_key,
        lambda: spec.count(filters, hints, version),
        version=version,
        costly=spec.count_always_costly or bool(filters.q),
    )
    return total, None
