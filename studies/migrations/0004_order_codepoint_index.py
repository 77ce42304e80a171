"""The newest-first order with its exam_id tie-break in code point order, as one index.

Searches order by order_datetime DESC, then exam_id COLLATE "C" (code point order, whatever
the database's collation: core.text.codepoint_order). The (order_datetime DESC, exam_id)
index of 0001 serves the first key only, so PostgreSQL re-sorted every group of equal
timestamps and had to read the whole prefix of the table for a deep page (docs/performance.md).
With the tie-break's collation in the index, a page is an index-only scan. Created
CONCURRENTLY so that adding it does not block a running database. PostgreSQL only: SQLite's
BINARY collation is code point order already, which 0001's index serves.
"""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS study_order_dt_cp_idx ON studies_study "
            '(order_datetime DESC, exam_id COLLATE "C")'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS study_order_dt_cp_idx")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("studies", "0003_text_chars_index")]
    operations = [migrations.RunPython(create, drop)]
