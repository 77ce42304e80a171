"""Worker entry points (django-tasks). Thin: the work and its rules live in services."""

from typing import Any

from django_tasks import task

from reports import services


@task()
def read_report_findings_task() -> dict[str, Any]:
    """Read the findings of the reports imported since the last reading (search by finding)."""
    return services.findings_read()
