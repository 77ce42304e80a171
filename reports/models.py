"""Radiology reports: the free text radiologists write for a study."""

from django.db import models
from django.utils import timezone

from studies.models import Study


class ReportStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    REVIEWED = "reviewed", "Reviewed"
    FINALIZED = "finalized", "Finalized"


class Report(models.Model):
    """A report of a study. ``created_at`` defaults to now but keeps an imported file's value."""

    report_id = models.CharField(max_length=50, primary_key=True)
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="reports")
    radiologist = models.CharField(max_length=200, blank=True)
    content = models.TextField()
    status = models.CharField(max_length=20, choices=ReportStatus.choices)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["-created_at", "report_id"], name="report_created_idx"),
            models.Index(fields=["status", "-created_at"], name="report_status_idx"),
            models.Index(fields=["radiologist", "-created_at"], name="report_radiologist_idx"),
            models.Index(fields=["study", "-created_at"], name="report_study_idx"),
        ]

    def __str__(self) -> str:
        return self.report_id
