"""The contract between core.search and a searchable model: its ``SearchSpec``, declared by its
app (``studies/search.py``, ``reports/search.py``) and registered by name, and ``Filters``, a
search's validated filter values as the chain reads them.

core.search never imports a domain app: what differs between the studies and the reports
searches is a field or a hook of their specs.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from django.db.models import Model, QuerySet

from core.keys import key_of


def _term(values: Mapping[str, Any], q: str, name: str) -> str:
    return q if name == "q" else (values.get(name) or "").strip()


def _used(values: Mapping[str, Any], names: tuple[str, ...]) -> list[str]:
    return [name for name in names if values.get(name)]


def _alone(values: Mapping[str, Any], names: tuple[str, ...]) -> bool:
    return not any(v for k, v in values.items() if k not in (*names, "sort"))


@dataclass(frozen=True)
class Filters:
    """A search's filters as the endpoint's schema validated them (``values``, which also key
    its cached answers), with the term stripped once (``q``) and the sort, and what its plan
    asks of them, read once by ``SearchSpec.filters_of``: the key of its exact total
    (``total_key``), the exact-match filters given a value with it (``grouped``), whether a
    date range is given (``ranged``), a text the spec searches (``searches_text``) or no
    filter at all (``unfiltered``)."""

    values: Mapping[str, Any]
    q: str
    sort: str
    total_key: str
    grouped: tuple[tuple[str, Any], ...]
    ranged: bool
    searches_text: bool
    unfiltered: bool

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def alone(self, *names: str) -> bool:
        """Whether no filter other than ``names`` (and the sort) is given a value."""
        return _alone(self.values, names)

    @property
    def combined(self) -> bool:
        """Whether two filters or more narrow the search (a date range counts once)."""
        return len(self.grouped) + self.ranged >= 2


@dataclass
class Hints:
    """What a search knows ahead of its plan (from the warm-up's counts): the exact total of
    its term alone, whether to find a long term through the character index, whether to read
    its matches once for its total and first page, and whether the term is in no text field
    (``text_absent``: only its whole-value matches, found through B-trees, are left)."""

    total: int | None = None
    by_characters: bool = False
    scanned_once: bool = False
    text_absent: bool = False
    # How many rows a term alone is read as (a patient's name in pinyin, from the warm-up's
    # readings): its total is that and its other matches, counted only if not cached.
    read_as: int | None = None
    # A term of several words (``朱辉斌 头颅``): the word whose index finds the fewest rows,
    # and the other words better rechecked on those rows than found through their own index
    # (from the warm-up's counts; None and none: the app's own guess).
    narrowest_word: str | None = None
    unindexed_words: frozenset[str] = frozenset()


@dataclass
class SearchSpec:
    """A searchable model, declared by its app.

    Fields: the data name (``core.cache``'s version of the table), the model, its date field
    and default sort, the text fields a term is looked for in, the identifiers matched whole,
    the exact-match filters answered from one grouped count, the date range filters and the
    expression of the characters the GIN character index holds.

    Hooks (the app's own rules): ``matches(filters, hints, text_index=, filter_first=)``, the
    matching rows in the search's order, found through the text indexes (or, with
    ``text_index=False``, by LIKE alone, for a walk of the date index) and sorted rather than
    met along the date index (``filter_first``); ``rows()``, the rows of a page fetched by key;
    ``hints(filters, version)``; ``count(filters, hints, version)``, a total not yet cached;
    ``warm(version)`` and ``warm_beside(version)``, the app's part of the warm-up after an
    import, the second on a connection of its own meanwhile (``warmup.alongside``).

    Plan options, where the two searches' plans differ: ``count_always_costly`` (every count
    waits for the process computing it, not only a term's), ``walk_terms`` (the filters whose
    text makes a text search on PostgreSQL), ``walk_window_per_match`` (see
    ``backends.postgresql.walks_date_index``), ``sqlite_walk(filters, total, rows_needed)``
    (whether a term's page on SQLite leaves the text index for a walk of the date index),
    ``bookmarks`` (the unfiltered list's deep pages start from the warm-up's bookmarks),
    ``own_page(filters, page, page_size, version)`` (the page and total of a search the app
    answers from its own tables, or None: the reports' finding alone).
    """

    name: str
    model: type[Model]
    date_field: str
    text_fields: tuple[str, ...]
    chars_expression: str
    matches: Callable[..., QuerySet]
    rows: Callable[[], QuerySet]
    count: Callable[[Filters, Hints, int], int]
    hints: Callable[[Filters, int], Hints] = lambda filters, version: Hints()
    default_sort: str = ""
    identifier_fields: tuple[str, ...] = ()
    grouped_filters: tuple[str, ...] = ()
    range_filters: tuple[str, ...] = ("date_from", "date_to")
    count_always_costly: bool = False
    walk_terms: tuple[str, ...] = ("q",)
    walk_window_per_match: float | None = None
    sqlite_walk: Callable[[Filters, int, int], bool] | None = None
    bookmarks: bool = False
    own_page: Callable[[Filters, int, int, int], tuple[list, int] | None] | None = None
    warm: Callable[[int], Any] = field(default=lambda version: None)
    warm_beside: Callable[[int], Any] = field(default=lambda version: None)

    def filters_of(self, values: Mapping[str, Any]) -> Filters:
        """``values`` (a filter schema's ``filters()``) as the chain reads them."""
        q = (values.get("q") or "").strip()
        return Filters(
            values=MappingProxyType(dict(values)),
            q=q,
            sort=values.get("sort") or self.default_sort or f"-{self.date_field}",
            grouped=tuple((name, values[name]) for name in _used(values, self.grouped_filters)),
            ranged=bool(_used(values, self.range_filters)),
            searches_text=any(_term(values, q, name) for name in self.walk_terms),
            unfiltered=_alone(values, ()),
            # The total does not depend on the order: one count serves every sort of a search.
            total_key="count:" + key_of({k: v for k, v in values.items() if k != "sort"}),
        )

    @property
    def table(self) -> str:
        return self.model._meta.db_table


_specs: dict[str, SearchSpec] = {}


def register(spec: SearchSpec) -> SearchSpec:
    """Make ``spec`` the search of its data name (an app declares it once, at import)."""
    _specs[spec.name] = spec
    return spec


def spec_of(name: str) -> SearchSpec:
    return _specs[name]
