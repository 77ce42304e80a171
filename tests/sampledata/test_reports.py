from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import datetime

from sampledata import DEFAULT_END, REPORT_FIELDS, generate_reports, generate_studies

from .textutil import MEASURE, measurements, sentences, to_mm

FINAL = {"finalized", "reviewed", "submitted"}


def findings_section(content: str) -> str:
    if "检查所见：" in content:
        body = content.split("检查所见：", 1)[1].split("诊断意见：", 1)[0]
        return body.replace("\n", "")
    body = content.split("FINDINGS:\n", 1)[1].split("\nIMPRESSION:", 1)[0]
    return body.replace("\n", " ")


def test_fields_ids_and_study_links(reports, study_by_id):
    ids = [r["report_id"] for r in reports]
    assert len(set(ids)) == len(ids)
    for r in reports:
        assert tuple(r) == REPORT_FIELDS
        assert r["exam_id"] in study_by_id
        assert r["report_id"].startswith("RPT" + r["exam_id"])
        assert len(r["report_id"]) <= 50
        assert r["radiologist"] and r["content"].strip()


def test_every_reported_study_has_a_consistent_report(studies, reports):
    by_exam = defaultdict(list)
    for r in reports:
        by_exam[r["exam_id"]].append(r)
    for s in studies:
        final = [r for r in by_exam[s["exam_id"]] if r["status"] != "draft"]
        if s["exam_status"] == "已审核":
            assert [r["status"] for r in final] in (["finalized"], ["reviewed"])
        elif s["exam_status"] == "已报告":
            assert [r["status"] for r in final] == ["submitted"]
        else:
            assert final == []
        if s["exam_status"] not in ("已审核", "已报告", "已检查"):
            assert by_exam[s["exam_id"]] == []
    drafts_while_reading = {r["exam_id"] for r in reports if r["status"] == "draft"} & {
        s["exam_id"] for s in studies if s["exam_status"] == "已检查"
    }
    assert drafts_while_reading


def test_report_times_follow_the_study(reports, study_by_id):
    for r in reports:
        s = study_by_id[r["exam_id"]]
        start = s["check_in_datetime"] or s["order_datetime"]
        assert start <= r["created_at"] <= DEFAULT_END
        if r["status"] == "draft":
            assert r["submitted_at"] is None and r["reviewed_at"] is None
        if r["status"] == "submitted":
            assert r["created_at"] <= r["submitted_at"] and r["reviewed_at"] is None
        if r["status"] in ("finalized", "reviewed"):
            assert r["created_at"] <= r["submitted_at"] <= r["reviewed_at"]
            assert r["reviewed_at"] == s["report_certification_datetime"]
        for field in ("created_at", "submitted_at", "reviewed_at"):
            assert r[field] is None or (isinstance(r[field], datetime) and not r[field].microsecond)


def test_some_drafts_were_superseded(reports):
    by_exam = defaultdict(list)
    for r in reports:
        by_exam[r["exam_id"]].append(r)
    superseded = [rs for rs in by_exam.values() if len(rs) == 2]
    assert len(superseded) > 50
    for draft, final in superseded:
        assert draft["status"] == "draft" and final["status"] in FINAL
        assert final["report_id"] == draft["report_id"] + "-2"
        assert draft["created_at"] <= final["created_at"]
        assert findings_section(draft["content"]) == findings_section(final["content"])


def test_report_findings_are_the_study_description(reports, study_by_id):
    checked = 0
    for r in reports:
        s = study_by_id[r["exam_id"]]
        if r["status"] in FINAL and s["exam_description"]:
            assert findings_section(r["content"]) == s["exam_description"]
            checked += 1
    assert checked > 2000


def test_chinese_and_english_reports_with_sections(reports):
    zh = [r for r in reports if "检查所见：" in r["content"]]
    en = [r for r in reports if "FINDINGS:" in r["content"]]
    assert len(zh) + len(en) == len(reports)
    assert len(zh) / len(reports) > 0.7
    assert len(en) / len(reports) > 0.05
    finals = [r for r in reports if r["status"] in FINAL]
    assert all("诊断意见：" in r["content"] or "IMPRESSION:" in r["content"] for r in finals)
    assert any("COMPARISON:" in r["content"] for r in en)
    assert any("临床诊断：" in r["content"] for r in zh)


def test_normal_negated_uncertain_and_lateral_phrasings(reports):
    text = "\n".join(r["content"] for r in reports)
    for phrase in (
        "未见明显异常",
        "未见气胸",
        "颅内未见明显出血",
        "心影不大",
        "No pleural effusion or pneumothorax",
        "No focal consolidation",
        "without",
        "考虑",
        "可能",
        "不除外",
        "cannot be excluded",
        "likely",
        "左侧",
        "右肺",
        "双侧",
        "left",
        "right",
        "bilateral",
    ):
        assert phrase in text, phrase


def test_abnormal_findings_cover_the_main_examinations(reports):
    text = "\n".join(r["content"] for r in reports)
    for phrase in (
        "结节",
        "nodule",
        "胸腔积液",
        "pleural effusion",
        "炎",
        "肺气肿",
        "心影增大",
        "钙化",
        "脂肪肝",
        "囊肿",
        "胆囊结石",
        "肾结石",
        "积水",
        "腔隙性脑梗死",
        "脑萎缩",
        "脑白质",
        "椎间盘突出",
        "骨质增生",
        "骨折",
    ):
        assert phrase in text, phrase


def test_measurements_in_several_formats(reports):
    text = "\n".join(r["content"] for r in reports)
    assert re.search(r"\d+mm×\d+mm", text)
    assert re.search(r"\d+\.\d+cm", text)
    assert re.search(r"\d+ x \d+ mm", text)
    assert re.search(r"\d+毫米", text)


def test_critical_findings_are_rare_and_flagged(reports):
    flagged = [r for r in reports if "危急值" in r["content"] or "Critical result" in r["content"]]
    assert 0 < len(flagged) / len(reports) < 0.03
    for r in flagged:
        assert re.search(r"气胸|出血|血肿|pneumothorax|hemorrhage", r["content"])


def _comparison_date(content: str) -> str | None:
    m = re.search(r"(?:与|对比|COMPARISON: )(\d{4}-\d{2}-\d{2})", content)
    return m.group(1) if m else None


def test_follow_up_measurements_change_coherently(reports_by_patient):
    """A later report re-measures the same lesion; its prior size is what the prior said."""
    grown = shrunk = 0
    for visits in reports_by_patient.values():
        for _, r in visits:
            if r["status"] not in FINAL:
                continue
            for sentence in sentences(r["content"]):
                m = re.search(
                    r"较前(增大|缩小)[（，]前片(?:大小)?约(?P<zh>[^）。]+)|"
                    r"(?P<dir>increased|enlarged|decreased) from (?P<en>[\d.]+[^,;]*?(?:mm|cm))",
                    sentence,
                )
                if not m:
                    continue
                prev_text = m.group("zh") or m.group("en")
                prev = to_mm(MEASURE.search(prev_text).group(0))
                # the size now is the other measurement of the sentence
                current = measurements(sentence.replace(m.group(0), ""))[0]
                larger = "增大" in sentence or m.group("dir") in ("increased", "enlarged")
                assert (max(current) > max(prev)) == larger, sentence
                grown += larger
                shrunk += not larger
                # the prior report of this patient measured exactly that
                day = _comparison_date(r["content"])
                assert day, r["content"]
                prior = [
                    pr
                    for ps, pr in visits
                    if ps["order_datetime"].date().isoformat() == day and pr["status"] in FINAL
                ]
                if prior:  # the prior may be unreported (cancelled draft, lost report)
                    assert any(prev in measurements(pr["content"]) for pr in prior), (
                        sentence,
                        [pr["content"] for pr in prior],
                    )
    assert grown >= 5
    assert shrunk >= 1


def test_follow_ups_resolve_stay_stable_and_find_new_things(reports):
    text = "\n".join(r["content"] for r in reports)
    assert re.search(r"原.{2,12}(已吸收|现未见显示)", text)
    assert re.search(r"较前变化不著|较前相仿|同前", text)
    assert re.search(r"新发|前片未见", text)
    assert re.search(r"resolved|no longer (seen|visualized)|unchanged|stable", text)


def test_reports_deterministic_and_seed_drives_report_choices(studies):
    subset = studies[:600]
    a = list(generate_reports(subset, seed=1))
    b = list(generate_reports(subset, seed=1))
    c = list(generate_reports(subset, seed=2))
    assert a == b
    assert [r["radiologist"] for r in a] != [r["radiologist"] for r in c]
    # content belongs to the study, whatever the report seed
    content_a = {r["exam_id"]: r["content"] for r in a if r["status"] in FINAL}
    content_c = {r["exam_id"]: r["content"] for r in c if r["status"] in FINAL}
    assert content_a == content_c


def test_different_study_seed_gives_different_reports():
    a = [r["content"] for r in generate_reports(generate_studies(300, seed=1), seed=1)]
    b = [r["content"] for r in generate_reports(generate_studies(300, seed=2), seed=1)]
    assert a != b


def test_foreign_studies_and_unknown_items_still_read():
    study = {
        "exam_id": "EXAM001",
        "medical_record_no": None,
        "patient_name": "Zhang Wei",
        "patient_age": 45,
        "exam_status": "completed",
        "exam_source": "CT",
        "exam_item": "Pelvic MRI",
        "equipment_type": None,
        "order_datetime": datetime(2025, 11, 6, 10, 30),
        "check_in_datetime": datetime(2025, 11, 6, 10, 45),
        "report_certification_datetime": datetime(2025, 11, 6, 14, 30),
    }
    scheduled = {**study, "exam_id": "EXAM002", "exam_status": "pending"}
    (report,) = generate_reports([study, scheduled], now=datetime(2025, 11, 7))
    assert report["exam_id"] == "EXAM001"
    assert report["status"] in ("finalized", "reviewed")
    assert report["reviewed_at"] == datetime(2025, 11, 6, 14, 30)
    assert "未见明显异常" in report["content"] or "No significant abnormality" in report["content"]


def test_status_mix(reports):
    statuses = Counter(r["status"] for r in reports)
    assert set(statuses) == {"draft", "submitted", "reviewed", "finalized"}
    assert statuses["finalized"] > statuses["reviewed"] > 0
