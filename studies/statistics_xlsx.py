"""The department's figures (studies.statistics.study_statistics) as an .xlsx workbook.

A few hundred cells at most, so the workbook is built in memory with XlsxWriter. Text cells are
written as strings (never as formulas, whatever they start with); each sheet has a frozen
header row and an autofilter. Headings are in the active language.
"""

import io
from typing import Any

import xlsxwriter
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from studies.exports import XLSX_CONTENT_TYPE


def _none(value: Any) -> str:
    return _("(none)") if value is None else value


def _sheet(book: Any, name: str, header: list[str], rows: list[list[Any]], widths: list[int]):
    sheet = book.add_worksheet(name)
    bold = book.add_format({"bold": True})
    percent = book.add_format({"num_format": "0.0%"})
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    for col, (title, width) in enumerate(zip(header, widths, strict=True)):
        sheet.write_string(0, col, title, bold)
        sheet.set_column(col, col, width)
    for r, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                sheet.write_string(r, col, value)
            elif isinstance(value, Share):
                sheet.write_number(r, col, value.value, percent)
            elif hasattr(value, "isoformat"):
                sheet.write_datetime(r, col, value, date_format)
            else:
                sheet.write_number(r, col, value)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(rows), 1), len(header) - 1)
    return sheet


class Share:
    """A fraction shown as a percentage."""

    def __init__(self, value: float) -> None:
        self.value = value


def _summary_row(summary: dict[str, Any]) -> list[Any]:
    share = summary["within_limit_share"]
    return [
        summary["certified"],
        summary["median_hours"],
        summary["p90_hours"],
        summary["mean_hours"],
        summary["within_limit"],
        Share(share) if share is not None else None,
    ]


def statistics_workbook(data: dict[str, Any], *, filters: dict[str, Any]) -> bytes:
    """The workbook of ``data`` (and the filters it was computed with, on the first sheet)."""
    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {"in_memory": True})
    turnaround = data["turnaround"]
    summary = [
        [_("Order date from"), data["date_from"]],
        [_("Order date to"), data["date_to"]],
        [_("Status"), filters.get("exam_status") or _("All")],
        [_("Source"), filters.get("exam_source") or _("All")],
        [_("Modality"), filters.get("equipment_type") or _("All")],
        [_("Studies"), data["total"]],
        [_("Certified"), turnaround["certified"]],
        [_("Not certified"), turnaround["uncertified"]],
        [_("Certified before the order (data error)"), turnaround["certified_before_order"]],
        [_("Turnaround limit (hours)"), turnaround["limit_hours"]],
    ]
    _sheet(book, _("Summary"), [_("Figure"), _("Value")], summary, [40, 16])
    turnaround_header = [
        _("Group"),
        _("Value"),
        _("Certified"),
        _("Median (h)"),
        _("90th percentile (h)"),
        _("Mean (h)"),
        _("Within the limit"),
        _("Share within the limit"),
    ]
    rows = [[_("All studies"), None, *_summary_row(turnaround["overall"])]]
    rows += [
        [_("Modality"), _none(g["equipment_type"]), *_summary_row(g)]
        for g in turnaround["by_modality"]
    ]
    rows += [[_("Source"), g["exam_source"], *_summary_row(g)] for g in turnaround["by_source"]]
    _sheet(book, _("Turnaround"), turnaround_header, rows, [14, 16, 10, 12, 18, 10, 16, 20])
    modalities = [_none(m) for m in data["modalities"]]
    period_rows = [
        [p["start"], p["end"], *[c["count"] for c in p["counts"]], p["total"]]
        for p in data["periods"]
    ]
    _sheet(
        book,
        _("Studies per period"),
        [_("From"), _("To"), *modalities, _("Total")],
        period_rows,
        [12, 12, *[10] * len(modalities), 10],
    )
    _sheet(
        book,
        _("Exam status"),
        [_("Status"), _("Studies")],
        [[s["exam_status"], s["count"]] for s in data["statuses"]],
        [24, 10],
    )
    _sheet(
        book,
        _("Turnaround histogram"),
        [_("From (h)"), _("To (h)"), _("Studies")],
        [[b["from_hours"], b["to_hours"], b["count"]] for b in turnaround["buckets"]],
        [10, 10, 10],
    )
    book.close()
    return output.getvalue()


def statistics_response(data: dict[str, Any], *, filters: dict[str, Any]) -> HttpResponse:
    response = HttpResponse(
        statistics_workbook(data, filters=filters), content_type=XLSX_CONTENT_TYPE
    )
    name = timezone.localtime().strftime("statistics_%Y%m%d_%H%M%S.xlsx")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
