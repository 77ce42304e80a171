"""A GIN index of the characters of the searched text fields, for 1–2 character searches.

pg_trgm needs three characters, and Chinese names are often searched by one or two (a surname,
a given name); without this index such a search reads the whole table. Created CONCURRENTLY so
that adding it to a running database does not block imports. PostgreSQL only.
"""

from django.db import migrations

# The expression of its time; 0006 replaced the index by one that builds faster.
TEXT_CHARS = (
    "regexp_split_to_array(upper(coalesce(patient_name, '') || coalesce(exam_item, '') "
    "|| coalesce(exam_description, '')), '')"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS study_text_chars ON studies_study "
            f"USING gin (({TEXT_CHARS}))"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS study_text_chars")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("studies", "0002_trigram_indexes")]
    operations = [migrations.RunPython(create, drop)]
