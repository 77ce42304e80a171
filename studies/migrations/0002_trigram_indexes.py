"""Trigram GIN indexes for the substring search on PostgreSQL (no-op on SQLite).

Django's icontains on PostgreSQL compares UPPER(column) LIKE UPPER(pattern), so the indexes are
on UPPER(column) to be usable by that exact expression.
"""

from django.db import migrations

TEXT_COLUMNS = ("patient_name", "exam_item", "exam_description")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in TEXT_COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS study_{column}_trgm ON studies_study "
            f"USING gin (UPPER({column}) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in TEXT_COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS study_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("studies", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
