"""Translated display labels for the stored codes that the pages show.

The models' choice labels are English only (the API shows codes, not labels); these are the
web UI's, in both languages. A code without a label is shown as stored (e.g. the RIS's own
exam statuses, which are free text).
"""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

LABELS = {
    "gender": {"M": _("Male"), "F": _("Female"), "U": _("Unknown")},
    "role": {
        "viewer": _("Viewer"),
        "analyst": _("Analyst"),
        "admin": _("Administrator"),
        "learner": _("Learner"),
        "instructor": _("Instructor"),
    },
    "report_status": {
        "draft": _("Draft"),
        "submitted": _("Submitted"),
        "reviewed": _("Reviewed"),
        "finalized": _("Finalized"),
    },
    "task_status": {
        "pending": _("Pending"),
        "processing": _("Processing"),
        "completed": _("Completed"),
        "failed": _("Failed"),
        "cancelled": _("Cancelled"),
    },
    "analysis_type": {
        "general": _("General"),
        "detailed": _("Detailed"),
        "comparison": _("Comparison"),
    },
    "analysis_help": {
        "general": _(
            "Timeline and turnaround, report status, impression, positive and negated "
            "findings, critical-result flags."
        ),
        "detailed": _(
            "Every sentence of the report with its findings: negation, uncertainty, "
            "laterality and sizes in millimetres."
        ),
        "comparison": _(
            "Against the same patient's most recent prior study: new, resolved and persistent "
            "findings and size changes."
        ),
    },
    "assertion": {
        "positive": _("Positive"),
        "negated": _("Negated"),
        "uncertain": _("Uncertain"),
    },
    "not_flagged": {
        "negated": _("negated"),
        "uncertain": _("doubtful"),
        "historical": _("old / history"),
        "resolving": _("resolving"),
    },
    "finding_assertion": {
        "present": _("Present"),
        "absent": _("Absent"),
        "uncertain": _("Uncertain"),
    },
    "laterality": {"left": _("Left"), "right": _("Right"), "bilateral": _("Bilateral")},
    "trend": {"increased": _("Increased"), "decreased": _("Decreased"), "stable": _("Stable")},
    "section": {
        "body": _("Text"),
        "findings": _("Findings"),
        "impression": _("Impression"),
        "conclusion": _("Conclusion"),
        "history": _("History"),
        "technique": _("Technique"),
        "comparison": _("Comparison"),
        "recommendation": _("Recommendation"),
    },
    "import_status": {
        "running": _("Running"),
        "succeeded": _("Imported"),
        "dry_run": _("Preview"),
        "rejected": _("Rejected"),
        "conflict": _("Conflict"),
        "failed": _("Failed"),
    },
    "import_kind": {"studies": _("Studies"), "reports": _("Reports")},
    "on_duplicate": {
        "update": _("Update existing records"),
        "skip": _("Skip existing records"),
        "fail": _("Refuse the file if a record exists"),
    },
    "on_invalid": {
        "reject": _("Refuse the whole file if a row is invalid"),
        "skip": _("Import the valid rows; download the rejected ones"),
    },
    "resolved_status": {"negated": _("Now negated"), "not_mentioned": _("Not mentioned")},
    "source": {
        "report": _("Report"),
        "exam_description": _("Exam description (no report text)"),
        "none": _("No text"),
    },
    # The RIS's exam statuses and patient sources, stored as the RIS writes them (Chinese), and
    # the English ones of older data: each shown in the page's language. A context keeps them
    # apart from the same English words elsewhere ("Checked in" is also a column).
    "exam_status": {
        "已预约": pgettext_lazy("exam status", "Scheduled"),
        "已登记": pgettext_lazy("exam status", "Checked in"),
        "已检查": pgettext_lazy("exam status", "Examined"),
        "已报告": pgettext_lazy("exam status", "Reported"),
        "已审核": pgettext_lazy("exam status", "Certified"),
        "已取消": pgettext_lazy("exam status", "Cancelled"),
        "scheduled": pgettext_lazy("exam status", "Scheduled"),
        "pending": pgettext_lazy("exam status", "Pending"),
        "completed": pgettext_lazy("exam status", "Completed"),
        "cancelled": pgettext_lazy("exam status", "Cancelled"),
    },
    "exam_source": {
        "门诊": pgettext_lazy("patient source", "Outpatient"),
        "住院": pgettext_lazy("patient source", "Inpatient"),
        "急诊": pgettext_lazy("patient source", "Emergency"),
        "体检": pgettext_lazy("patient source", "Health check"),
    },
    "interval": {
        "order_to_check_in": _("Order → check-in"),
        "check_in_to_certification": _("Check-in → certification"),
        "order_to_certification": _("Order → certification"),
    },
}


def label(kind: str, code: object) -> str:
    """The label of ``code`` in the active language, or the code itself."""
    if code is None or code == "":
        return ""
    return str(LABELS.get(kind, {}).get(str(code), code))


def choices(kind: str) -> list[tuple[str, str]]:
    return [(code, str(text)) for code, text in LABELS[kind].items()]
