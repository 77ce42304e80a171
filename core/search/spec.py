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

from core.cache import key_of


@dataclass(frozen=True)
class Filters:
    """A search's filters as the endpoint's schema validated them (``values``, which also key
    its cached answers), with the term stripped once (``q``) and the sort."""

    values: Mapping[str, Any]
    q: str
    sort: str

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def term(self, name: str) -> str:
        """The text of the filter ``name``, stripped (a term matched as a substring)."""
        return self.q if name == "q" else (self.values.get(name) or "").strip()

    def used(self, names: tuple[str, ...]) -> list[str]:
        """The names among ``names`` given a value."""
        return [name for name in names if self.values.get(name)]

    def alone(self, *names: str) -> bool:
        """Whether no filter other than ``names`` (and the sort) is given a value."""
        return not any(v for k, v in self.values.items() if k not in (*names, "sort"))

    def count_key(self) -> str:
        """The key of the search's exact total: one count serves every sort of a search."""
        return "count:" + key_of({k: v for k, v in self.values.items() if k != "sort"})


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
    ``hints(filters, version)``; ``count(filters, hints, version)``, a total not yet cached.

    Plan options, where the two searches' plans differ: ``count_always_costly`` (every count
    waits for the process computing it, not only a term's), ``walk_terms`` (the filters whose
    text makes a text search on PostgreSQL), ``walk_window_per_match`` (see
    ``backends.postgresql.walks_date_index``), ``sqlite_walk(filters, total, rows_needed)`` (whether a term's
    page on SQLite leaves the text index for a walk of the date index), ``bookmarks`` (the unfiltered list's deep pages start from the warm-up's
    bookmarks).
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
    warm: Callable[[int], Any] = field(default=lambda version: None)

    def filters(self, values: Mapping[str, Any]) -> Filters:
        """``values`` (a filter schema's ``filters()``) as the chain reads them."""
        return Filters(
            values=MappingProxyType(dict(values)),
            q=(values.get("q") or "").strip(),
            sort=values.get("sort") or self.default_sort or f"-{self.date_field}",
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
