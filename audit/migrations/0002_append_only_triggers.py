"""The database itself refuses to change audit events (and, on PostgreSQL, to delete them).

The one change allowed is the user link becoming NULL when an account is deleted (the copied
username keeps the trail readable). SQLite keeps DELETE open because Django's test flush empties
tables with DELETE; the application refuses deletes on both databases (AuditEvent.delete and
its queryset).
"""

from django.db import migrations

SQL = {
    "postgresql": (
        [
            """CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND NEW.user_id IS NULL
                   AND (to_jsonb(NEW) - 'user_id') = (to_jsonb(OLD) - 'user_id') THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION 'audit log is append-only';
            END;
            $$ LANGUAGE plpgsql""",
            """CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_auditevent
            FOR EACH ROW EXECUTE FUNCTION audit_append_only()""",
        ],
        [
            "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent",
            "DROP FUNCTION IF EXISTS audit_append_only()",
        ],
    ),
    "sqlite": (
        [
            """CREATE TRIGGER audit_event_no_update BEFORE UPDATE OF
                id, occurred_at, username, ip_address, user_agent, request_id, action, method,
                path, query, object_type, object_ids, result_count, status_code, outcome, detail
            ON audit_auditevent
            BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END""",
            """CREATE TRIGGER audit_event_no_relink BEFORE UPDATE OF user_id ON audit_auditevent
            WHEN NEW.user_id IS NOT NULL
            BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END""",
        ],
        [
            "DROP TRIGGER IF EXISTS audit_event_no_update",
            "DROP TRIGGER IF EXISTS audit_event_no_relink",
        ],
    ),
}


def _run(schema_editor, index: int) -> None:
    statements = SQL.get(schema_editor.connection.vendor)
    for statement in statements[index] if statements else []:
        schema_editor.execute(statement)


def create(apps, schema_editor):
    _run(schema_editor, 0)


def drop(apps, schema_editor):
    _run(schema_editor, 1)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
