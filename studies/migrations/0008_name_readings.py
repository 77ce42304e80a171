"""The readings of the patients' names with their numbers of studies (studies.models.NameReading),
filled by the search warm-up after each import; on PostgreSQL a trigram GIN index of the pinyin,
as migration 0007 gave the studies' pinyin (SQLite reads the narrow table whole).

The studies' data version is bumped: the character counts the warm-up stored before this
release hold no pairs of Latin letters, and a search would read their absence as "in no text"
(studies.selectors). Run ``manage.py warm_caches`` after migrating, as after an import.
"""

from django.db import migrations, models
from django.db.models import F


def bump_studies_version(apps, schema_editor):
    apps.get_model("core", "DataVersion").objects.filter(name="studies").update(
        version=F("version") + 1
    )


def create_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS reading_pinyin_trgm "
            "ON studies_namereading USING gin (pinyin gin_trgm_ops)"
        )


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS reading_pinyin_trgm")


class Migration(migrations.Migration):
    dependencies = [("studies", "0007_patient_name_pinyin"), ("core", "0003_shared_answer")]
    operations = [
        migrations.CreateModel(
            name="NameReading",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("pinyin", models.TextField()),
                ("initials", models.TextField()),
                ("studies", models.PositiveIntegerField()),
            ],
            options={
                "indexes": [models.Index(fields=["initials"], name="reading_initials_idx")],
                "constraints": [
                    models.UniqueConstraint(fields=["pinyin", "initials"], name="reading_unique")
                ],
            },
        ),
        migrations.RunPython(create_trigram_index, drop_trigram_index),
        migrations.RunPython(bump_studies_version, migrations.RunPython.noop),
    ]
