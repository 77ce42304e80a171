"""The three analyses, the prior study choice and the shape of their results."""

import json
from datetime import datetime, timedelta

import pytest

from nlp import (
    ANALYSIS_TYPES,
    analyze_comparison,
    analyze_detailed,
    analyze_general,
    primary_report,
    run_analysis,
    select_prior,
)

ORDER = datetime(2025, 11, 6, 8, 0)


def make_study(**fields):
    study = {
        "exam_id": "CT202511060001",
        "medical_record_no": "MRN001",
        "patient_name": "张三",
        "exam_item": "胸部CT平扫",
        "equipment_type": "CT",
        "exam_description": None,
        "exam_status": "已审核",
        "order_datetime": ORDER,
        "check_in_datetime": ORDER + timedelta(minutes=30),
        "report_certification_datetime": ORDER + timedelta(hours=3),
    }
    study.update(fields)
    return study


def make_report(content, report_id="R1", status="finalized", **fields):
    report = {
        "report_id": report_id,
        "content": content,
        "status": status,
        "radiologist": "Dr. Li",
        "created_at": ORDER + timedelta(hours=2),
    }
    report.update(fields)
    return report


def assert_json_ready(value):
    """Only str/int/float/bool/None/list/dict, all the way down."""
    if isinstance(value, dict):
        for k, v in value.items():
            assert isinstance(k, str)
            assert_json_ready(v)
    elif isinstance(value, list):
        for v in value:
            assert_json_ready(v)
    else:
        assert value is None or isinstance(value, str | int | float | bool), repr(value)
    json.dumps(value, allow_nan=False)


CHINESE_CT = (
    "检查所见：右侧胸腔见气胸，右肺压缩约30%。左肺下叶见一结节，大小约6mm×5mm。"
    "双肺未见明显渗出。纵隔未见肿大淋巴结。\n"
    "诊断意见：1.右侧气胸；2.左肺下叶结节，考虑炎性结节可能。"
)


# ----------------------------------------------------------------------------- general


def test_general_reports_critical_positive_pneumothorax():
    result = analyze_general(make_study(), [make_report("右侧气胸")])
    assert result["has_critical"] is True
    (flag,) = result["critical_flags"]
    assert flag["key"] == "pneumothorax"
    assert flag["laterality"] == "right"
    assert flag["assertion"] == "positive"
    assert flag["evidence"][0]["sentence"] == "右侧气胸"
    assert flag["evidence"][0]["report_id"] == "R1"
    assert "CRITICAL" in result["summary"]


def test_negated_pneumothorax_is_not_critical():
    result = analyze_general(make_study(), [make_report("No pneumothorax. 未见气胸。")])
    assert result["critical_flags"] == []
    assert result["has_critical"] is False
    assert [g["key"] for g in result["negated_findings"]] == ["pneumothorax"]
    assert len(result["negated_findings"][0]["evidence"]) == 2


def test_uncertain_critical_finding_is_not_flagged_but_says_why():
    # Issue 24: flags only for affirmed, current findings (this test used to expect a flag).
    result = analyze_general(make_study(), [make_report("Cannot exclude small subdural hematoma.")])
    assert result["critical_flags"] == []
    (held,) = result["critical_not_flagged"]
    assert (held["key"], held["reason"]) == ("hemorrhage", "uncertain")
    assert held["cue"]["text"] == "Cannot exclude"
    assert [g["key"] for g in result["uncertain_findings"]] == ["hemorrhage"]
    assert result["positive_findings"] == []


def test_general_on_a_chinese_report():
    result = analyze_general(make_study(), [make_report(CHINESE_CT)])
    positive = {(g["key"], g["laterality"]) for g in result["positive_findings"]}
    assert positive == {("pneumothorax", "right"), ("nodule", "left")}
    nodule = next(g for g in result["positive_findings"] if g["key"] == "nodule")
    assert nodule["max_mm"] == 6.0
    assert {g["key"] for g in result["negated_findings"]} == {"opacity", "lymphadenopathy"}
    assert result["impression"]["section"] == "impression"
    assert result["impression"]["text"] == "1.右侧气胸；2.左肺下叶结节，考虑炎性结节可能。"
    assert result["impression"]["from"] == "section"
    assert result["counts"]["critical"] == 1
    assert_json_ready(result)


def test_general_result_shape():
    result = analyze_general(make_study(), [make_report("FINDINGS: Clear lungs.")])
    assert set(result) == {
        "analysis_type", "engine", "exam_id", "exam_item", "equipment_type", "exam_status",
        "source", "report_id", "timeline", "report_status", "impression",
        "positive_findings", "uncertain_findings", "negated_findings", "critical_flags",
        "critical_not_flagged", "has_critical", "counts", "summary", "summary_code",
        "summary_parts",
    }  # fmt: skip
    assert result["analysis_type"] == "general"
    assert result["engine"]["name"] == "nlp"
    assert result["timeline"]["intervals_minutes"]["order_to_certification"] == 180.0
    assert result["impression"] == {
        "text": "Clear lungs.",
        "span": [10, 22],
        "section": "findings",
        "from": "last_sentence",
        "report_id": "R1",
    }
    assert result["summary"] == (
        "Report R1 (finalized). No positive findings. Order to certification 3.0 h."
    )
    assert_json_ready(result)


def test_general_flags_a_slow_turnaround_with_a_configurable_limit():
    study = make_study(report_certification_datetime=ORDER + timedelta(hours=30))
    result = analyze_general(study, [make_report("Clear.")])
    assert result["timeline"]["exceeds_limit"] is True
    assert "over the 24 h limit" in result["summary"]
    relaxed = analyze_general(study, [make_report("Clear.")], turnaround_limit_hours=48)
    assert relaxed["timeline"]["exceeds_limit"] is False


def test_general_without_reports_reads_the_exam_description():
    study = make_study(exam_description="胸部CT：右肺上叶结节，大小约8mm。")
    result = analyze_general(study, [])
    assert result["source"] == "exam_description"
    assert result["report_id"] is None
    assert result["report_status"] is None
    assert result["positive_findings"][0]["evidence"][0]["report_id"] is None
    assert result["positive_findings"][0]["max_mm"] == 8.0
    assert result["summary"].startswith("No report text; the exam description was read.")


def test_general_with_nothing_to_read():
    result = analyze_general(make_study(report_certification_datetime=None), [])
    assert result["source"] == "none"
    assert result["impression"] is None
    assert result["positive_findings"] == []
    assert result["summary"] == (
        "No report text or exam description to read. No positive findings. Not certified yet."
    )


def test_the_primary_report_is_read_and_the_others_listed():
    reports = [
        make_report("Possible pneumothorax.", "R1", "draft", created_at=ORDER + timedelta(hours=4)),
        make_report("No pneumothorax.", "R2", "finalized", created_at=ORDER + timedelta(hours=3)),
        make_report("", "R3", "finalized", created_at=ORDER + timedelta(hours=5)),
    ]
    result = analyze_general(make_study(), reports)
    assert result["report_id"] == "R2"
    assert result["critical_flags"] == []
    status = result["report_status"]
    assert (status["status"], status["report_count"]) == ("finalized", 3)
    assert [(r["report_id"], r["analysed"]) for r in status["reports"]] == [
        ("R1", False),
        ("R2", True),
        ("R3", False),
    ]
    assert status["reports"][0]["created_at"] == "2025-11-06T12:00:00"


@pytest.mark.parametrize(
    ("reports", "expected"),
    [
        ([], None),
        ([{"report_id": "A", "content": " ", "status": "finalized"}], None),
        (
            [
                {"report_id": "A", "content": "x", "status": "reviewed"},
                {"report_id": "B", "content": "x", "status": "Finalized"},
            ],
            "B",
        ),
        (
            [
                {
                    "report_id": "A",
                    "content": "x",
                    "status": "draft",
                    "created_at": "2025-01-02T00:00:00",
                },
                {
                    "report_id": "B",
                    "content": "x",
                    "status": "draft",
                    "created_at": "2025-01-01T00:00:00",
                },
            ],
            "A",
        ),
        (
            [
                {"report_id": "A", "content": "x", "status": "odd", "created_at": "garbage"},
                {"report_id": "B", "content": "x", "status": "draft"},
            ],
            "B",
        ),
    ],
)
def test_primary_report_table(reports, expected):
    chosen = primary_report(reports)
    assert (chosen["report_id"] if chosen else None) == expected


# ----------------------------------------------------------------------------- detailed


def test_detailed_lists_sections_sentences_and_findings():
    report = make_report(CHINESE_CT)
    result = analyze_detailed(make_study(), [report])
    text = report["content"]
    assert [s["key"] for s in result["sections"]] == ["findings", "impression"]
    for s in result["sections"]:
        assert text[s["span"][0] : s["span"][1]] == s["text"]
        assert text[s["title_span"][0] : s["title_span"][1]] == s["title"]
    for sentence in result["sentences"]:
        assert text[sentence["span"][0] : sentence["span"][1]] == sentence["text"]
        for f in sentence["findings"]:
            assert f["sentence"] == sentence["text"]
            assert f["report_id"] == "R1"
            assert text[f["span"][0] : f["span"][1]] == f["text"]
    nodule = result["sentences"][1]["findings"][0]
    assert (nodule["key"], nodule["laterality"], nodule["assertion"]) == (
        "nodule",
        "left",
        "positive",
    )
    assert nodule["measurements"][0]["dims_mm"] == [6.0, 5.0]
    last = result["sentences"][-1]["findings"]
    assert [(f["key"], f["assertion"]) for f in last] == [
        ("nodule", "positive"),
        ("nodule", "uncertain"),
    ]
    assert result["counts"] == {
        "sections": 2,
        "sentences": 6,
        "findings": 7,
        "positive": 4,
        "uncertain": 1,
        "negated": 2,
        "measurements": 1,
        "prior_measurements": 0,
    }
    assert result["summary"].startswith("Report R1 (finalized): 2 section(s), 6 sentence(s)")
    assert_json_ready(result)


def test_detailed_on_an_english_report():
    content = (
        "FINDINGS: Heart size normal. A 1.2 x 0.8 cm mass in the left upper lobe. "
        "No pneumothorax. Possible small right pleural effusion.\n"
        "IMPRESSION: Left upper lobe mass."
    )
    result = analyze_detailed(make_study(), [make_report(content)])
    findings = [f for s in result["sentences"] for f in s["findings"]]
    assert [(f["key"], f["assertion"], f["laterality"]) for f in findings] == [
        ("cardiomegaly", "negated", None),  # "heart size normal" denies it by itself
        ("mass", "positive", "left"),
        ("pneumothorax", "negated", None),
        ("pleural_effusion", "uncertain", "right"),
        ("mass", "positive", "left"),
    ]
    assert findings[1]["measurements"][0]["dims_mm"] == [12.0, 8.0]
    assert findings[1]["max_mm"] == 12.0


def test_detailed_without_text():
    result = analyze_detailed(make_study(), [])
    assert (result["source"], result["sections"], result["sentences"]) == ("none", [], [])
    assert result["text_length"] == 0


# ----------------------------------------------------------------------------- comparison


PRIOR_STUDY = make_study(
    exam_id="CT202508010001",
    order_datetime=datetime(2025, 8, 1, 9, 0),
    check_in_datetime=None,
    report_certification_datetime=None,
)
PRIOR_REPORT = make_report(
    "FINDINGS: 6 mm nodule in the right upper lobe. Small left pleural effusion. "
    "Calcified granuloma in the left lower lobe, 4 mm.\nIMPRESSION: Right upper lobe nodule.",
    "P1",
)
CURRENT_REPORT = make_report(
    "FINDINGS: The right upper lobe nodule now measures 9 mm. No pleural effusion. "
    "Calcified granuloma in the left lower lobe, 4.3 mm. New mild cardiomegaly.",
    "R9",
)


def test_comparison_reports_growth_and_resolution():
    result = analyze_comparison(make_study(), [CURRENT_REPORT], PRIOR_STUDY, [PRIOR_REPORT])
    assert result["has_prior"] is True
    assert result["prior_exam_id"] == "CT202508010001"
    assert result["prior_report_id"] == "P1"
    assert result["interval_days"] == 97
    assert [(f["key"], f["laterality"]) for f in result["new_findings"]] == [("cardiomegaly", None)]
    (resolved,) = result["resolved_findings"]
    assert (resolved["key"], resolved["laterality"]) == ("pleural_effusion", "left")
    assert resolved["current_status"] == "negated"
    assert resolved["current_evidence"][0]["sentence"] == "No pleural effusion."
    # A calcified granuloma is a granuloma and a calcification, two findings (issue 24).
    assert [(f["key"], f["laterality"]) for f in result["persistent_findings"]] == [
        ("nodule", "right"),
        ("calcification", "left"),
        ("granuloma", "left"),
    ]
    nodule, granuloma = result["size_changes"]
    assert granuloma["key"] == "granuloma"
    assert {k: nodule[k] for k in ("key", "prior_max_mm", "current_max_mm", "change_mm")} == {
        "key": "nodule",
        "prior_max_mm": 6.0,
        "current_max_mm": 9.0,
        "change_mm": 3.0,
    }
    assert nodule["change_percent"] == 50.0
    assert nodule["trend"] == "increased"
    assert nodule["prior_evidence"][0]["report_id"] == "P1"
    assert (
        nodule["current_evidence"][0]["sentence"]
        == "The right upper lobe nodule now measures 9 mm."
    )
    assert granuloma["trend"] == "stable"  # 4 -> 4.3 mm is within 1 mm
    assert "Nodule (right) 6 -> 9 mm (+3 mm, +50%, increased)" in result["summary"]
    assert_json_ready(result)


@pytest.mark.parametrize(
    ("before", "after", "trend", "percent"),
    [
        ("6 mm", "9 mm", "increased", 50.0),
        ("3.0 cm", "2.0 cm", "decreased", -33.3),
        ("40 mm", "43 mm", "stable", 7.5),  # 3 mm but within 10 %
        ("5 mm", "6 mm", "stable", 20.0),  # 20 % but within 1 mm
    ],
)
def test_size_trend_table(before, after, trend, percent):
    prior = [make_report(f"Right lower lobe mass {before}.", "P")]
    current = [make_report(f"Right lower lobe mass {after}.", "C")]
    (change,) = analyze_comparison(make_study(), current, PRIOR_STUDY, prior)["size_changes"]
    assert (change["trend"], change["change_percent"]) == (trend, percent)


def test_comparison_uses_the_current_size_when_the_report_quotes_the_prior_one():
    # The follow-up quotes the larger earlier size in the same sentence; the lesion shrank.
    prior = [make_report("左侧基底节区见类圆形高密度血肿，大小约42mm×35mm，周围见水肿带。", "P")]
    current = [
        make_report(
            "与2025-08-01片比较：左侧基底节区血肿较前缩小（前片约42mm×35mm），现大小约31mm×26mm，"
            "密度减低。",
            "C",
        )
    ]
    result = analyze_comparison(make_study(), current, PRIOR_STUDY, prior)
    (change,) = result["size_changes"]
    assert (change["key"], change["laterality"]) == ("hemorrhage", "left")
    assert (change["prior_max_mm"], change["current_max_mm"]) == (42.0, 31.0)
    assert change["change_mm"] == -11.0
    assert change["change_percent"] == pytest.approx(-26.2)
    assert change["trend"] == "decreased"
    # The quoted size is supporting evidence, with its span in the current report.
    assert change["quoted_prior_mm"] == 42.0
    assert change["quoted_prior_matches"] is True
    (evidence,) = change["current_evidence"]
    assert evidence["report_id"] == "C"
    (quoted,) = evidence["prior_measurements"]
    text = current[0]["content"]
    assert text[quoted["span"][0] : quoted["span"][1]] == quoted["text"] == "42mm×35mm"
    assert [m["text"] for m in evidence["measurements"]] == ["31mm×26mm"]
    (persistent,) = result["persistent_findings"]
    assert (persistent["max_mm"], persistent["quoted_prior_mm"]) == (31.0, 42.0)
    assert "Hemorrhage (left) 42 -> 31 mm (-11 mm, -26.2%, decreased)." in result["summary"]
    assert "(The report quotes 42 mm before.)" in result["summary"]
    assert_json_ready(result)


def test_english_follow_up_quoting_the_prior_size():
    prior = [make_report("A 1.3 x 1.0 cm solid nodule in the right upper lobe.", "P")]
    current = [
        make_report(
            "The solid nodule in the right upper lobe measures 1.5 x 1.2 cm, "
            "increased from 1.3 x 1.0 cm.",
            "C",
        )
    ]
    (change,) = analyze_comparison(make_study(), current, PRIOR_STUDY, prior)["size_changes"]
    assert (change["prior_max_mm"], change["current_max_mm"], change["trend"]) == (
        13.0,
        15.0,
        "increased",
    )
    assert change["change_percent"] == 15.4
    assert (change["quoted_prior_mm"], change["quoted_prior_matches"]) == (13.0, True)


def test_the_prior_reports_own_size_stays_the_baseline():
    # The quoted size disagrees with what the prior report said: the prior report wins, and
    # the disagreement is shown.
    prior = [make_report("Right lower lobe mass 30 mm.", "P")]
    current = [make_report("Right lower lobe mass 31 mm (previously 42 mm).", "C")]
    result = analyze_comparison(make_study(), current, PRIOR_STUDY, prior)
    (change,) = result["size_changes"]
    assert (change["prior_max_mm"], change["current_max_mm"], change["trend"]) == (
        30.0,
        31.0,
        "stable",
    )
    assert (change["quoted_prior_mm"], change["quoted_prior_matches"]) == (42.0, False)
    assert "(The report quotes 42 mm before, not the prior report's.)" in result["summary"]


def test_a_quoted_size_alone_gives_no_size_change():
    prior = [make_report("Right lower lobe mass.", "P")]
    current = [make_report("Right lower lobe mass 31 mm (previously 42 mm).", "C")]
    result = analyze_comparison(make_study(), current, PRIOR_STUDY, prior)
    assert result["size_changes"] == []
    assert result["persistent_findings"][0]["quoted_prior_mm"] == 42.0


def test_general_and_detailed_keep_quoted_sizes_apart():
    content = "右侧额叶血肿较前缩小（前片约4.2cm×3.5cm），现大小约3.1cm×2.6cm。"
    general = analyze_general(make_study(), [make_report(content)])
    (group,) = general["positive_findings"]
    assert (group["max_mm"], group["quoted_prior_mm"]) == (31.0, 42.0)
    assert "Hemorrhage (right) 31 mm" in general["summary"]
    detailed = analyze_detailed(make_study(), [make_report(content)])
    assert (detailed["counts"]["measurements"], detailed["counts"]["prior_measurements"]) == (2, 1)
    assert detailed["summary"].endswith("2 measurement(s) (1 quoted from a prior study).")
    (sentence,) = detailed["sentences"]
    assert [(m["role"], m["max_mm"]) for m in sentence["measurements"]] == [
        ("prior", 42.0),
        ("current", 31.0),
    ]


def test_comparison_custom_stability_margins():
    prior = [make_report("Mass 40 mm.", "P")]
    current = [make_report("Mass 43 mm.", "C")]
    result = analyze_comparison(
        make_study(), current, PRIOR_STUDY, prior, stable_mm=0.5, stable_percent=5
    )
    assert result["size_changes"][0]["trend"] == "increased"


def test_comparison_pairs_a_side_with_an_unknown_side():
    prior = [make_report("右肺上叶结节，大小约6mm。", "P")]
    current = [make_report("结节，大小约6mm。胸腔积液。", "C")]
    result = analyze_comparison(make_study(), current, PRIOR_STUDY, prior)
    assert [f["key"] for f in result["persistent_findings"]] == ["nodule"]
    assert result["persistent_findings"][0]["prior"]["laterality"] == "right"
    assert result["size_changes"][0]["laterality"] == "right"
    assert [f["key"] for f in result["new_findings"]] == ["pleural_effusion"]
    assert result["resolved_findings"] == []


def test_a_finding_no_longer_mentioned_is_resolved_as_not_mentioned():
    prior = [make_report("Left lower lobe atelectasis.", "P")]
    result = analyze_comparison(
        make_study(), [make_report("Clear lungs.", "C")], PRIOR_STUDY, prior
    )
    (resolved,) = result["resolved_findings"]
    assert (resolved["key"], resolved["current_status"], resolved["current_evidence"]) == (
        "atelectasis",
        "not_mentioned",
        [],
    )


def test_comparison_without_a_prior_says_so():
    result = analyze_comparison(make_study(), [make_report("右侧气胸")], None, None)
    assert result["has_prior"] is False
    assert result["message"].startswith("No prior study")
    assert result["interval_days"] is None
    assert result["new_findings"] == result["resolved_findings"] == []
    assert [f["key"] for f in result["current_findings"]] == ["pneumothorax"]
    assert_json_ready(result)


def test_comparison_with_a_prior_without_text():
    result = analyze_comparison(
        make_study(),
        [make_report("Cardiomegaly.")],
        make_study(exam_id="OLD", order_datetime=None),
        [],
    )
    assert result["has_prior"] is True
    assert result["prior_source"] == "none"
    assert result["interval_days"] is None
    assert result["message"] == "The prior study has no report text or exam description."
    assert [f["key"] for f in result["new_findings"]] == ["cardiomegaly"]
    assert "Compared with OLD:" in result["summary"]


# ----------------------------------------------------------------------------- prior choice


def candidate(exam_id, days_before, **fields):
    fields.setdefault("order_datetime", ORDER - timedelta(days=days_before))
    return make_study(exam_id=exam_id, **fields)


def test_select_prior_prefers_same_exam_item_then_equipment_then_latest():
    study = make_study()
    same_item_old = candidate("A", 300)
    same_item_recent = candidate("B", 100)
    same_equipment = candidate("C", 10, exam_item="腹部CT平扫")
    other = candidate("D", 1, exam_item="头颅MR", equipment_type="MR")
    assert (
        select_prior(study, [same_item_old, same_equipment, other, same_item_recent])
        is same_item_recent
    )
    assert select_prior(study, [same_equipment, other]) is same_equipment
    assert select_prior(study, [other]) is other


@pytest.mark.parametrize(
    "cand",
    [
        candidate("X", 10, medical_record_no="MRN999"),  # another patient
        candidate("X", -1),  # later
        candidate("X", 0),  # same time
        candidate("CT202511060001", 5),  # the study itself
        candidate("X", 10, order_datetime=None),
    ],
)
def test_select_prior_ignores_ineligible_studies(cand):
    assert select_prior(make_study(), [cand]) is None


def test_select_prior_needs_a_record_number():
    assert select_prior(make_study(medical_record_no=None), [candidate("A", 5)]) is None
    assert select_prior(make_study(medical_record_no="  "), [candidate("A", 5)]) is None


def test_select_prior_accepts_iso_strings():
    study = make_study(order_datetime="2025-11-06T08:00:00")
    prior = candidate("A", 0, order_datetime="2025-11-05 08:00")
    assert select_prior(study, [prior]) is prior


# ----------------------------------------------------------------------------- dispatch


def test_run_analysis_dispatches_by_type():
    study, reports = make_study(), [make_report("右侧气胸")]
    assert run_analysis("general", study, reports)["analysis_type"] == "general"
    assert run_analysis("detailed", study, reports)["analysis_type"] == "detailed"
    result = run_analysis(
        "comparison", study, reports, prior_study=PRIOR_STUDY, prior_reports=[PRIOR_REPORT]
    )
    assert result["has_prior"] is True
    with pytest.raises(ValueError, match="unknown analysis type"):
        run_analysis("bogus", study, reports)


def test_analysis_types_describe_the_three_analyses():
    assert [t["value"] for t in ANALYSIS_TYPES] == ["general", "detailed", "comparison"]
    assert all(t["label"] and t["description"] for t in ANALYSIS_TYPES)


def test_results_are_deterministic():
    study, reports = make_study(), [make_report(CHINESE_CT)]
    first = json.dumps(analyze_detailed(study, reports), ensure_ascii=False)
    assert json.dumps(analyze_detailed(study, reports), ensure_ascii=False) == first
