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


class FindingAssertion(models.TextChoices):
    PRESENT = "present", "Present"
    ABSENT = "absent", "Absent"
    UNCERTAIN = "uncertain", "Uncertain"


class ReportFinding(models.Model):
    """A finding of a report as the report analysis reads it (nlp), for search by
    finding: one row per report, finding key and assertion, with the largest current size of
    its mentions. Written by ``reports.findings.refresh_report_findings`` (at import, and by
    ``manage.py extract_report_findings``); never edited by hand."""

    # No index of its own: the unique (report, key, assertion) index starts with report_id and
    # serves every lookup by report (a report's rows, the refresh's delete, the cascade).
    report = models.ForeignKey(
        Report, on_delete=models.CASCADE, related_name="findings", db_index=False
    )
    key = models.CharField(max_length=50)
    assertion = models.CharField(max_length=10, choices=FindingAssertion.choices)
    max_mm = models.FloatField(null=True, blank=True)
    # The report's created_at, so that a page of a finding's reports, newest first, is read
    # from this table's index alone.
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["report", "key", "assertion"], name="report_finding_unique"
            )
        ]
        indexes = [
            # max_mm included (PostgreSQL): a page with a least size is read from the index.
            models.Index(
                fields=["key", "assertion", "-created_at", "report"],
                name="report_finding_search_idx",
                include=["max_mm"],
            ),
            models.Index(fields=["key", "assertion", "max_mm"], name="report_finding_size_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.report_id}: {self.key} {self.assertion}"


class ReportFindingSource(models.Model):
    """Which version of a report its findings were read from: the report's ``updated_at``, the
    analysis lexicon's fingerprint and its study's examination name (item and equipment, which
    give region-bound findings their region). A report whose row differs is read again."""

    report = models.OneToOneField(
        Report, on_delete=models.CASCADE, primary_key=True, related_name="finding_source"
    )
    report_updated_at = models.DateTimeField()
    lexicon = models.CharField(max_length=12)
    # The study's exam_item and equipment_type as read ('' for none): a studies import that
    # renames the examination makes the report's findings stale.
    exam_item = models.CharField(max_length=100, default="")
    equipment_type = models.CharField(max_length=50, default="")
    extracted_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.report_id} ({self.lexicon})"
