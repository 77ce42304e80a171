from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from datetime import datetime, timedelta

from sampledata import DEFAULT_END, STUDY_FIELDS, generate_studies
from sampledata.vocab import EXAM_ITEMS

STATUSES = {"已审核", "已报告", "已检查", "已登记", "已预约", "已取消"}
REPORTED = {"已审核", "已报告"}


def test_fields_in_spec_order_with_python_types(studies):
    assert len(studies) == 3000
    for s in studies:
        assert tuple(s) == STUDY_FIELDS
        assert isinstance(s["order_datetime"], datetime)
        assert s["order_datetime"].tzinfo is None and s["order_datetime"].microsecond == 0
        assert s["patient_age"] is None or isinstance(s["patient_age"], int)
        for field in ("patient_name", "exam_status", "exam_source", "exam_item"):
            assert isinstance(s[field], str) and s[field] == s[field].strip() and s[field]


def test_same_seed_same_studies_different_seed_different():
    a = list(generate_studies(400, seed=7))
    b = list(generate_studies(400, seed=7))
    c = list(generate_studies(400, seed=8))
    assert a == b
    assert [s["patient_name"] for s in a] != [s["patient_name"] for s in c]


def test_exam_ids_unique_and_shaped(studies):
    ids = [s["exam_id"] for s in studies]
    assert len(set(ids)) == len(ids)
    for s in studies:
        m = re.fullmatch(r"(CT|MR|DR|US)(\d{6})(\d{4,})", s["exam_id"])
        assert m, s["exam_id"]
        assert len(s["exam_id"]) <= 50
        assert m.group(2) == s["order_datetime"].strftime("%y%m%d")
        item = next(it for it in EXAM_ITEMS if it.name == s["exam_item"])
        assert m.group(1) == item.modality
        assert s["equipment_type"] in (None, item.modality)


def test_chronological_and_nothing_after_the_export(studies):
    orders = [s["order_datetime"] for s in studies]
    assert orders == sorted(orders)
    assert orders[-1] <= DEFAULT_END
    assert orders[0] >= DEFAULT_END - timedelta(days=730)
    for s in studies:
        check_in, cert = s["check_in_datetime"], s["report_certification_datetime"]
        if check_in is not None:
            assert s["order_datetime"] <= check_in <= DEFAULT_END
        if cert is not None:
            assert s["exam_status"] in REPORTED
            assert (check_in or s["order_datetime"]) <= cert <= DEFAULT_END
        if s["exam_status"] == "已预约":
            assert check_in is None


def test_statuses_sources_and_descriptions(studies):
    statuses = Counter(s["exam_status"] for s in studies)
    assert set(statuses) == STATUSES
    assert 0.7 < statuses["已审核"] / len(studies) < 0.95
    assert {s["exam_source"] for s in studies} == {"门诊", "住院", "急诊", "体检"}
    assert {s["equipment_type"] for s in studies} == {"CT", "MR", "DR", "US", None}
    for s in studies:
        if s["exam_status"] not in REPORTED:
            assert s["exam_description"] is None
    described = [s for s in studies if s["exam_status"] in REPORTED]
    assert sum(s["exam_description"] is not None for s in described) / len(described) > 0.9


def test_recent_days_hold_unfinished_work(studies):
    recent = [s for s in studies if DEFAULT_END - s["order_datetime"] < timedelta(days=3)]
    assert recent
    assert any(s["exam_status"] in {"已检查", "已登记", "已预约"} for s in recent)


def test_turnaround_emergencies_fast_some_over_a_day(studies):
    def tat_minutes(source):
        return [
            (s["report_certification_datetime"] - s["order_datetime"]).total_seconds() / 60
            for s in studies
            if s["exam_source"] == source and s["report_certification_datetime"]
        ]

    emergency, outpatient = tat_minutes("急诊"), tat_minutes("门诊")
    assert statistics.median(emergency) < 120
    assert statistics.median(emergency) < statistics.median(outpatient)
    all_tat = [t for src in ("门诊", "住院", "急诊", "体检") for t in tat_minutes(src)]
    over_a_day = sum(t > 24 * 60 for t in all_tat) / len(all_tat)
    assert 0.005 < over_a_day < 0.15


def test_repeat_visits_share_mrn_and_keep_identity_and_age(studies):
    seen: dict[str, dict] = {}
    repeats = same_item = 0
    history = defaultdict(list)
    for s in studies:
        mrn = s["medical_record_no"]
        if mrn is None:
            continue
        assert re.fullmatch(r"\d{10}", mrn)
        if mrn in seen:
            repeats += 1
            first = seen[mrn]
            assert s["patient_name"] == first["patient_name"]
            assert s["patient_gender"] == first["patient_gender"]
            same_item += s["exam_item"] in {h["exam_item"] for h in history[mrn]}
        else:
            seen[mrn] = s
        history[mrn].append(s)
    assert 0.25 < repeats / len(studies) < 0.45
    assert same_item / repeats > 0.3  # follow-ups often repeat the exam

    for visits in history.values():
        aged = [v for v in visits if v["patient_age"] is not None]
        for earlier, later in zip(aged, aged[1:], strict=False):
            years = (later["order_datetime"] - earlier["order_datetime"]).days / 365.25
            assert later["order_datetime"] >= earlier["order_datetime"]
            assert 0 <= later["patient_age"] - earlier["patient_age"] <= years + 1


def test_names_mostly_chinese_some_pinyin_and_western(studies):
    names = [s["patient_name"] for s in studies]
    chinese = sum(bool(re.fullmatch(r"[\u4e00-\u9fff]{2,4}", n)) for n in names)
    latin = [n for n in names if n.isascii()]
    assert chinese / len(names) > 0.75
    assert any(n.split()[0] in {"Zhang", "Wang", "Li", "Liu", "Chen"} for n in latin)
    assert any(n.split()[-1] in {"Smith", "Johnson", "Brown", "Garcia", "Kim"} for n in latin)


def test_some_optional_cells_empty(studies):
    n = len(studies)
    certified = [s for s in studies if s["exam_status"] == "已审核"]
    for field, group in (
        ("application_order_no", studies),
        ("patient_age", studies),
        ("equipment_type", studies),
        ("certified_physician", certified),
        ("check_in_datetime", certified),
    ):
        empty = sum(s[field] is None for s in group) / len(group)
        assert 0 < empty <= 0.05, field
    assert {s["patient_gender"] for s in studies} == {"M", "F", "U", None}
    assert sum(s["patient_gender"] in ("M", "F") for s in studies) / n > 0.95


def test_infants_have_an_age_in_days(studies):
    infants = [s for s in studies if s["patient_age"] == 0]
    assert infants
    assert all(0 <= s.age_days < 366 for s in infants)


def test_items_fit_the_modality_and_sex(studies):
    for s in studies:
        item = s["exam_item"]
        if item.endswith("片"):
            assert s["exam_id"].startswith("DR")
        if "超声" in item or "彩超" in item:
            assert s["exam_id"].startswith("US")
        if item == "乳腺彩超":
            assert s["patient_gender"] == "F"


def test_generates_zero_and_validates_arguments():
    assert list(generate_studies(0)) == []
    for bad in ({"n": -1}, {"n": 5, "days": 0}):
        try:
            list(generate_studies(**bad))
        except ValueError:
            continue
        raise AssertionError(bad)
