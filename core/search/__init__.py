"""Search's one home: the rules the studies and reports searches share.

- ``query``: what a term is (caseless, long enough for the trigram indexes);
- ``counts``: a search's total (grouped, counted with its first page, or cached), character
  counts;
- ``plan``: the one plan chain of every search (``search``);
- ``pages``: the deep pages from bookmarks;
- ``rendered``: the rendered answers, cached as bytes per data version;
- ``spec``: the contract (``SearchSpec``, ``Filters``) each app declares its search by;
- ``warmup``: ``warm_up(name)``, the warm-up after an import;
- ``backends``: PostgreSQL's and SQLite's sides, same function names, chosen once.
"""

from core.search.warmup import warm_up

__all__ = ["warm_up"]
