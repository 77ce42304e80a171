"""Triggers that bump core_dataversion on every write to the versioned tables.

PostgreSQL bumps once per statement (cheap for bulk imports); SQLite has only row triggers,
which cost a few microseconds per written row. The bump is an upsert so that it also works
after the counter rows were removed (e.g. by a test flush).
"""

from django.db import migrations

TABLES = {"studies": "studies_study", "reports": "reports_report"}


def _statements(vendor: str) -> tuple[list[str], list[str]]:
    create, drop = [], []
    if vendor == "postgresql":
        create.append(
            """CREATE OR REPLACE FUNCTION core_bump_data_version() RETURNS trigger AS $$
            BEGIN
                INSERT INTO core_dataversion (name, version) VALUES (TG_ARGV[0], 1)
                ON CONFLICT (name) DO UPDATE SET version = core_dataversion.version + 1;
                RETURN NULL;
            END;
            $$ LANGUAGE plpgsql"""
        )
        for name, table in TABLES.items():
            create.append(
                f"CREATE TRIGGER {table}_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION core_bump_data_version('{name}')"
            )
            drop.append(f"DROP TRIGGER IF EXISTS {table}_data_version ON {table}")
        drop.append("DROP FUNCTION IF EXISTS core_bump_data_version()")
    elif vendor == "sqlite":
        for name, table in TABLES.items():
            for event in ("INSERT", "UPDATE", "DELETE"):
                trigger = f"{table}_data_version_{event.lower()}"
                create.append(
                    f"CREATE TRIGGER {trigger} AFTER {event} ON {table} BEGIN "
                    f"INSERT INTO core_dataversion (name, version) VALUES ('{name}', 1) "
                    "ON CONFLICT (name) DO UPDATE SET version = version + 1; END"
                )
                drop.append(f"DROP TRIGGER IF EXISTS {trigger}")
    return create, drop


def create(apps, schema_editor):
    DataVersion = apps.get_model("core", "DataVersion")
    for name in TABLES:
        DataVersion.objects.get_or_create(name=name)
    for statement in _statements(schema_editor.connection.vendor)[0]:
        schema_editor.execute(statement)


def drop(apps, schema_editor):
    for statement in _statements(schema_editor.connection.vendor)[1]:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("studies", "0002_trigram_indexes"),
        ("reports", "0002_trigram_index"),
    ]
    operations = [migrations.RunPython(create, drop)]
