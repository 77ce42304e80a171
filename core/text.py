"""Text helpers that must behave the same on every database."""

from django.db import connection
from django.db.models import Expression, F
from django.db.models.expressions import OrderBy
from django.db.models.functions import Collate


def in_codepoint_order(expression: Expression) -> Expression:
    """``expression`` compared in Unicode code point order, whatever the database's collation.

    SQLite's default BINARY collation compares UTF-8 bytes, which is code point order already;
    PostgreSQL needs the "C" collation to do the same.
    """
    return Collate(expression, "C") if connection.vendor == "postgresql" else expression


def codepoint_order(field: str, *, descending: bool = False) -> OrderBy:
    """Order by ``field`` in Unicode code point order (``in_codepoint_order``)."""
    expression = in_codepoint_order(F(field))
    return expression.desc() if descending else expression.asc()
