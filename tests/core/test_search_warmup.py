"""core.search.warmup.alongside: a warm-up's statements on a second connection beside its own,
where the database allows (PostgreSQL outside a transaction), else after them."""

import threading

import pytest
from django.db import connection

from core.search import warmup
from tests.factories import StudyFactory


def _counting(seen: dict) -> None:
    seen["thread"] = threading.current_thread().name
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM studies_study")
        seen["rows"] = cursor.fetchone()[0]
    seen.setdefault("order", []).append("work")


@pytest.mark.django_db(transaction=True)
def test_the_work_runs_beside_the_body_on_postgresql_and_after_it_on_sqlite():
    StudyFactory(exam_id="A-1")
    seen: dict = {}
    with warmup.alongside(lambda: _counting(seen)):
        if connection.vendor == "postgresql":
            # The body waits for the work here: both ran at once, the work in its own thread.
            for _ in range(500):
                if "rows" in seen:
                    break
                threading.Event().wait(0.01)
        seen.setdefault("order", []).append("body")
    assert seen["rows"] == 1  # the committed study, seen from the work's connection
    if connection.vendor == "postgresql":
        assert seen["thread"] == "warm-up-alongside"
        assert seen["order"] == ["work", "body"]
    else:
        assert seen["thread"] == threading.current_thread().name
        assert seen["order"] == ["body", "work"]


@pytest.mark.django_db
def test_inside_a_transaction_the_work_runs_after_the_body_and_sees_its_rows():
    StudyFactory(exam_id="A-1")  # not committed: another connection would not see it
    seen: dict = {}
    with warmup.alongside(lambda: _counting(seen)):
        seen.setdefault("order", []).append("body")
    assert (seen["rows"], seen["order"]) == (1, ["body", "work"])
    assert seen["thread"] == threading.current_thread().name


@pytest.mark.parametrize("transaction", [False, True])
def test_an_error_of_the_work_is_raised_on_leaving(transaction, request):
    request.getfixturevalue("transactional_db" if transaction else "db")

    def fails() -> None:
        raise ValueError("the readings could not be counted")

    body = []
    with pytest.raises(ValueError, match="could not be counted"), warmup.alongside(fails):
        body.append("done")
    assert body == ["done"]
