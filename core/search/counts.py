"""The totals a search answers without counting its matches: the grouped count of the
exact-match filters' combinations and the counts of the characters without letter case."""

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import chain, islice

from django.db.models import Count, Model

from core.cache import cached
from core.search.query import is_caseless
from core.search.spec import Filters, Hints, SearchSpec


@dataclass(frozen=True)
class GroupCounts:
    """How many rows hold each combination of the exact-match filters' values, with, for
    each filter value, the combinations that hold it (a sum over a few of the thousands of
    combinations instead of a test of each)."""

    counts: tuple[int, ...]
    holding: dict[str, dict[str, tuple[int, ...]]]  # field -> value -> combinations

    def total(self, wanted: list[tuple[str, str]]) -> int:
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


def grouped_total(spec: SearchSpec, filters: Filters, *, version: int) -> int | None:
    """The exact total of a search that only uses exact-match filters, from the grouped count;
    None for a search with a term or a date range, which must be counted."""
    if not spec.grouped_filters or filters.q or filters.used(spec.range_filters):
        return None
    wanted = [(f, filters.get(f)) for f in filters.used(spec.grouped_filters)]
    return grouped_counts(spec, version=version).total(wanted)


def grouped_counts(spec: SearchSpec, *, version: int | None = None) -> GroupCounts:
    """How many rows hold each combination of the exact-match filters' values.

    One scan of the table (~0.3 s at a million studies) gives a few thousand combinations; the
    total of any combination of those filters is then a sum over them, exact to the row.
    """
    return cached(
        spec.name, "groups", lambda: group_counts(spec.model, spec.grouped_filters), version=version
    )


def search_total(spec: SearchSpec, filters: Filters, hints: Hints, *, version: int) -> int:
    """The exact number of rows matching ``filters``, cached under the data version.

    The total does not depend on the order: one count serves every sort of a search.
    """
    total = grouped_total(spec, filters, version=version)
    if total is not None:
        return total
    # A term may match most of the table; a date range is counted from its index alone.
    return cached(
        spec.name,
        filters.count_key(),
        lambda: spec.count(filters, hints, version),
        version=version,
        costly=spec.count_always_costly or bool(filters.q),
    )
