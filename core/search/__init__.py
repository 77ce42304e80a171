"""Search's one home: the rules the studies and reports searches share.

- ``query``: the matching of a term (which indexes it can use, caseless terms);
- ``counts``: the totals answered without counting (grouped counts, character counts);
- ``plan``: the plans that fetch a page on PostgreSQL (walking the date index, sorting);
- ``pages``: the first page counted with its total, the deep pages from bookmarks;
- ``rendered``: the rendered answers, cached as bytes per data version;
- ``spec``: the contract (``SearchSpec``, ``Filters``) each app declares its search by;
- ``warmup``: ``warm_up(name)``, the warm-up after an import.
"""

from core.search.warmup import warm_up

__all__ = ["warm_up"]
