"""The warm-up after an import: what the first searches of the new data ask for, computed
before anyone asks (``warm_up``, called by ingest and by ``manage.py warm_caches``)."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial

from django.db import connection, connections

from core.cache import data_version, tidy
from core.search import backends
from core.search.pages import bookmarks
from core.search.spec import spec_of


def warm_up(name: str) -> int:
    """Compute, for the current data of the search ``name``, what its backend plans pages by
    (PostgreSQL: the edges of the date walk's windows), the bookmarks where deep pages of the
    unfiltered list start (where its spec pages from them), then the app's own part
    (``SearchSpec.warm``: filter lists, counts, first pages), so that no user waits for a count
    over the whole table; the app's ``warm_beside`` meanwhile on a second connection
    (``alongside``). Returns the number of searches the app prepared."""
    spec = spec_of(name)
    version = data_version(name)
    with alongside(partial(spec.warm_beside, version)):
        backends.current().warm_up(spec.model, field=spec.date_field, data=name, version=version)
        if spec.bookmarks:
            bookmarks(
                spec.model, field=spec.date_field, descending=True, data=name, version=version
            )
        prepared = spec.warm(version)
    tidy()  # the older version's answers were removed by the first answer stored above
    return prepared


@contextmanager
def alongside(work: Callable[[], object]) -> Iterator[None]:
    """Run ``work`` (steps of a warm-up that PostgreSQL spends its time on, one statement
    each) on a second connection, in a thread, while the body goes on with its own steps;
    wait for it on leaving. Where the database answers one session at a time (SQLite), or
    inside a transaction (whose rows a second connection would not see), ``work`` runs after
    the body instead. An error of ``work`` is raised on leaving."""
    if not backends.current().CONCURRENT_SESSIONS or connection.in_atomic_block:
        yield
        work()
        return
    failed: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # raised again in the caller's thread
            failed.append(exc)
        finally:
            connections.close_all()  # this thread's connections only

    thread = threading.Thread(target=run, name="warm-up-alongside")
    thread.start()
    try:
        yield
    finally:
        thread.join()
    if failed:
        raise failed[0]
