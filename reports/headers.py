"""The column headers of a reports workbook, each field's first the one an export writes: owned
by reports, read by the reports import (ingest.rows) and written by the export (reports.exports),
as studies.ris is for the studies."""

REPORT_HEADERS: dict[str, tuple[str, ...]] = {
    "report_id": ("报告ID", "报告号"),
    "exam_id": ("检查号", "检查ID"),
    "radiologist": ("报告医生",),
    "content": ("报告内容",),
    "status": ("报告状态",),
    "created_at": ("创建时间",),
    "submitted_at": ("提交时间",),
    "reviewed_at": ("审核时间",),
}
