"""The examination name a report's findings were read with (its study's exam_item and
equipment_type), so that a studies import that renames an examination makes its reports'
findings stale (reports.findings.stale_reports).

The rows already there get '' for both: what they were read with is not known (the study may
have been renamed since), so the next reading reads every report once again, as after a lexicon
change. Queue it after migrating: ``manage.py extract_report_findings --queue``.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0005_finding_report_index_dropped"),
    ]

    operations = [
        migrations.AddField(
            model_name="reportfindingsource",
            name="exam_item",
            field=models.CharField(default="", max_length=100),
        ),
        migrations.AddField(
            model_name="reportfindingsource",
            name="equipment_type",
            field=models.CharField(default="", max_length=50),
        ),
    ]
