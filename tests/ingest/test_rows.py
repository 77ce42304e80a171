"""ingest.rows: schemas, header mapping, normalisers and row validation; no Django involved."""

from datetime import date, datetime, time, timedelta

import pytest
import xlsxwriter

from ingest.readers import REPORT_EXTENSIONS, read_table
from ingest.rows import (
    REPORT_SCHEMA,
    STUDY_SCHEMA,
    HeaderError,
    cell_text,
    header_key,
    map_headers,
    normalize_age,
    normalize_choice,
    normalize_datetime,
    normalize_gender,
    normalize_text,
    validate_rows,
)

# --- text -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("  张三 ", "张三"),
        ("line one\nline two", "line one\nline two"),
        ("a\x00b\x07c\x1fd\x7f", "abcd"),
        ("\x00", None),
        ("tab\tkept", "tab\tkept"),
        (1234.0, "1234"),
        (12.5, "12.5"),
        (7, "7"),
        (True, "TRUE"),
        (datetime(2025, 11, 6, 10, 30), "2025-11-06 10:30:00"),
        # The study export's guard against formulas (studies/exports.py) comes off again.
        ("'=SUM(A1)", "=SUM(A1)"),
        ("'-3 mm", "-3 mm"),
        ("'@home", "@home"),
        ("'quoted", "'quoted"),
        ("O'Brien", "O'Brien"),
    ],
)
def test_normalize_text(value, expected):
    assert normalize_text(value) == expected


def test_normalize_text_checks_length_after_trimming():
    assert normalize_text("  " + "x" * 50 + "  ", max_length=50) == "x" * 50
    with pytest.raises(ValueError, match="^Longer than 50 characters$"):
        normalize_text("x" * 51, max_length=50)


def test_normalize_text_refuses_nested_json():
    with pytest.raises(ValueError, match="^Expected text, not a list or object$"):
        normalize_text({"a": 1})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        ("x", "x"),
        (45.0, "45"),
        (45967.4375, "45967.4375"),
        (False, "FALSE"),
        (date(2025, 11, 6), "2025-11-06"),
        (datetime(2025, 11, 6, 10, 30), "2025-11-06 10:30:00"),
    ],
)
def test_cell_text(value, expected):
    assert cell_text(value) == expected


# --- gender ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("男", "M"),
        ("女", "F"),
        ("Male", "M"),
        ("FEMALE", "F"),
        ("m", "M"),
        (" F ", "F"),
        ("Ｍ", "M"),
        ("男性", "M"),
        ("未知", "U"),
        ("Unknown", "U"),
        ("其他", "U"),
        ("X", "U"),
        ("", None),
        ("  ", None),
        (None, None),
    ],
)
def test_normalize_gender(value, expected):
    assert normalize_gender(value) == expected


# --- age ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (45, 45),
        (45.0, 45),
        ("45", 45),
        ("45.0", 45),
        ("45岁", 45),
        ("45 岁", 45),
        ("45Y", 45),
        ("45y", 45),
        ("45 years", 45),
        ("４５岁", 45),
        ("1岁3月", 1),
        ("1Y3M", 1),
        ("0", 0),
        (150, 150),
        ("3月", 0),
        ("3个月", 0),
        ("3M", 0),
        ("12月", 0),
        ("5天", 0),
        ("5D", 0),
        ("2周", 0),
        ("2W", 0),
        ("10小时", 0),
        ("1.5月", 0),
        ("", None),
        (None, None),
        ("未知", None),
        ("不详", None),
        ("-", None),
    ],
)
def test_normalize_age(value, expected):
    assert normalize_age(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, "Age must be between 0 and 150"),
        ("-5", "Age must be between 0 and 150"),
        (151, "Age must be between 0 and 150"),
        ("200岁", "Age must be between 0 and 150"),
        (45.5, "Invalid age"),
        ("45.5", "Invalid age"),
        ("forty", "Invalid age"),
        ("45岁半", "Invalid age"),
        ("3月45岁", "Invalid age"),
        (True, "Invalid age"),
        (float("nan"), "Invalid age"),
        (datetime(2025, 1, 1), "Invalid age"),
    ],
)
def test_normalize_age_rejects(value, message):
    with pytest.raises(ValueError) as exc:
        normalize_age(value)
    assert str(exc.value) == message


# --- datetime -------------------------------------------------------------------------

NOV_6_1030 = datetime(2025, 11, 6, 10, 30)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (NOV_6_1030, NOV_6_1030),
        (datetime(2025, 11, 6, 10, 30, 5, 999_999), datetime(2025, 11, 6, 10, 30, 5)),
        (date(2025, 11, 6), datetime(2025, 11, 6)),
        (45967.4375, NOV_6_1030),
        (45967.437499999, NOV_6_1030),
        (45967, datetime(2025, 11, 6)),
        ("45967.4375", NOV_6_1030),
        ("45967", datetime(2025, 11, 6)),
        (10000, datetime(1927, 5, 18)),
        ("2025-11-06 10:30:00", NOV_6_1030),
        ("2025-11-06 10:30", NOV_6_1030),
        ("2025/11/06 10:30", NOV_6_1030),
        ("2025/11/06 10:30:00", NOV_6_1030),
        ("2025-11-06T10:30:00", NOV_6_1030),
        ("2025-11-06t10:30", NOV_6_1030),
        ("2025-11-06 10:30:00.123456", NOV_6_1030),
        (" 2025-11-06 10:30:00 ", NOV_6_1030),
        ("2025-11-06", datetime(2025, 11, 6)),
        ("2025/11/06", datetime(2025, 11, 6)),
        ("2025/11/6 9:05", datetime(2025, 11, 6, 9, 5)),
        ("2025.11.06", datetime(2025, 11, 6)),
        ("2025年11月06日 10:30", NOV_6_1030),
        ("2025年11月6日", datetime(2025, 11, 6)),
        ("2025年11月6日10时30分", NOV_6_1030),
        ("2025年11月6日 10时30分15秒", datetime(2025, 11, 6, 10, 30, 15)),
        ("２０２５－１１－０６　１０：３０", NOV_6_1030),
        ("20251106", datetime(2025, 11, 6)),
        ("202511061030", NOV_6_1030),
        ("20251106103000", NOV_6_1030),
        (20251106, datetime(2025, 11, 6)),
        (20251106.0, datetime(2025, 11, 6)),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_normalize_datetime(value, expected):
    result = normalize_datetime(value)
    assert result == expected
    assert result is None or result.tzinfo is None


@pytest.mark.parametrize(
    "value",
    [
        "not a date",
        "2025-13-01",
        "2025-02-30",
        "2025-11-06 24:00",
        "2025-11-06 10:61",
        "11/06/2025",
        "06.11.2025 10:30",
        "2025-11",
        "2025-11-06 10",
        "2025-11-06 10:30 extra",
        "20251399",
        "123",
        "2025",
        "45967.4375.1",
        0,
        -5,
        0.5,
        45,
        9999.9,
        3_000_000,
        float("inf"),
        True,
        time(10, 30),
        timedelta(hours=1),
    ],
)
def test_normalize_datetime_rejects(value):
    with pytest.raises(ValueError) as exc:
        normalize_datetime(value)
    assert str(exc.value) == "Invalid date/time"


@pytest.mark.parametrize(
    "value",
    ["2025-11-06T10:30:00Z", "2025-11-06T10:30:00+08:00", "2025-11-06 10:30:00 +0800"],
)
def test_normalize_datetime_refuses_time_zone_offsets(value):
    with pytest.raises(ValueError) as exc:
        normalize_datetime(value)
    assert str(exc.value) == "Time zone offsets are not accepted; give the local time"


# --- report status --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("draft", "draft"), ("Finalized", "finalized"), (" REVIEWED ", "reviewed"), ("", None)],
)
def test_normalize_choice(value, expected):
    choices = ("draft", "submitted", "reviewed", "finalized")
    assert normalize_choice(value, choices=choices) == expected


def test_normalize_choice_rejects_unknown_values():
    with pytest.raises(ValueError) as exc:
        normalize_choice("done", choices=("draft", "submitted", "reviewed", "finalized"))
    assert str(exc.value) == "Must be one of: draft, submitted, reviewed, finalized"


# --- headers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("exam_id", "examid"),
        ("Exam ID", "examid"),
        ("EXAM-ID", "examid"),
        ("ＥＸＡＭ＿ＩＤ", "examid"),
        (" 检查号 ", "检查号"),
        ("检查 号", "检查号"),
        ("*检查号", "检查号"),
        ("检查号：", "检查号"),
        ("\ufeff检查号", "检查号"),
        ("检查ID", "检查id"),
    ],
)
def test_header_key(text, key):
    assert header_key(text) == key


RIS_HEADERS = [
    "检查号",
    "病历号",
    "申请单号",
    "姓名",
    "性别",
    "年龄",
    "检查状态",
    "检查来源",
    "检查项目",
    "设备类型",
    "检查描述",
    "开单时间",
    "登记时间",
    "报告审核时间",
    "审核医生",
]


def test_ris_chinese_headers_map_to_every_study_field():
    header_map = map_headers(RIS_HEADERS, STUDY_SCHEMA)
    assert list(header_map.columns.values()) == [f.name for f in STUDY_SCHEMA.fields]
    assert header_map.ignored_columns == []
    assert header_map.missing_required == []
    assert header_map.problems(STUDY_SCHEMA) == []


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("检查ID", "exam_id"),
        ("病案号", "medical_record_no"),
        ("患者姓名", "patient_name"),
        ("病人来源", "exam_source"),
        ("检查所见", "exam_description"),
        ("申请时间", "order_datetime"),
        ("签到时间", "check_in_datetime"),
        ("审核时间", "report_certification_datetime"),
        ("报告医生", "certified_physician"),
        ("exam_id", "exam_id"),
        ("Patient Name", "patient_name"),
        ("ORDER_DATETIME", "order_datetime"),
        ("ｅｘａｍ＿ｉｔｅｍ", "exam_item"),
        (" 姓名 ", "patient_name"),
    ],
)
def test_study_header_aliases(header, field):
    assert map_headers([header], STUDY_SCHEMA).columns == {0: field}


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("报告ID", "report_id"),
        ("报告号", "report_id"),
        ("检查号", "exam_id"),
        ("报告医生", "radiologist"),
        ("报告内容", "content"),
        ("报告状态", "status"),
        ("创建时间", "created_at"),
        ("提交时间", "submitted_at"),
        # In a report file 审核时间 is when the report was reviewed.
        ("审核时间", "reviewed_at"),
        ("Reviewed At", "reviewed_at"),
    ],
)
def test_report_header_aliases(header, field):
    assert map_headers([header], REPORT_SCHEMA).columns == {0: field}


def test_unknown_columns_are_ignored_in_file_order_and_blank_headers_left_out():
    header_map = map_headers(["备注", *RIS_HEADERS, "", "  ", "影像号", "备注"], STUDY_SCHEMA)
    assert header_map.ignored_columns == ["备注", "影像号", "备注"]
    assert header_map.problems(STUDY_SCHEMA) == []


def test_missing_required_columns_are_named():
    header_map = map_headers(["姓名", "检查状态", "检查来源", "检查项目", "备注"], STUDY_SCHEMA)
    assert header_map.missing_required == ["exam_id", "order_datetime"]
    with pytest.raises(HeaderError) as exc:
        header_map.check(STUDY_SCHEMA)
    assert str(exc.value) == (
        "Missing required column(s): exam_id (检查号), order_datetime (开单时间)"
    )


def test_two_columns_for_one_field_are_an_error():
    header_map = map_headers([*RIS_HEADERS, "检查ID"], STUDY_SCHEMA)
    assert header_map.duplicates == {"exam_id": ["检查号", "检查ID"]}
    with pytest.raises(HeaderError) as exc:
        header_map.check(STUDY_SCHEMA)
    assert str(exc.value) == "Columns '检查号', '检查ID' all map to exam_id; keep only one"


def test_missing_and_duplicate_problems_are_reported_together():
    header_map = map_headers(["报告ID", "report_id", "检查号"], REPORT_SCHEMA)
    assert header_map.problems(REPORT_SCHEMA) == [
        "Missing required column(s): content (报告内容)",
        "Columns '报告ID', 'report_id' all map to report_id; keep only one",
    ]


def test_column_of():
    header_map = map_headers(["备注", "检查号"], STUDY_SCHEMA)
    assert header_map.column_of("exam_id") == 1
    assert header_map.column_of("patient_name") is None


# --- validation -----------------------------------------------------------------------

STUDY_HEADERS = ["检查号", "姓名", "性别", "年龄", "检查状态", "检查来源", "检查项目", "开单时间"]


def study_row(exam_id="E1", name="张三", gender="男", age="45岁", when="2025-11-06 10:30"):
    return [exam_id, name, gender, age, "已审核", "门诊", "胸部CT平扫", when]


def validate(rows, headers=STUDY_HEADERS, schema=STUDY_SCHEMA, **kwargs):
    header_map = map_headers(headers, schema)
    header_map.check(schema)
    validator = validate_rows(rows, header_map, schema, **kwargs)
    records = list(validator)
    return records, validator


def test_valid_rows_become_records_of_the_mapped_fields():
    records, validator = validate([(2, study_row()), (3, study_row("E2", gender=None, age=None))])
    assert records == [
        (
            2,
            {
                "exam_id": "E1",
                "patient_name": "张三",
                "patient_gender": "M",
                "patient_age": 45,
                "exam_status": "已审核",
                "exam_source": "门诊",
                "exam_item": "胸部CT平扫",
                "order_datetime": NOV_6_1030,
            },
        ),
        (
            3,
            {
                "exam_id": "E2",
                "patient_name": "张三",
                "patient_gender": None,
                "patient_age": None,
                "exam_status": "已审核",
                "exam_source": "门诊",
                "exam_item": "胸部CT平扫",
                "order_datetime": NOV_6_1030,
            },
        ),
    ]
    assert (validator.rows_total, validator.rejected, validator.error_count) == (2, 0, 0)
    assert validator.errors == []


AGE = {"code": "row.invalid_age", "params": {}}


def test_a_text_seen_again_gives_the_same_value_or_the_same_error():
    # Ages and genders are remembered per distinct text; each row still gets its own error.
    rows = [(n, study_row(f"E{n}", age="abc" if n % 2 else "45岁")) for n in range(2, 8)]
    records, validator = validate(rows)
    assert [record["patient_age"] for _, record in records] == [45, 45, 45]
    assert validator.errors == [
        {"row": n, "column": "年龄", "value": "abc", "message": "Invalid age", **AGE}
        for n in (3, 5, 7)
    ]


def test_remembered_texts_are_not_confused_with_numbers():
    records, _ = validate([(2, study_row("E1", age="45")), (3, study_row("E2", age=45.0))])
    assert [record["patient_age"] for _, record in records] == [45, 45]
    _, validator = validate([(2, study_row("E1", age=True))])
    assert validator.errors[0]["message"] == "Invalid age"


def test_row_errors_name_the_original_header_and_cell():
    headers = [" 检查号", "姓名", "性别", "年龄", "检查状态", "检查来源", "检查项目", "开单时间"]
    rows = [
        (2, study_row(age="abc", when=45967.4375)),
        (5, study_row("E2", name=None, when="yesterday")),
        (6, study_row("E3" * 30)),
    ]
    records, validator = validate(rows, headers=headers)
    assert records == []
    assert validator.errors == [
        {"row": 2, "column": "年龄", "value": "abc", "message": "Invalid age", **AGE},
        {
            "row": 5,
            "column": "姓名",
            "value": "",
            "message": "Missing required value",
            "code": "row.missing_value",
            "params": {},
        },
        {
            "row": 5,
            "column": "开单时间",
            "value": "yesterday",
            "message": "Invalid date/time",
            "code": "row.invalid_datetime",
            "params": {},
        },
        {
            "row": 6,
            "column": " 检查号",
            "value": "E3" * 30,
            "message": "Longer than 50 characters",
            "code": "row.too_long",
            "params": {"max_length": 50},
        },
    ]
    assert (validator.rows_total, validator.rejected, validator.error_count) == (3, 3, 4)


def test_same_key_twice_in_a_file_is_an_error_on_the_second_row():
    rows = [(3, study_row("E1")), (4, study_row("E2")), (9, study_row(" E1 "))]
    records, validator = validate(rows)
    assert [number for number, _ in records] == [3, 4]
    assert validator.errors == [
        {
            "row": 9,
            "column": "检查号",
            "value": "E1",
            "message": "Duplicate exam_id in file (first seen in row 3)",
            "code": "row.duplicate_key",
            "params": {"key": "exam_id", "first": 3},
        }
    ]
    assert validator.rejected == 1


def test_errors_are_capped_but_all_counted():
    rows = [(n, study_row(f"E{n}", age="bad")) for n in range(2, 12)]
    records, validator = validate(rows, max_errors=3)
    assert records == []
    assert len(validator.errors) == 3
    assert validator.error_count == 10
    assert validator.rejected == 10
    assert validator.truncated


def test_a_validator_runs_once():
    _, validator = validate([(2, study_row())])
    with pytest.raises(RuntimeError):
        list(validator)


def test_optional_columns_absent_from_the_file_stay_out_of_the_record():
    headers = ["检查号", "姓名", "检查状态", "检查来源", "检查项目", "开单时间"]
    records, _ = validate(
        [(2, ["E1", "张三", "已审核", "门诊", "CT", "2025-11-06"])], headers=headers
    )
    # An update keeps what the database has for fields the file does not carry.
    assert "patient_gender" not in records[0][1]
    assert "medical_record_no" not in records[0][1]


REPORT_HEADERS = ["report_id", "exam_id", "radiologist", "content", "status", "created_at"]


def test_report_status_defaults_to_finalized_when_empty():
    rows = [(2, ["R1", "E1", None, "未见异常。", None, "2025-11-06 10:30"])]
    records, _ = validate(rows, headers=REPORT_HEADERS, schema=REPORT_SCHEMA)
    assert records == [
        (
            2,
            {
                "report_id": "R1",
                "exam_id": "E1",
                "radiologist": None,
                "content": "未见异常。",
                "status": "finalized",
                "created_at": NOV_6_1030,
            },
        )
    ]


def test_report_status_defaults_to_finalized_when_the_column_is_absent():
    headers = ["报告ID", "检查号", "报告内容"]
    records, _ = validate(
        [(2, ["R1", "E1", "FINDINGS: normal."])], headers=headers, schema=REPORT_SCHEMA
    )
    assert records == [
        (
            2,
            {
                "status": "finalized",
                "report_id": "R1",
                "exam_id": "E1",
                "content": "FINDINGS: normal.",
            },
        )
    ]


def test_report_with_an_unknown_status_is_rejected():
    rows = [(2, ["R1", "E1", "Dr. Li", "text", "done", None])]
    _, validator = validate(rows, headers=REPORT_HEADERS, schema=REPORT_SCHEMA)
    assert validator.errors == [
        {
            "row": 2,
            "column": "status",
            "value": "done",
            "message": "Must be one of: draft, submitted, reviewed, finalized",
            "code": "row.invalid_choice",
            "params": {"choices": "draft, submitted, reviewed, finalized"},
        }
    ]


def test_reports_may_share_an_exam_id_but_not_a_report_id():
    rows = [
        (2, ["R1", "E1", None, "a", None, None]),
        (3, ["R2", "E1", None, "b", None, None]),
        (4, ["R1", "E2", None, "c", None, None]),
    ]
    records, validator = validate(rows, headers=REPORT_HEADERS, schema=REPORT_SCHEMA)
    assert [number for number, _ in records] == [2, 3]
    assert validator.errors[0]["message"] == "Duplicate report_id in file (first seen in row 2)"


# --- end to end, file to records ------------------------------------------------------


def test_ris_workbook_to_records(tmp_path):
    path = tmp_path / "20251029130203.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    stamp = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    sheet.write_row(0, 0, [*RIS_HEADERS, "影像号"])
    sheet.write_row(1, 0, ["EXAM001", 12345, None, "Zhang Wei", "男", 45, "completed", "CT"])
    sheet.write_row(1, 8, ["Chest CT", "CT", "'=HYPERLINK(x)"])
    sheet.write_datetime(1, 11, NOV_6_1030, stamp)
    sheet.write_number(1, 12, 45967.4479166667)
    sheet.write_string(1, 13, "2025/11/06 14:30")
    workbook.close()

    with read_table(path, file_name=path.name) as table:
        header_map = map_headers(table.headers, STUDY_SCHEMA)
        header_map.check(STUDY_SCHEMA)
        validator = validate_rows(table.rows(), header_map, STUDY_SCHEMA)
        records = list(validator)
    assert header_map.ignored_columns == ["影像号"]
    assert validator.errors == []
    assert records == [
        (
            2,
            {
                "exam_id": "EXAM001",
                "medical_record_no": "12345",
                "application_order_no": None,
                "patient_name": "Zhang Wei",
                "patient_gender": "M",
                "patient_age": 45,
                "exam_status": "completed",
                "exam_source": "CT",
                "exam_item": "Chest CT",
                "equipment_type": "CT",
                "exam_description": "=HYPERLINK(x)",
                "order_datetime": NOV_6_1030,
                "check_in_datetime": datetime(2025, 11, 6, 10, 45),
                "report_certification_datetime": datetime(2025, 11, 6, 14, 30),
                "certified_physician": None,
            },
        )
    ]


def test_report_json_to_records(tmp_path):
    path = tmp_path / "reports.json"
    path.write_text(
        '[{"report_id": "R1", "exam_id": "E1", "radiologist": "Dr. Li", "content": '
        '"IMPRESSION: No acute findings.", "status": "reviewed", "created_at": '
        '"2025-11-06T10:30:00", "reviewed_at": "2025-11-06T12:00:00"}]',
        encoding="utf-8",
    )
    with read_table(path, file_name="reports.json", allowed_extensions=REPORT_EXTENSIONS) as table:
        header_map = map_headers(table.headers, REPORT_SCHEMA)
        records = list(validate_rows(table.rows(), header_map, REPORT_SCHEMA))
    assert records == [
        (
            1,
            {
                "report_id": "R1",
                "exam_id": "E1",
                "radiologist": "Dr. Li",
                "content": "IMPRESSION: No acute findings.",
                "status": "reviewed",
                "created_at": NOV_6_1030,
                "reviewed_at": datetime(2025, 11, 6, 12),
            },
        )
    ]
