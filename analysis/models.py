"""Analysis tasks: a request to analyse a study's reports, run later by a background worker."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from studies.models import Study


class AnalysisType(models.TextChoices):
    GENERAL = "general", "General analysis"
    DETAILED = "detailed", "Detailed analysis"
    COMPARISON = "comparison", "Comparison analysis"


class TaskStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSING = "processing", "Processing"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


# A task in one of these states can still be cancelled; the others are final.
ACTIVE_STATUSES = (TaskStatus.PENDING, TaskStatus.PROCESSING)


def new_task_id() -> str:
    return uuid.uuid4().hex


class AnalysisTask(models.Model):
    """One analysis of one study, from request to result.

    The worker moves it pending -> processing -> completed / failed; a user may cancel it while
    it is pending or processing. ``attempts`` counts the workers that claimed it and doubles as
    a fencing token: every write of a run is conditional on ``status='processing'`` and the
    attempt it claimed, so a cancelled or re-queued task never receives a late result.
    ``heartbeat_at`` is renewed at every step; a processing task whose heartbeat is older than
    ``ANALYSIS_STALE_SECONDS`` belongs to a worker that died and is recovered.
    """

    task_id = models.CharField(max_length=50, primary_key=True, default=new_task_id, editable=False)
    # The composite index below (study, -created_at) serves lookups by study.
    study = models.ForeignKey(
        Study, on_delete=models.CASCADE, related_name="analysis_tasks", db_index=False
    )
    analysis_type = models.CharField(max_length=20, choices=AnalysisType.choices)
    status = models.CharField(max_length=20, choices=TaskStatus.choices, default=TaskStatus.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)
    description = models.TextField(blank=True)
    result = models.JSONField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    # The error's code and parameters (nlp.messages), to say it in the reader's
    # language; empty for tasks that failed before codes existed.
    error_code = models.CharField(max_length=50, blank=True)
    error_params = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Copied so that the trail stays readable when the account is removed.
    created_by_username = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    # Execution bookkeeping, not part of the API.
    attempts = models.PositiveSmallIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    worker_id = models.CharField(max_length=100, blank=True)
    queue_result_id = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["-created_at", "task_id"], name="analysis_created_idx"),
            models.Index(fields=["status", "-created_at"], name="analysis_status_idx"),
            models.Index(fields=["analysis_type", "-created_at"], name="analysis_type_idx"),
            models.Index(fields=["study", "-created_at"], name="analysis_study_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__gte=0) & Q(progress__lte=100),
                name="analysis_progress_range",
            ),
            models.CheckConstraint(
                condition=Q(status__in=TaskStatus.values), name="analysis_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(analysis_type__in=AnalysisType.values), name="analysis_type_valid"
            ),
            # The database itself guarantees that only a completed task carries a result:
            # a cancelled (or failed) one never does, whatever races a worker loses.
            models.CheckConstraint(
                condition=Q(status=TaskStatus.COMPLETED) | Q(result__isnull=True),
                name="analysis_result_only_when_completed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} {self.analysis_type} {self.status}"

    def may_be_cancelled_by(self, user: object) -> bool:
        """Only the analyst who started a task, or an admin, may cancel it (not a colleague)."""
        if not getattr(user, "is_authenticated", False):
            return False
        return user.has_role("admin") or (
            self.created_by_id is not None and self.created_by_id == user.pk
        )
