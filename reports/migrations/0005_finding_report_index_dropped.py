"""The findings table's own index on report_id, and its varchar_pattern_ops twin (PostgreSQL),
are dropped: the unique (report_id, key, assertion) index starts with report_id and serves every
lookup by report (a report's rows, the refresh's delete, a report's cascade), and nothing
matches report_id by pattern. EXPLAIN before and after: the commit that adds this migration.

Only the two indexes are dropped: the generated AlterField would also drop and re-add the
foreign key on PostgreSQL (checking every row again) and rebuild the table on SQLite.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "reports_reportfinding"
INDEX = "reports_reportfinding_report_id_3aaef70c"


def _drop(apps, schema_editor):
    for name in (INDEX, f"{INDEX}_like"):
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def _create(apps, schema_editor):
    schema_editor.execute(f'CREATE INDEX "{INDEX}" ON "{TABLE}" ("report_id")')
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX "{INDEX}_like" ON "{TABLE}" ("report_id" varchar_pattern_ops)'
        )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0004_report_findings"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="reportfinding",
                    name="report",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="findings",
                        to="reports.report",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(_drop, _create)],
        ),
    ]
