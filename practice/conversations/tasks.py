"""The worker's entry (django-tasks): thin, the rules live in ``services.run_produce``."""

from django_tasks import task

from practice.conversations import services

# Above the default (0): a learner is waiting for this reply, an analysis report is not urgent.
REPLY_PRIORITY = 50


@task(priority=REPLY_PRIORITY)
def produce_reply_task(run_id: str) -> dict[str, str]:
    """Produce one run's patient reply; the outcome is also kept in the queue's result row."""
    return {"run_id": run_id, "outcome": services.run_produce(run_id=run_id)}
