"""The studies' cache writes: the search warm-up after an import."""

from core.search import warm_up


def warm_caches() -> int:
    """Prepare the studies' search for the current data (``core.search.warmup``); returns the
    number of searches prepared."""
    return warm_up("studies")
