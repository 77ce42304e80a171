"""Every message an import shows, by stable code, in English and through gettext.

A problem is stored and answered as ``{"code", "message", …}``: the code never changes, the
message is the English text (the default) or its translation in the language asked for (the
web page's, or the API's ``Accept-Language``). The English texts are gettext message ids
(``ingest/locale``), so a stored problem (a batch's errors, a rejected row) is shown again in
the reader's language from its code and parameters.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils import translation
from django.utils.translation import gettext_noop

TEXTS: dict[str, str] = {
    # Row errors: the row is not imported.
    "row.invalid_datetime": gettext_noop("Invalid date/time"),
    "row.timezone_offset": gettext_noop("Time zone offsets are not accepted; give the local time"),
    "row.invalid_age": gettext_noop("Invalid age"),
    "row.age_out_of_range": gettext_noop("Age must be between 0 and 150"),
    "row.missing_value": gettext_noop("Missing required value"),
    "row.too_long": gettext_noop("Longer than %(max_length)s characters"),
    "row.not_text": gettext_noop("Expected text, not a list or object"),
    "row.invalid_choice": gettext_noop("Must be one of: %(choices)s"),
    "row.duplicate_key": gettext_noop("Duplicate %(key)s in file (first seen in row %(first)s)"),
    "row.unknown_exam": gettext_noop("Unknown exam_id"),
    "row.already_exists": gettext_noop("Already exists"),
    "row.invalid": "%(message)s",
    # Warnings: the row is imported as the message says.
    "warning.gender_unrecognised": gettext_noop("Not a known gender; stored as unknown (U)"),
    "warning.check_in_before_order": gettext_noop(
        "Check-in is earlier than the order time (%(order)s)"
    ),
    "warning.certified_before_order": gettext_noop(
        "Report certification is earlier than the order time (%(order)s)"
    ),
    "warning.certified_before_check_in": gettext_noop(
        "Report certification is earlier than check-in (%(check_in)s)"
    ),
    "warning.certified_without_physician": gettext_noop(
        "A report certification time without a certifying physician"
    ),
    "warning.submitted_before_created": gettext_noop(
        "Submitted earlier than created (%(created)s)"
    ),
    "warning.reviewed_before_submitted": gettext_noop(
        "Reviewed earlier than submitted (%(submitted)s)"
    ),
    # The import as a whole.
    "import.invalid_rows": gettext_noop(
        "The file has %(rejected)s invalid row(s) (%(errors)s error(s)); nothing was imported"
    ),
    "import.no_rows": gettext_noop("The file has no data rows"),
    "import.conflict": gettext_noop(
        "%(count)s %(key)s(s) already exist and on_duplicate is 'fail'; nothing was imported"
    ),
    "import.missing_columns": gettext_noop("Missing required column(s): %(columns)s"),
    "import.duplicate_columns": gettext_noop(
        "Columns %(columns)s all map to %(field)s; keep only one"
    ),
    "import.too_large": gettext_noop("The file is larger than the %(limit)s MB upload limit"),
    "import.no_rejected_rows": gettext_noop("This import kept no rejected rows"),
    "import.too_many_rejected": gettext_noop(
        "More than %(limit)s invalid rows: fix the file; nothing was imported"
    ),
    "file.unsupported_type": gettext_noop(
        "Unsupported file type %(extension)s: upload %(allowed)s"
    ),
    # A file that cannot be read: the reader's own message (translated when the catalogue has
    # it, see READER_TEXTS), under one code per kind of refusal.
    "file.invalid": "%(message)s",
    "file.too_complex": "%(message)s",
    # The rejected-rows workbook.
    "workbook.problem": gettext_noop("Problem"),
    "workbook.sheet": gettext_noop("Rows not imported"),
}

gettext_noop("%(items)s or %(last)s")

# The readers' fixed refusals, so that the catalogue holds them; their own modules keep the
# texts (ingest.readers), and any message not listed here is shown in English.
READER_TEXTS = (
    gettext_noop("The file is empty"),
    gettext_noop("The file has no header row"),
    gettext_noop("The file could not be read"),
    gettext_noop("The file is not a valid .xlsx workbook"),
    gettext_noop("The file is not a valid .xls workbook"),
    gettext_noop("The .xlsx workbook is damaged or truncated"),
    gettext_noop("The workbook is password-protected"),
    gettext_noop("The workbook is encrypted or not an .xlsx file"),
    gettext_noop("The workbook has no worksheet"),
    gettext_noop("The JSON list is empty"),
)


class Problem(ValueError):
    """A problem found in a cell or a file: its code and parameters; ``str()`` is English."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(TEXTS[code] % params if params else TEXTS[code])
        self.code = code
        self.params = params


def text(code: str, params: dict[str, Any] | None = None) -> str:
    """The message of ``code`` in the active language (gettext)."""
    template = TEXTS.get(code)
    if template is None:
        return str((params or {}).get("message", code))
    if code.startswith("file.") and params and "message" in params and template == "%(message)s":
        return translation.gettext(params["message"])
    if params and "extensions" in params:
        # The list of file types in the reader's language ('.xlsx, .xls or .csv').
        *first, last = params["extensions"]
        joined = translation.gettext("%(items)s or %(last)s") % {
            "items": ", ".join(first),
            "last": last,
        }
        params = {**params, "allowed": joined if first else last}
    return translation.gettext(template) % params if params else translation.gettext(template)


def in_language(language: str | None, code: str, params: dict[str, Any] | None = None) -> str:
    with translation.override(language or "en"):
        return text(code, params)


def localize_problems(problems: Iterable[dict[str, Any]], language: str | None) -> list[dict]:
    """Stored problems (row errors, warnings) with their messages in ``language``; the
    stored parameters are not part of the answer."""
    with translation.override(language or "en"):
        shown = []
        for problem in problems:
            item = {k: v for k, v in problem.items() if k != "params"}
            code = problem.get("code")
            if code:
                item["message"] = text(code, problem.get("params"))
            shown.append(item)
        return shown
