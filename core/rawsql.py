"""Model instances from hand-written SQL, for the few queries that run on every request.

Django compiles a QuerySet to SQL on every call; for a one-row lookup that compilation costs
more CPU than the database spends answering. These helpers write the column list once and
still apply the backend's converters (SQLite returns datetimes as text, booleans as 0/1), so
the instances are the same as the ORM's.
"""

import functools
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, connections
from django.db.models import Model
from django.db.models.sql import Query


@functools.cache
def columns(model: type[Model], alias: str) -> str:
    """Every concrete column of ``model``, qualified by the table alias, in field order."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(f.column)}" for f in model._meta.concrete_fields)


@functools.cache
def _fields(model: type[Model]) -> tuple[list, list[str]]:
    fields = model._meta.concrete_fields
    return [f.get_col(model._meta.db_table) for f in fields], [f.attname for f in fields]


def _converters(model: type[Model]) -> tuple[Any, dict]:
    # Worked out once per model and connection (a process has one per thread): asking every
    # field for its converters cost as much as the query.
    real = connections[connection.alias]  # this thread's connection, not the shared proxy
    cache = real.__dict__.setdefault("_rawsql_converters", {})
    if model not in cache:
        compiler = Query(model).get_compiler(connection=real)
        cache[model] = (compiler, compiler.get_converters(_fields(model)[0]))
    return cache[model]


def instances(model: type[Model], rows: Iterable[Sequence]) -> list[Model]:
    """Instances of ``model`` from rows holding ``columns(model, ...)`` in that order."""
    compiler, converters = _converters(model)
    if converters:
        rows = compiler.apply_converters(rows, converters)
    names = _fields(model)[1]
    return [model.from_db(connection.alias, names, row) for row in rows]


def fetch(model: type[Model], sql: str, params: Sequence) -> list[Model]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return instances(model, rows)


@functools.cache
def _select_by_sql(model: type[Model], column: str) -> str:
    quote = connection.ops.quote_name
    return (
        f"SELECT {columns(model, 't')} FROM {quote(model._meta.db_table)} t "
        f"WHERE t.{quote(column)} = %s"
    )


def fetch_by(model: type[Model], column: str, value: Any) -> list[Model]:
    """The rows of ``model`` whose ``column`` equals ``value``."""
    return fetch(model, _select_by_sql(model, column), [value])


@functools.cache
def _insert_sql(model: type[Model]) -> tuple[str, list]:
    quote = connection.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} "
        f"({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    return sql, fields


def insert(instance: Model) -> None:
    """INSERT ``instance`` (auto primary key) with its fields' prepared values: what
    ``save(force_insert=True)`` does, without compiling the statement anew on every call.
    No save signals are sent."""
    sql, fields = _insert_sql(type(instance))
    values = [f.get_db_prep_save(f.pre_save(instance, add=True), connection) for f in fields]
    with connection.cursor() as cursor:
        if connection.features.can_return_columns_from_insert:
            cursor.execute(
                sql + " RETURNING " + connection.ops.quote_name(type(instance)._meta.pk.column),
                values,
            )
            instance.pk = cursor.fetchone()[0]
        else:
            cursor.execute(sql, values)
            instance.pk = cursor.lastrowid
    instance._state.adding = False
    instance._state.db = connection.alias
