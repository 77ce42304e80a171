"""The pinyin and initials of patient_name (studies.pinyin), filled in and indexed for search.

The columns are added with a constant default by plain ALTER TABLE on both databases: on
PostgreSQL that rewrites nothing, and on SQLite it avoids Django's rebuild of the table, which
would drop the FTS5 triggers of 0005 and renumber the rowids they index. The backfill then
writes the studies whose name has a Chinese character, in batches (studies.pinyin.fill_pinyin)
before the search indexes exist, so that it does not keep them up to date row by row:

- PostgreSQL: a trigram GIN index of the pinyin (the pinyin is lowercase ASCII, so no UPPER()
  as in 0002), created CONCURRENTLY like 0003's;
- SQLite: a contentless FTS5 trigram table of the pinyin alone, kept in step by triggers like
  0005's (its own table, so that the text search's candidates do not grow by every name's
  pinyin);
- both: a B-tree of the initials (``zw``), declared on the model.
"""

from django.db import migrations, models

from studies.pinyin import fill_pinyin

COLUMNS = ("patient_name_pinyin", "patient_name_initials")
# studies.sqlite_search reads these names (a test checks they agree).
PINYIN_FTS_TABLE = "studies_study_pinyin_fts"
PINYIN_TRIGGERS = (
    "studies_study_pinyin_fts_insert",
    "studies_study_pinyin_fts_delete",
    "studies_study_pinyin_fts_update",
)


def add_columns(apps, schema_editor):
    for column in COLUMNS:
        schema_editor.execute(
            f"ALTER TABLE studies_study ADD COLUMN {column} text NOT NULL DEFAULT ''"
        )


def drop_columns(apps, schema_editor):
    for column in COLUMNS:
        schema_editor.execute(f"ALTER TABLE studies_study DROP COLUMN {column}")


def backfill(apps, schema_editor):
    fill_pinyin(schema_editor.connection)


def _sqlite_statements() -> list[str]:
    table, (insert, delete, update) = PINYIN_FTS_TABLE, PINYIN_TRIGGERS
    index = f"INSERT INTO {table} (rowid, patient_name_pinyin) VALUES (new.rowid, new.patient_name_pinyin);"
    unindex = (
        f"INSERT INTO {table} ({table}, rowid, patient_name_pinyin) "
        "VALUES ('delete', old.rowid, old.patient_name_pinyin);"
    )
    changed = "old.rowid IS NOT new.rowid OR old.patient_name_pinyin IS NOT new.patient_name_pinyin"
    return [
        f"CREATE VIRTUAL TABLE {table} USING fts5(patient_name_pinyin, content='', "
        "columnsize=0, detail=none, tokenize='trigram case_sensitive 0')",
        f"INSERT INTO {table} (rowid, patient_name_pinyin) "
        "SELECT rowid, patient_name_pinyin FROM studies_study WHERE patient_name_pinyin != ''",
        f"CREATE TRIGGER {insert} AFTER INSERT ON studies_study BEGIN {index} END",
        f"CREATE TRIGGER {delete} AFTER DELETE ON studies_study BEGIN {unindex} END",
        f"CREATE TRIGGER {update} AFTER UPDATE ON studies_study WHEN {changed} "
        f"BEGIN {unindex} {index} END",
    ]


def create_search_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS study_patient_name_pinyin_trgm "
            "ON studies_study USING gin (patient_name_pinyin gin_trgm_ops)"
        )
    elif vendor == "sqlite":
        drop_search_index(apps, schema_editor)
        for statement in _sqlite_statements():
            schema_editor.execute(statement)


def drop_search_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS study_patient_name_pinyin_trgm")
    elif vendor == "sqlite":
        for trigger in PINYIN_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {PINYIN_FTS_TABLE}")


def _field() -> models.TextField:
    return models.TextField(blank=True, db_default="", default="", editable=False)


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("studies", "0006_text_chars_codepoint")]
    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(add_columns, drop_columns)],
            state_operations=[migrations.AddField("study", column, _field()) for column in COLUMNS],
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AddIndex(
            "study", models.Index(fields=["patient_name_initials"], name="study_initials_idx")
        ),
        migrations.RunPython(create_search_index, drop_search_index),
    ]
