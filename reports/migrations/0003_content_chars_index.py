"""A GIN index of the characters of report content, for 1–2 character searches (see
studies/migrations/0003). Created CONCURRENTLY; PostgreSQL only."""

from django.db import migrations

# Must equal reports.selectors.CONTENT_CHARS (a test checks it) for the planner to use it.
CONTENT_CHARS = "regexp_split_to_array(upper(content), '')"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS report_content_chars ON reports_report "
            f"USING gin (({CONTENT_CHARS}))"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS report_content_chars")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("reports", "0002_trigram_index")]
    operations = [migrations.RunPython(create, drop)]
