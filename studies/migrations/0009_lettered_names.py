"""The patient names that have a letter, with their readings and numbers of studies
(studies.models.LetteredName), filled with the name readings by the search warm-up after each
import; on PostgreSQL a trigram GIN index of UPPER(name), the expression the search's
case-insensitive match uses.

The studies' data version is bumped: the warm-up's mark that the readings are current would
otherwise also vouch for this empty table. Run ``manage.py warm_caches`` after migrating, as
after an import.
"""

import importlib

from django.db import migrations, models

# The bump of migration 0008, for the same reason.
bump_studies_version = importlib.import_module(
    "studies.migrations.0008_name_readings"
).bump_studies_version

INDEX = (
    "CREATE INDEX IF NOT EXISTS lettered_name_trgm "
    "ON studies_letteredname USING gin (UPPER(name) gin_trgm_ops)"
)


def trigram_index(statement: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("studies", "0008_name_readings")]
    operations = [
        migrations.CreateModel(
            name="LetteredName",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.TextField()),
                ("pinyin", models.TextField()),
                ("initials", models.TextField()),
                ("studies", models.PositiveIntegerField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=["name", "pinyin", "initials"], name="lettered_name_unique"
                    )
                ],
            },
        ),
        migrations.RunPython(
            trigram_index(INDEX), trigram_index("DROP INDEX IF EXISTS lettered_name_trgm")
        ),
        migrations.RunPython(bump_studies_version, migrations.RunPython.noop),
    ]
