from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime

import openpyxl

from sampledata import (
    REPORT_FIELDS,
    STUDY_FIELDS,
    STUDY_HEADERS_ZH,
    generate_studies,
    write_reports_csv,
    write_reports_json,
    write_reports_xlsx,
    write_studies_csv,
    write_studies_xlsx,
)
from sampledata.writers import age_text

ZH_HEADERS = [
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


def test_studies_csv_is_byte_identical_for_a_seed(tmp_path):
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    assert write_studies_csv(a, generate_studies(500, seed=3)) == 500
    write_studies_csv(b, generate_studies(500, seed=3))
    write_studies_csv(c, generate_studies(500, seed=4))
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_studies_csv_format(tmp_path, studies):
    path = tmp_path / "studies.csv"
    write_studies_csv(path, studies)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert tuple(rows[0]) == STUDY_FIELDS
    assert len(rows) == len(studies) + 1
    col = {name: i for i, name in enumerate(rows[0])}
    for row, study in zip(rows[1:], studies, strict=True):
        assert row[col["exam_id"]] == study["exam_id"]
        assert row[col["patient_gender"]] in ("M", "F", "U", "")
        assert re.fullmatch(r"\d*", row[col["patient_age"]])
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", row[col["order_datetime"]])
        for field in STUDY_FIELDS:
            assert (row[col[field]] == "") == (study[field] is None)


def test_studies_xlsx_reads_back_as_the_ris_export(tmp_path, studies):
    path = tmp_path / "studies.xlsx"
    assert write_studies_xlsx(path, studies) == len(studies)
    ws = openpyxl.load_workbook(path).active
    rows = list(ws.iter_rows())
    assert [c.value for c in rows[0]] == ZH_HEADERS == [STUDY_HEADERS_ZH[f] for f in STUDY_FIELDS]
    assert len(rows) == len(studies) + 1
    ages = set()
    for cells, study in zip(rows[1:], studies, strict=True):
        by = dict(zip(ZH_HEADERS, cells, strict=False))
        assert by["检查号"].value == study["exam_id"]
        order = by["开单时间"]
        assert isinstance(order.value, datetime) and order.value == study["order_datetime"]
        assert order.number_format == "yyyy-mm-dd hh:mm:ss"
        if study["report_certification_datetime"] is None:
            assert by["报告审核时间"].value is None
        else:
            assert by["报告审核时间"].value == study["report_certification_datetime"]
        assert by["性别"].value in ("男", "女", "未知", None)
        assert (by["性别"].value is None) == (study["patient_gender"] is None)
        age = by["年龄"].value
        if age is not None:
            assert re.fullmatch(r"\d+(岁|月|天)", age)
            ages.add(age[-1])
        assert by["检查描述"].value == study["exam_description"]
        assert by["申请单号"].value == study["application_order_no"]
    assert "岁" in ages and ages & {"月", "天"}


def test_xlsx_writes_formula_like_text_as_text(tmp_path):
    study = dict.fromkeys(STUDY_FIELDS)
    study.update(
        exam_id="=1+1",
        patient_name='=HYPERLINK("x")',
        patient_gender="M",
        patient_age=45,
        exam_status="@SUM(A1)",
        exam_source="-2+3",
        exam_item="+cmd|' /C calc'!A0",
        exam_description="\t=1",
        order_datetime=datetime(2025, 11, 6, 10, 30),
    )
    path = tmp_path / "evil.xlsx"
    write_studies_xlsx(path, [study])
    ws = openpyxl.load_workbook(path).active
    row = dict(zip(ZH_HEADERS, next(ws.iter_rows(min_row=2)), strict=True))
    for header, value in (
        ("检查号", "=1+1"),
        ("姓名", '=HYPERLINK("x")'),
        ("检查状态", "@SUM(A1)"),
        ("检查来源", "-2+3"),
        ("检查项目", "+cmd|' /C calc'!A0"),
    ):
        assert row[header].data_type == "s", header
        assert row[header].value == value
    assert row["年龄"].value == "45岁"
    raw = path.read_bytes()
    assert b"<f>" not in raw  # no formula element anywhere in the package


def test_xlsx_is_byte_identical_for_the_same_data(tmp_path):
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_studies_xlsx(a, generate_studies(200, seed=5))
    write_studies_xlsx(b, generate_studies(200, seed=5))
    assert a.read_bytes() == b.read_bytes()


def test_age_text():
    assert age_text(45) == "45岁"
    assert age_text(0, 5) == "5天"
    assert age_text(0, 95) == "3月"
    assert age_text(0) == "0岁"
    assert age_text(None) is None


def test_reports_json(tmp_path, reports):
    path = tmp_path / "reports.json"
    assert write_reports_json(path, reports) == len(reports)
    text = path.read_text(encoding="utf-8")
    assert "检查所见" in text  # not \u-escaped
    data = json.loads(text)
    assert isinstance(data, list) and len(data) == len(reports)
    for obj, r in zip(data, reports, strict=True):
        assert tuple(obj) == REPORT_FIELDS
        assert obj["content"] == r["content"]
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", obj["created_at"])
        assert (obj["reviewed_at"] is None) == (r["reviewed_at"] is None)
    empty = tmp_path / "empty.json"
    assert write_reports_json(empty, []) == 0
    assert json.loads(empty.read_text(encoding="utf-8")) == []


def test_reports_csv_and_xlsx(tmp_path, reports):
    some = reports[:300]
    csv_path, xlsx_path = tmp_path / "r.csv", tmp_path / "r.xlsx"
    write_reports_csv(csv_path, some)
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text(encoding="utf-8-sig"))))
    assert tuple(rows[0]) == REPORT_FIELDS
    assert [r["content"] for r in rows] == [r["content"] for r in some]
    assert all(r["submitted_at"] == "" for r in rows if r["status"] == "draft")

    write_reports_xlsx(xlsx_path, some)
    ws = openpyxl.load_workbook(xlsx_path).active
    got = list(ws.iter_rows(values_only=True))
    assert got[0] == REPORT_FIELDS
    for row, r in zip(got[1:], some, strict=True):
        assert row[REPORT_FIELDS.index("content")] == r["content"]
        assert row[REPORT_FIELDS.index("created_at")] == r["created_at"]
        assert row[REPORT_FIELDS.index("reviewed_at")] == r["reviewed_at"]
