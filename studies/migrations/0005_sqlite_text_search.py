"""An FTS5 trigram index of the searched text fields, for substring search on SQLite.

Without it every text search reads the whole table, once for the count and once for the page.
The index only proposes rows (studies.sqlite_search); LIKE still decides. Each field is indexed
followed by two padding characters, so that every character of the text starts a trigram and
1–2 character terms can be found through the trigrams they begin. Contentless (the text is not
stored twice), keyed by the table's rowid, and kept in step by triggers, so that every writer
(the ORM, the importer's INSERT ... SELECT, raw SQL) updates it. SQLite only.

A later migration that makes Django rebuild studies_study on SQLite (most ALTERs do: new table,
copy, drop, rename) drops these triggers and renumbers rowids: it must run ``create`` again
(tests check that the triggers exist and the index answers like LIKE).
"""

from django.db import migrations

# studies.sqlite_search reads these names (a test checks they agree).
FTS_TABLE = "studies_study_fts"
TERMS_TABLE = "studies_study_fts_terms"
TEXT_COLUMNS = ("patient_name", "exam_item", "exam_description")
TRIGGERS = ("studies_study_fts_insert", "studies_study_fts_delete", "studies_study_fts_update")
# Two U+001F after each field; the delete must pass exactly the values that were indexed.
PAD = "char(31, 31)"


def _values(row: str) -> str:
    return ", ".join(f"coalesce({row}.{column}, '') || {PAD}" for column in TEXT_COLUMNS)


def _statements() -> list[str]:
    columns = ", ".join(TEXT_COLUMNS)
    index = f"INSERT INTO {FTS_TABLE} (rowid, {columns}) VALUES (new.rowid, {_values('new')});"
    unindex = (
        f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, {columns}) "
        f"VALUES ('delete', old.rowid, {_values('old')});"
    )
    changed = " OR ".join(
        ["old.rowid IS NOT new.rowid"] + [f"old.{c} IS NOT new.{c}" for c in TEXT_COLUMNS]
    )
    insert, delete, update = TRIGGERS
    return [
        # detail=none: no positions (a quarter of the size); LIKE checks the order of the
        # trigrams anyway. columnsize=0: no ranking.
        f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5({columns}, content='', columnsize=0, "
        "detail=none, tokenize='trigram case_sensitive 0')",
        # (trigram, rowid) pairs in trigram order: the rows of every trigram with a prefix.
        f"CREATE VIRTUAL TABLE {TERMS_TABLE} USING fts5vocab({FTS_TABLE}, 'instance')",
        f"INSERT INTO {FTS_TABLE} (rowid, {columns}) "
        f"SELECT rowid, {_values('studies_study')} FROM studies_study",
        f"CREATE TRIGGER {insert} AFTER INSERT ON studies_study BEGIN {index} END",
        f"CREATE TRIGGER {delete} AFTER DELETE ON studies_study BEGIN {unindex} END",
        f"CREATE TRIGGER {update} AFTER UPDATE ON studies_study WHEN {changed} "
        f"BEGIN {unindex} {index} END",
    ]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    drop(apps, schema_editor)
    for statement in _statements():
        schema_editor.execute(statement)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for trigger in TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    schema_editor.execute(f"DROP TABLE IF EXISTS {TERMS_TABLE}")
    schema_editor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")


class Migration(migrations.Migration):
    dependencies = [("studies", "0004_order_codepoint_index")]
    operations = [migrations.RunPython(create, drop)]
