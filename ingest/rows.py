"""The declared column schemas of the imports, and the normalisers that turn cells into values.

Pure (of Django only the translation markers, through ingest.messages). ``map_headers`` matches a file's header row to a schema; ``validate_rows``
normalises each data row into a ``{field: value}`` dict and collects row errors in the API's
shape ``{"row", "column", "value", "message"}``, where ``column`` is the header as written in
the file and ``value`` the cell as text. Datetimes come out naive: they are wall-clock times
of the hospital, and the service makes them aware in ``TIME_ZONE``.

Each normaliser takes one cell value and returns the field value (``None`` for an empty
cell) or raises ``Problem`` (a ``ValueError``) with the message's code and parameters; row
errors and warnings carry that ``code`` (and ``params``) beside the English ``message``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from ingest.messages import Problem
from reports.headers import REPORT_HEADERS
from studies.ris import RIS_HEADERS

MAX_REPORTED_ERRORS = 1_000
# The most invalid rows a partial import keeps for its workbook (their cells are held in memory
# and stored on the batch); a file with more is refused as a whole.
MAX_KEPT_REJECTED = 100_000

INVALID_DATETIME = "row.invalid_datetime"
INVALID_AGE = "row.invalid_age"
AGE_OUT_OF_RANGE = "row.age_out_of_range"
MISSING_VALUE = "row.missing_value"
TIMEZONE_NOT_ACCEPTED = "row.timezone_offset"

REPORT_STATUSES = ("draft", "submitted", "reviewed", "finalized")

# The study export prefixes a quote to cells a spreadsheet would run as a formula
# (studies/exports.py); the quote goes again on import so that an export round-trips.
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
# C0 controls other than tab, newline and carriage return, and DEL: invisible, refused by
# PostgreSQL (NUL) or by XML (an export to .xlsx), so they are dropped rather than stored.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# --- normalisers ----------------------------------------------------------------------


def cell_text(value: Any) -> str:
    """A cell as a person would read it; used for error reports and text fields."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            # A number typed into a text column (an exam ID, a record number) reads 1234.0.
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


def normalize_text(value: Any, *, max_length: int | None = None) -> str | None:
    """Trimmed text; empty → None. Control characters are removed, length is checked."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value
    elif isinstance(value, dict | list):
        raise Problem("row.not_text")
    else:
        text = cell_text(value)
    # isprintable() is False for every control character (and for some harmless ones), so
    # the regex only runs on the few cells that may hold one.
    text = (text if text.isprintable() else _CONTROL_CHARS.sub("", text)).strip()
    if text[:1] == "'" and text[1:2] in _FORMULA_TRIGGERS:
        text = text[1:].strip()
    if not text:
        return None
    if max_length is not None and len(text) > max_length:
        raise Problem("row.too_long", max_length=max_length)
    return text


_MALE = {"男", "m", "male", "男性"}
_FEMALE = {"女", "f", "female", "女性"}


def normalize_gender(value: Any) -> str | None:
    """男/Male/M → 'M', 女/Female/F → 'F', any other text (未知, Unknown, …) → 'U'."""
    text = normalize_text(value)
    if text is None:
        return None
    key = unicodedata.normalize("NFKC", text).strip().casefold()
    if key in _MALE:
        return "M"
    if key in _FEMALE:
        return "F"
    return "U"


_YEARS = r"(?:岁|周岁|y|yr|yrs|year|years)"
_SUB_YEAR = (
    r"(?:个月|月|m|mo|mos|month|months|天|日|d|day|days|周|w|wk|wks|week|weeks|h|小时|hour|hours)"
)
# Sub-year parts only after a years unit: '12月' is twelve months (0 years), not 1 year 2 months.
_AGE_YEARS = re.compile(rf"(-?\d+)(?:\.0+)?(?:\s*{_YEARS}(?:\s*\d+\s*{_SUB_YEAR})*)?")
# What a RIS writes when the age is not known; read as no age rather than rejecting the file.
_AGE_UNKNOWN = {"-", "--", "/", "?", "未知", "不详", "unknown", "n/a", "na"}
_AGE_UNDER_A_YEAR = re.compile(rf"\d+(?:\.\d+)?\s*{_SUB_YEAR}(?:\s*\d+\s*{_SUB_YEAR})*")


def normalize_age(value: Any) -> int | None:
    """Whole years: 45, 45.0, '45', '45岁', '45Y', '1岁3月'; '3月', '3M', '5天', '2周' → 0."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise Problem(INVALID_AGE)
    if isinstance(value, int | float):
        if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
            raise Problem(INVALID_AGE)
        return _age_in_range(int(value))
    if not isinstance(value, str):
        raise Problem(INVALID_AGE)
    text = unicodedata.normalize("NFKC", value).strip().casefold()
    if not text or text in _AGE_UNKNOWN:
        return None
    match = _AGE_YEARS.fullmatch(text)
    if match:
        return _age_in_range(int(match.group(1)))
    if _AGE_UNDER_A_YEAR.fullmatch(text):
        return 0
    raise Problem(INVALID_AGE)


def _age_in_range(age: int) -> int:
    if not 0 <= age <= 150:
        raise Problem(AGE_OUT_OF_RANGE)
    return age


_EXCEL_EPOCH = datetime(1899, 12, 30)
_EXCEL_MAX_SERIAL = 2_958_465  # 9999-12-31
# 1927-05-18. A smaller number in a date column (an age, a year, a count) is a mistake, and
# reading it as a day of 1900 would store garbage without a word.
_EXCEL_MIN_SERIAL = 10_000
_SERIAL_TEXT = re.compile(r"\d{5,7}(?:\.\d+)?")
# Matched against NFKC-normalised text (full-width digits and colons become ASCII).
_DATETIME_TEXT = re.compile(
    r"(?P<y>\d{4})\s*(?:[-/.]|年)\s*(?P<m>\d{1,2})\s*(?:[-/.]|月)\s*(?P<d>\d{1,2})\s*日?"
    r"(?:(?:\s*t\s*|\s+|(?<=日))"
    r"(?P<H>\d{1,2})\s*(?::|时|点|點)\s*(?P<M>\d{1,2})"
    r"(?:\s*:\s*(?P<S>\d{1,2})(?:\.\d+)?|\s*分(?:\s*(?P<S2>\d{1,2})\s*秒)?)?)?"
    r"(?P<tz>\s*(?:z|[+-]\d{2}:?\d{2}))?",
    re.IGNORECASE,
)
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?")


def normalize_datetime(value: Any) -> datetime | None:
    """A naive datetime, to the second.

    Accepts Excel date cells, Excel serial numbers (1900 date system, from 10000 =
    1927-05-18, also as text such as ``45967.4375``), and text:
    ``2025-11-06 10:30:00``, ``2025-11-06 10:30``, ``2025/11/06 10:30``, ``2025-11-06``,
    ``2025/11/06``, ``2025-11-06T10:30:00``, ``2025年11月06日 10:30``, and the compact
    ``20251106``, ``202511061030``, ``20251106103000`` that hospital systems export.
    """
    if value is None:
        return None
    if type(value) is datetime and value.tzinfo is None:
        return value.replace(microsecond=0) if value.microsecond else value
    if isinstance(value, bool):
        raise Problem(INVALID_DATETIME)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise Problem(TIMEZONE_NOT_ACCEPTED)
        return value.replace(microsecond=0)
    if isinstance(value, date):
        return datetime.combine(value, time())
    if isinstance(value, int | float):
        return _from_number(value)
    if not isinstance(value, str):
        raise Problem(INVALID_DATETIME)
    text = value.strip()
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        return None
    if _is_iso_shaped(text):
        # The common case, 'YYYY-MM-DD[ HH:MM[:SS]]', parsed in C; ten times the regex's speed.
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            raise Problem(INVALID_DATETIME) from None
    compact = _COMPACT.fullmatch(text)
    if compact:
        return _build_datetime(*compact.groups())
    if _SERIAL_TEXT.fullmatch(text):
        # A serial number as text: what a CSV saved from a sheet without date formats holds.
        return _from_number(float(text))
    match = _DATETIME_TEXT.fullmatch(text)
    if match is None:
        raise Problem(INVALID_DATETIME)
    if match.group("tz"):
        raise Problem(TIMEZONE_NOT_ACCEPTED)
    seconds = match.group("S") or match.group("S2")
    return _build_datetime(*match.group("y", "m", "d", "H", "M"), seconds)


def _is_iso_shaped(text: str) -> bool:
    size = len(text)
    if size not in (10, 16, 19) or text[4] != "-" or text[7] != "-":
        return False
    if size == 10:
        return True
    return text[10] in " Tt" and text[13] == ":" and (size == 16 or text[16] == ":")


def _from_number(value: float) -> datetime:
    if not math.isfinite(value):
        raise Problem(INVALID_DATETIME)
    if float(value).is_integer() and len(str(int(value))) in (8, 12, 14):
        # 20251106 cannot be a serial (those stop at 2958465): it is yyyymmdd typed as a number.
        return normalize_datetime(str(int(value)))  # type: ignore[return-value]
    if not _EXCEL_MIN_SERIAL <= value <= _EXCEL_MAX_SERIAL:
        raise Problem(INVALID_DATETIME)
    # Rounded to the second: 10:30 is stored as 45967.437499999 as often as not.
    return _EXCEL_EPOCH + timedelta(seconds=round(value * 86400))


def _build_datetime(*parts: str | None) -> datetime:
    numbers = [int(p) if p else 0 for p in parts]
    try:
        return datetime(*numbers)  # type: ignore[misc]
    except ValueError:
        raise Problem(INVALID_DATETIME) from None


def normalize_choice(value: Any, *, choices: Sequence[str]) -> str | None:
    """Lower-cased text that must be one of ``choices``; empty → None."""
    text = normalize_text(value)
    if text is None:
        return None
    key = unicodedata.normalize("NFKC", text).casefold()
    if key not in choices:
        raise Problem("row.invalid_choice", choices=", ".join(choices))
    return key


# --- schemas --------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One target field: how to recognise its column and how to read its cells."""

    name: str
    kind: str  # "text", "int_age", "datetime", "gender" or "choice"
    required: bool = False
    max_length: int | None = None
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    # Used when the column is absent or the cell empty; None leaves the field out / None.
    default: Any = None

    @property
    def label(self) -> str:
        """'exam_id (检查号)': the field name and the header a RIS export uses."""
        native = next((a for a in self.aliases if not a.isascii()), None)
        return f"{self.name} ({native})" if native else self.name

    def normalizer(self) -> Callable[[Any], Any]:
        if self.kind == "text":
            max_length = self.max_length
            return lambda v: normalize_text(v, max_length=max_length)
        if self.kind == "int_age":
            return _remembered(normalize_age)
        if self.kind == "datetime":
            return normalize_datetime
        if self.kind == "gender":
            return _remembered(normalize_gender)
        if self.kind == "choice":
            choices = self.choices
            return _remembered(lambda v: normalize_choice(v, choices=choices))
        raise ValueError(f"Unknown field kind {self.kind!r}")


_REMEMBERED_VALUES = 10_000


def _remembered(normalize: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``normalize`` with its answers for text cells remembered.

    Genders, ages and choices come from a few hundred distinct texts in a file of a million
    rows; the normalisers are pure, so each text is read once. Errors are remembered too and
    raised afresh. Only ``str`` keys: 1, 1.0 and True are equal dict keys but not equal cells.
    """
    answers: dict[str, tuple[bool, Any]] = {}

    def remembered(value: Any) -> Any:
        if type(value) is not str:
            return normalize(value)
        known = answers.get(value)
        if known is None:
            try:
                known = (True, normalize(value))
            except Problem as exc:
                known = (False, (exc.code, exc.params))
            if len(answers) < _REMEMBERED_VALUES:
                answers[value] = known
        if known[0]:
            return known[1]
        code, params = known[1]
        raise Problem(code, **params)

    return remembered


@dataclass(frozen=True)
class Schema:
    """The columns an import understands; ``key`` identifies a record within one file."""

    name: str
    key: str
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(name)


# Each study field's first alias is the header the RIS export writes over it (studies.ris).
STUDY_SCHEMA = Schema(
    name="studies",
    key="exam_id",
    fields=(
        Field(
            "exam_id",
            "text",
            required=True,
            max_length=50,
            aliases=(RIS_HEADERS["exam_id"], "检查ID"),
        ),
        Field(
            "medical_record_no",
            "text",
            max_length=100,
            aliases=(RIS_HEADERS["medical_record_no"], "病案号"),
        ),
        Field(
            "application_order_no",
            "text",
            max_length=100,
            aliases=(RIS_HEADERS["application_order_no"],),
        ),
        Field(
            "patient_name",
            "text",
            required=True,
            max_length=200,
            aliases=(RIS_HEADERS["patient_name"], "患者姓名"),
        ),
        Field("patient_gender", "gender", aliases=(RIS_HEADERS["patient_gender"],)),
        Field("patient_age", "int_age", aliases=(RIS_HEADERS["patient_age"],)),
        Field(
            "exam_status",
            "text",
            required=True,
            max_length=20,
            aliases=(RIS_HEADERS["exam_status"],),
        ),
        Field(
            "exam_source",
            "text",
            required=True,
            max_length=50,
            aliases=(RIS_HEADERS["exam_source"], "病人来源"),
        ),
        Field(
            "exam_item", "text", required=True, max_length=100, aliases=(RIS_HEADERS["exam_item"],)
        ),
        Field("equipment_type", "text", max_length=50, aliases=(RIS_HEADERS["equipment_type"],)),
        Field("exam_description", "text", aliases=(RIS_HEADERS["exam_description"], "检查所见")),
        Field(
            "order_datetime",
            "datetime",
            required=True,
            aliases=(RIS_HEADERS["order_datetime"], "申请时间"),
        ),
        Field(
            "check_in_datetime", "datetime", aliases=(RIS_HEADERS["check_in_datetime"], "签到时间")
        ),
        Field(
            "report_certification_datetime",
            "datetime",
            aliases=(RIS_HEADERS["report_certification_datetime"], "审核时间"),
        ),
        Field(
            "certified_physician",
            "text",
            max_length=200,
            aliases=(RIS_HEADERS["certified_physician"], "报告医生"),
        ),
    ),
)

# Reports: an empty radiologist is None here (the model stores ""); a missing status column
# or empty status cell means 'finalized', as a report exported from the RIS is signed.
REPORT_SCHEMA = Schema(
    name="reports",
    key="report_id",
    fields=(
        Field(
            "report_id", "text", required=True, max_length=50, aliases=REPORT_HEADERS["report_id"]
        ),
        Field("exam_id", "text", required=True, max_length=50, aliases=REPORT_HEADERS["exam_id"]),
        Field("radiologist", "text", max_length=200, aliases=REPORT_HEADERS["radiologist"]),
        Field("content", "text", required=True, aliases=REPORT_HEADERS["content"]),
        Field(
            "status",
            "choice",
            choices=REPORT_STATUSES,
            default="finalized",
            aliases=REPORT_HEADERS["status"],
        ),
        Field("created_at", "datetime", aliases=REPORT_HEADERS["created_at"]),
        Field("submitted_at", "datetime", aliases=REPORT_HEADERS["submitted_at"]),
        Field("reviewed_at", "datetime", aliases=REPORT_HEADERS["reviewed_at"]),
    ),
)


# --- headers --------------------------------------------------------------------------


_HEADER_NOISE = re.compile(r"[\s_\-.\u200b\ufeff]+")


def header_key(text: str) -> str:
    """The form headers are compared in.

    NFKC (full-width letters and digits, full-width colons), case-folded, with spaces,
    underscores, hyphens and dots removed and a leading '*' (a "required" mark in templates)
    or trailing ':' dropped: 'Exam ID', 'exam_id', 'ＥＸＡＭ＿ＩＤ' and ' 检查号： ' all match.
    """
    key = unicodedata.normalize("NFKC", text).casefold().strip().lstrip("*").rstrip(":")
    return _HEADER_NOISE.sub("", key)


class HeaderError(ValueError):
    """The header row cannot be imported (HTTP 422); the message names the columns.

    ``problems`` holds each reason as a ``Problem`` (code and parameters)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


@dataclass(frozen=True)
class HeaderMap:
    """How a file's columns map to a schema's fields."""

    headers: tuple[str, ...]
    # Column index → field name, for the columns that map.
    columns: dict[int, str]
    # Header text of columns that map to nothing, in file order (blank headers left out).
    ignored_columns: list[str]
    # Required fields with no column.
    missing_required: list[str]
    # Field → the headers of the two or more columns that claim it.
    duplicates: dict[str, list[str]] = field(default_factory=dict)

    def column_of(self, field_name: str) -> int | None:
        for index, name in self.columns.items():
            if name == field_name:
                return index
        return None

    def problems(self, schema: Schema) -> list[str]:
        """Messages for every reason the file cannot be imported; empty if it can."""
        return [str(problem) for problem in self.coded_problems(schema)]

    def coded_problems(self, schema: Schema) -> list[Problem]:
        found = []
        if self.missing_required:
            labels = ", ".join(schema.field(n).label for n in self.missing_required)
            found.append(Problem("import.missing_columns", columns=labels))
        for name, headers in self.duplicates.items():
            shown = ", ".join(f"'{h}'" for h in headers)
            found.append(Problem("import.duplicate_columns", columns=shown, field=name))
        return found

    def check(self, schema: Schema) -> None:
        """Raise ``HeaderError`` if a required column is missing or a field is claimed twice."""
        found = self.coded_problems(schema)
        if found:
            raise HeaderError(found)


def map_headers(headers: Sequence[str], schema: Schema) -> HeaderMap:
    lookup: dict[str, str] = {}
    for candidate in schema.fields:
        for name in (candidate.name, *candidate.aliases):
            lookup[header_key(name)] = candidate.name
    columns: dict[int, str] = {}
    claimed: dict[str, list[int]] = {}
    ignored: list[str] = []
    for index, text in enumerate(headers):
        key = header_key(text)
        if not key:
            continue
        name = lookup.get(key)
        if name is None:
            ignored.append(text)
            continue
        columns[index] = name
        claimed.setdefault(name, []).append(index)
    duplicates = {
        name: [headers[i] for i in indexes] for name, indexes in claimed.items() if len(indexes) > 1
    }
    missing = [f.name for f in schema.fields if f.required and f.name not in claimed]
    return HeaderMap(
        headers=tuple(headers),
        columns=columns,
        ignored_columns=ignored,
        missing_required=missing,
        duplicates=duplicates,
    )


# --- rows -----------------------------------------------------------------------------


def problem_entry(row: int | None, column: str, value: Any, problem: Problem) -> dict[str, Any]:
    """A row error or warning as the API answers it (``params`` is stored, not answered)."""
    return {
        "row": row,
        "column": column,
        "value": cell_text(value),
        "message": str(problem),
        "code": problem.code,
        "params": problem.params,
    }


_error = problem_entry


class RowNormalizer:
    """Turns one row's cells into ``{field: value}`` for the mapped fields (and defaults)."""

    def __init__(self, header_map: HeaderMap, schema: Schema) -> None:
        self.schema = schema
        # (index, header, field name, normaliser, default, required): plain tuples, as this
        # runs for every cell of the file.
        self._columns = [
            (
                index,
                header_map.headers[index],
                name,
                schema.field(name).normalizer(),
                schema.field(name).default,
                schema.field(name).required,
            )
            for index, name in sorted(header_map.columns.items())
        ]
        mapped = set(header_map.columns.values())
        # Defaults for fields whose column is absent; an absent optional field without a
        # default stays out of the record, so an update keeps what the database has.
        self._absent_defaults = {
            f.name: f.default
            for f in schema.fields
            if f.default is not None and f.name not in mapped
        }

    def normalize(
        self, row_number: int, values: Sequence[Any]
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        record: dict[str, Any] = dict(self._absent_defaults)
        errors: list[dict[str, Any]] = []
        size = len(values)
        for index, header, name, normalize, default, required in self._columns:
            raw = values[index] if index < size else None
            try:
                value = normalize(raw)
            except ValueError as exc:
                problem = (
                    exc if isinstance(exc, Problem) else Problem("row.invalid", message=str(exc))
                )
                errors.append(_error(row_number, header, raw, problem))
                continue
            if value is None:
                if default is not None:
                    value = default
                elif required:
                    errors.append(_error(row_number, header, raw, Problem(MISSING_VALUE)))
                    continue
            record[name] = value
        return record, errors


# Gender texts that say "unknown" (stored as U without a warning); other unrecognised text is
# stored as U too (SPEC: never rejected) but listed as a warning.
_GENDER_UNKNOWN = {"u", "unknown", "未知", "不详", "未说明", "其他", "other"}


class RowWarnings:
    """The suspicious values of a valid row: it is imported as it is, and each is a warning
    ``{"row", "column", "value", "message", "code"}`` (SPEC's data rules: an unrecognised
    gender stored as U; times out of the order → check-in → certification sequence; a
    certification without a physician; a report reviewed before it was submitted…)."""

    def __init__(self, header_map: HeaderMap, schema: Schema) -> None:
        self._header = {name: header_map.headers[i] for i, name in header_map.columns.items()}
        self._gender = header_map.column_of("patient_gender")
        self._studies = schema.name == "studies"

    def __call__(
        self, row: int, record: dict[str, Any], values: Sequence[Any]
    ) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        get = record.get
        if self._studies:
            if get("patient_gender") == "U" and self._gender is not None:
                raw = values[self._gender]
                key = unicodedata.normalize("NFKC", cell_text(raw)).strip().casefold()
                if key not in _GENDER_UNKNOWN:
                    found.append(self._entry(row, "patient_gender", raw, "gender_unrecognised"))
            order, check_in = get("order_datetime"), get("check_in_datetime")
            certified = get("report_certification_datetime")
            if check_in is not None and order is not None and check_in < order:
                found.append(
                    self._entry(row, "check_in_datetime", check_in, "check_in_before_order",
                                order=cell_text(order))
                )  # fmt: skip
            if certified is not None:
                if order is not None and certified < order:
                    found.append(
                        self._entry(row, "report_certification_datetime", certified,
                                    "certified_before_order", order=cell_text(order))
                    )  # fmt: skip
                elif check_in is not None and certified < check_in:
                    found.append(
                        self._entry(row, "report_certification_datetime", certified,
                                    "certified_before_check_in", check_in=cell_text(check_in))
                    )  # fmt: skip
                if "certified_physician" in self._header and get("certified_physician") is None:
                    found.append(
                        self._entry(row, "certified_physician", None,
                                    "certified_without_physician")
                    )  # fmt: skip
            return found
        created, submitted = get("created_at"), get("submitted_at")
        reviewed = get("reviewed_at")
        if submitted is not None and created is not None and submitted < created:
            found.append(
                self._entry(row, "submitted_at", submitted, "submitted_before_created",
                            created=cell_text(created))
            )  # fmt: skip
        if reviewed is not None and submitted is not None and reviewed < submitted:
            found.append(
                self._entry(row, "reviewed_at", reviewed, "reviewed_before_submitted",
                            submitted=cell_text(submitted))
            )  # fmt: skip
        return found

    def _entry(self, row: int, name: str, value: Any, code: str, **params: Any) -> dict:
        return problem_entry(row, self._header[name], value, Problem(f"warning.{code}", **params))


def validate_rows(
    rows: Iterable[tuple[int, Sequence[Any]]],
    header_map: HeaderMap,
    schema: Schema,
    *,
    max_errors: int = MAX_REPORTED_ERRORS,
    keep_rejected: bool = False,
) -> RowValidator:
    """Iterate the result for ``(row_number, record)`` of every valid row; see RowValidator."""
    return RowValidator(
        rows, header_map, schema, max_errors=max_errors, keep_rejected=keep_rejected
    )


class RowValidator:
    """Validates rows lazily; after iterating, holds the counts and the first errors.

    Memory: one row at a time plus the keys already seen (to report a key that appears twice
    in the file), about 100 bytes a row. Invalid rows are not yielded. A key seen twice is an
    error on its second row; both rows count as seen, only the later one is rejected.
    The warnings of the valid rows are counted, the first ``max_errors`` listed. With
    ``keep_rejected`` every invalid row is kept as ``(row, cells as text, its errors)`` in
    ``rejected_rows``, for the rejected-rows workbook.
    """

    def __init__(
        self,
        rows: Iterable[tuple[int, Sequence[Any]]],
        header_map: HeaderMap,
        schema: Schema,
        *,
        max_errors: int = MAX_REPORTED_ERRORS,
        keep_rejected: bool = False,
    ) -> None:
        self._rows = rows
        self._normalizer = RowNormalizer(header_map, schema)
        self._warnings = RowWarnings(header_map, schema)
        self.warning_count = 0
        self.warnings: list[dict[str, Any]] = []
        self.keep_rejected = keep_rejected
        self.rejected_rows: list[tuple[int, list[str], list[dict[str, Any]]]] = []
        self._key = schema.key
        key_index = header_map.column_of(schema.key)
        self._key_header = header_map.headers[key_index] if key_index is not None else schema.key
        self.max_errors = max_errors
        self.rows_total = 0
        self.rejected = 0
        self.error_count = 0
        self.errors: list[dict[str, Any]] = []
        self._seen: dict[str, int] = {}
        self._started = False

    @property
    def truncated(self) -> bool:
        """True when more errors were found than ``errors`` lists."""
        return self.error_count > len(self.errors)

    def _record_errors(self, errors: list[dict[str, Any]]) -> None:
        self.error_count += len(errors)
        room = self.max_errors - len(self.errors)
        if room > 0:
            self.errors.extend(errors[:room])

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        if self._started:
            raise RuntimeError("A RowValidator can be iterated only once")
        self._started = True
        for row_number, values in self._rows:
            self.rows_total += 1
            record, errors = self._normalizer.normalize(row_number, values)
            key = record.get(self._key)
            if key is not None:
                first = self._seen.get(key)
                if first is None:
                    self._seen[key] = row_number
                else:
                    errors.append(
                        _error(
                            row_number,
                            self._key_header,
                            key,
                            Problem("row.duplicate_key", key=self._key, first=first),
                        )
                    )
            if errors:
                self.rejected += 1
                self._record_errors(errors)
                if self.keep_rejected and len(self.rejected_rows) < MAX_KEPT_REJECTED:
                    self.rejected_rows.append((row_number, list(map(cell_text, values)), errors))
                continue
            warnings = self._warnings(row_number, record, values)
            if warnings:
                self.warning_count += len(warnings)
                room = self.max_errors - len(self.warnings)
                if room > 0:
                    self.warnings.extend(warnings[:room])
            yield row_number, record
