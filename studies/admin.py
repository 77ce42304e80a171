from django.contrib import admin

from audit.admin import AuditedAdmin
from studies.models import Study


@admin.register(Study)
class StudyAdmin(AuditedAdmin):
    """Browse-only: studies enter through the audited importer, never by hand."""

    audit_object_type = "study"

    list_display = (
        "exam_id",
        "patient_name",
        "exam_status",
        "exam_source",
        "exam_item",
        "order_datetime",
    )
    list_filter = ("exam_status", "exam_source", "equipment_type")
    search_fields = ("=exam_id", "=medical_record_no", "patient_name")
    date_hierarchy = "order_datetime"
    show_full_result_count = False
