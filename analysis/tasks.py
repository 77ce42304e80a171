"""Worker entry points (django-tasks). Thin: the work and its rules live in services."""

from django_tasks import task

from analysis import services


@task()
def run_analysis_task(task_id: str) -> dict[str, str]:
    """Run one analysis task; the outcome is also kept in the queue's result row."""
    return {"task_id": task_id, "outcome": services.analysis_run(task_id=task_id)}
