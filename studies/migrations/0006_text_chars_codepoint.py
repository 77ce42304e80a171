"""The character index of 0003 split with string_to_array and compared in code point order.

Same characters per row, same searches, same plans (a count of 王伟 over a million studies
takes the same time either way); building it is faster (docs/performance.md, "Figures behind
choices in the code"), which an import into an empty table pays (it builds the table's GIN indexes after its rows). The gain is the comparison:
under the database's collation (C.UTF-8 here, often en_US.UTF-8) every comparison of two
characters goes through strcoll, under "C" it is a byte comparison. upper() still runs in
the database's collation, so that é is found by É as before. The new index is built before
the old one goes, CONCURRENTLY, so that searches keep an index and imports are not blocked.
PostgreSQL only.
"""

from django.db import migrations

# Must equal studies.selectors.TEXT_CHARS (a test checks it) for the planner to use the index.
TEXT_CHARS = (
    "string_to_array(upper(coalesce(patient_name, '') || coalesce(exam_item, '') "
    "|| coalesce(exam_description, '')) COLLATE \"C\", NULL)"
)
OLD_TEXT_CHARS = (
    "regexp_split_to_array(upper(coalesce(patient_name, '') || coalesce(exam_item, '') "
    "|| coalesce(exam_description, '')), '')"
)


def _replace(schema_editor, old_name: str, new_name: str, expression: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {new_name} ON studies_study "
        f"USING gin (({expression}))"
    )
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {old_name}")


def forward(apps, schema_editor):
    _replace(schema_editor, "study_text_chars", "study_text_chars_cp", TEXT_CHARS)


def backward(apps, schema_editor):
    _replace(schema_editor, "study_text_chars_cp", "study_text_chars", OLD_TEXT_CHARS)


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("studies", "0005_sqlite_text_search")]
    operations = [migrations.RunPython(forward, backward)]
