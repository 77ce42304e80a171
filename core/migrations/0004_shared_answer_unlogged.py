"""The shared answers table unlogged on PostgreSQL.

Its rows are answers any process can compute again from the tables they were computed from:
written to the write-ahead log, each first answer after an import waited for the log's flush
to disk, twice per search (its total and its page). Unlogged, a commit that writes only these
rows does not wait, and a crash empties the table, which costs recomputing, never a wrong
answer (keys carry the data version). SQLite has no such tables: nothing changes there.
"""

from django.db import migrations


def _alter(logged: bool):
    def alter(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                f"ALTER TABLE core_sharedanswer SET {'LOGGED' if logged else 'UNLOGGED'}"
            )

    return alter


class Migration(migrations.Migration):
    dependencies = [("core", "0003_shared_answer")]

    operations = [migrations.RunPython(_alter(logged=False), _alter(logged=True), elidable=False)]
