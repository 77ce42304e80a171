from django.contrib import admin

from analysis.models import AnalysisTask
from audit.admin import AuditedAdmin


@admin.register(AnalysisTask)
class AnalysisTaskAdmin(AuditedAdmin):
    """Browse-only (AuditedAdmin): tasks are created and cancelled through the audited API."""

    audit_object_type = "analysis_task"

    list_display = (
        "task_id",
        "study",
        "analysis_type",
        "status",
        "progress",
        "attempts",
        "created_by_username",
        "created_at",
        "completed_at",
    )
    list_filter = ("status", "analysis_type")
    search_fields = ("=task_id", "=study__exam_id", "created_by_username")
    raw_id_fields = ("study", "created_by")
    show_full_result_count = False
