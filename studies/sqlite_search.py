"""The studies' SQLite text index (migrations 0005 and 0007): the names of its tables, which
``core.search.backends.sqlite`` reads through the studies' ``TextIndex`` (selectors), and the
rule that leaves it for a walk of the date index when a term's matches are dense."""

from core.search import backends

FTS_TABLE = "studies_study_fts"
TERMS_TABLE = "studies_study_fts_terms"
# The pinyin of the patients' names (migration 0007), in a trigram table of its own.
PINYIN_FTS_TABLE = "studies_study_pinyin_fts"
# A page whose matches are this dense or more walks the date index (LIKE only, as without the
# index): the walk meets ``rows_needed`` matches within about DENSE_RATIO times as many rows,
# where reading every candidate and sorting them would cost about ``total`` row reads.
DENSE_RATIO = 50


def walks_date_index(*, sort: str, total: int, rows_needed: int) -> bool:
    """Whether a text search's page on SQLite walks the date index rather than sort its
    candidates (dense matches); the exact total is known before the page is fetched."""
    return (
        backends.current().NAME == "sqlite"
        and sort.lstrip("-") == "order_datetime"
        and total >= DENSE_RATIO * rows_needed
    )
