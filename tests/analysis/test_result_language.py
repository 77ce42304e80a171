"""Issue 26: an analysis result's texts in English or Chinese, by Accept-Language, with codes.

Every test asks for an analysis over HTTP, runs it as the worker does
(``services.analysis_run``, or the recovery that fails a task whose worker died) and reads the
task back over HTTP in each language.
"""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.test import Client

from accounts.models import Role
from analysis import services
from analysis.models import AnalysisTask
from tests.analysis.factories import AnalysisTaskFactory
from tests.factories import ReportFactory, StudyFactory, local

pytestmark = pytest.mark.django_db

TASKS = "/api/v1/analysis/tasks"
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9,en;q=0.5"}
ORDER = local(2025, 6, 2, 9, 0)

GENERAL_REPORT = "检查所见：右肺上叶结节，大小约9mm。左侧气胸。未见胸腔积液。考虑肺炎可能。"
PRIOR_REPORT = "检查所见：右肺上叶结节，大小约6mm。双侧胸腔积液。"
GROWN_REPORT = "检查所见：右肺上叶结节，大小约16mm，较前增大（前片约15mm）。"
GROWN_PRIOR = "检查所见：右肺上叶结节，大小约15mm。"


@pytest.fixture
def analyst(api) -> Client:
    return api(Role.ANALYST, username="analyst26")


def _study(content: str | None, *, mrn: str = "MRN-26", days_before: int = 0, **fields):
    study = StudyFactory(
        medical_record_no=mrn, order_datetime=ORDER - timedelta(days=days_before), **fields
    )
    if content is not None:
        ReportFactory(study=study, report_id=f"R-{study.exam_id}", content=content)
    return study


def _run(client: Client, study, kind: str) -> str:
    response = client.post(
        TASKS, {"exam_id": study.exam_id, "analysis_type": kind}, content_type="application/json"
    )
    assert response.status_code == HTTPStatus.CREATED, response.content
    task_id = response.json()["task_id"]
    assert services.analysis_run(task_id=task_id) == "completed"
    return task_id


def _read(client: Client, task_id: str, **headers) -> dict:
    response = client.get(f"{TASKS}/{task_id}", **headers)
    assert response.status_code == HTTPStatus.OK
    return response.json()


def _codes(result: dict) -> list[str]:
    return [p["message_code"] for p in result["summary_parts"]]


def _both(client: Client, task_id: str) -> tuple[dict, dict]:
    english = _read(client, task_id)["result"]
    chinese = _read(client, task_id, **ZH)["result"]
    # The codes are the same whatever the language; only the texts change.
    assert chinese["summary_code"] == english["summary_code"]
    assert _codes(chinese) == _codes(english)
    assert "".join(p["message"] for p in chinese["summary_parts"]) == chinese["summary"]
    assert " ".join(p["message"] for p in english["summary_parts"]) == english["summary"]
    for result in (english, chinese):
        assert all(set(p) == {"message_code", "message"} for p in result["summary_parts"])
    return english, chinese


# ------------------------------------------------------------ every summary, both languages


def test_general_summary_in_english_and_chinese(analyst):
    study = _study(
        GENERAL_REPORT,
        check_in_datetime=ORDER + timedelta(minutes=10),
        report_certification_datetime=ORDER + timedelta(hours=30),
    )
    english, chinese = _both(analyst, _run(analyst, study, "general"))
    report = f"R-{study.exam_id}"
    assert english["summary"] == (
        f"Report {report} (finalized). CRITICAL: Pneumothorax (left). "
        "Positive: Nodule (right) 9 mm, Pneumothorax (left). Uncertain: Pneumonia. "
        "Negated: Pleural effusion. Turnaround: order to certification took 30.0 h, "
        "over the 24 h limit."
    )
    assert chinese["summary"] == (
        f"报告 {report}（已定稿）。危急值：左侧气胸。阳性所见：右侧结节 9 mm、左侧气胸。"
        "可疑：肺炎。未见：胸腔积液。报告时效：开单至审核用时 30.0 小时，超过 24 小时时限。"
    )
    assert english["summary_code"] == "summary.general"
    assert _codes(english) == [
        "general.source_report",
        "general.critical",
        "general.positive",
        "general.uncertain",
        "general.negated",
        "general.turnaround_exceeded",
    ]
    (flag,) = chinese["critical_flags"]
    assert (flag["message_code"], flag["message"]) == ("critical.flag", "危急值：左侧气胸")
    assert english["critical_flags"][0]["message"] == "Critical result: pneumothorax (left)"
    # The finding itself keeps both labels, whatever the language.
    assert (flag["label_en"], flag["label_zh"]) == ("Pneumothorax", "气胸")
    timeline = {
        f["interval"]: (f["message_code"], f["message"]) for f in chinese["timeline"]["flags"]
    }
    assert timeline == {
        "check_in_to_certification": (
            "timeline.exceeds_limit",
            "登记至审核用时 29.8 小时，超过 24 小时时限",
        ),
        "order_to_certification": (
            "timeline.exceeds_limit",
            "开单至审核用时 30.0 小时，超过 24 小时时限",
        ),
    }
    assert "message_params" not in chinese["timeline"]["flags"][0]


@pytest.mark.parametrize(
    ("content", "description", "codes", "english", "chinese"),
    [
        (
            None,
            "胸部CT：右肺上叶结节，大小约8mm。",
            ["general.source_exam_description", "general.positive", "general.not_certified"],
            "No report text; the exam description was read. Positive: Nodule (right) 8 mm. "
            "Not certified yet.",
            "无报告正文，已读取检查描述。阳性所见：右侧结节 8 mm。报告尚未审核。",
        ),
        (
            None,
            "",
            ["general.source_none", "general.no_positive", "general.not_certified"],
            "No report text or exam description to read. No positive findings. Not certified yet.",
            "无报告正文，亦无检查描述可读。未见阳性所见。报告尚未审核。",
        ),
    ],
)
def test_general_summary_without_a_report(analyst, content, description, codes, english, chinese):
    study = _study(content, exam_description=description)
    en, zh = _both(analyst, _run(analyst, study, "general"))
    assert (_codes(en), en["summary"], zh["summary"]) == (codes, english, chinese)


def test_general_summary_with_the_turnaround_within_the_limit(analyst):
    study = _study(
        "检查所见：双肺纹理清晰。", report_certification_datetime=ORDER + timedelta(hours=3)
    )
    english, chinese = _both(analyst, _run(analyst, study, "general"))
    assert english["summary"].endswith("No positive findings. Order to certification 3.0 h.")
    assert chinese["summary"].endswith("（已定稿）。未见阳性所见。开单至审核 3.0 小时。")
    assert _codes(chinese)[-1] == "general.turnaround"


def test_detailed_summary_in_english_and_chinese(analyst):
    study = _study(GROWN_REPORT)
    english, chinese = _both(analyst, _run(analyst, study, "detailed"))
    report = f"R-{study.exam_id}"
    assert english["summary"] == (
        f"Report {report} (finalized): 1 section(s), 1 sentence(s), 1 finding mention(s) "
        "(1 positive, 0 uncertain, 0 negated), 2 measurement(s) (1 quoted from a prior study)."
    )
    assert chinese["summary"] == (
        f"报告 {report}（已定稿）：1 个段落，1 个句子，1 处所见（阳性 1，可疑 0，阴性 0），"
        "2 处测量（其中 1 处引自前片）。"
    )
    assert english["summary_code"] == "summary.detailed"
    assert _codes(english) == ["detailed.source_report", "detailed.counts_quoted"]


def test_comparison_summary_in_english_and_chinese(analyst):
    prior_id = _study(PRIOR_REPORT, days_before=30).exam_id
    study = _study(GENERAL_REPORT)
    english, chinese = _both(analyst, _run(analyst, study, "comparison"))
    assert english["summary"] == (
        f"Compared with {prior_id}, 30 day(s) earlier: 2 new (Pneumothorax (left), Pneumonia); "
        "1 resolved (Pleural effusion (bilateral)); 1 persistent. "
        "Nodule (right) 6 -> 9 mm (+3 mm, +50%, increased)."
    )
    assert chinese["summary"] == (
        f"与 30 天前的前片 {prior_id} 比较：新发 2 项（左侧气胸、肺炎）；"
        "消失 1 项（双侧胸腔积液）；持续存在 1 项。右侧结节 6 → 9 mm（+3 mm，+50%，增大）。"
    )
    assert english["summary_code"] == "summary.comparison"
    assert _codes(english) == [
        "comparison.compared_days",
        "comparison.new_listed",
        "comparison.resolved_listed",
        "comparison.persistent",
        "comparison.size_change_percent",
    ]
    assert (chinese["message"], chinese["message_code"]) == (None, None)
    assert chinese["stability_threshold"] == {
        "stable_mm": 1.0,
        "stable_percent": 10.0,
        "text": "大小变化在 1 mm 或 10% 以内视为稳定",
        "text_code": "comparison.stability_threshold",
    }


def test_comparison_where_the_report_and_the_sizes_disagree(analyst):
    _study(GROWN_PRIOR, days_before=10)
    study = _study(GROWN_REPORT)
    english, chinese = _both(analyst, _run(analyst, study, "comparison"))
    assert english["summary"].endswith(
        "0 new; 0 resolved; 1 persistent. Nodule (right) 15 -> 16 mm (+1 mm, +6.7%, increased). "
        "(The report says 较前增大; the measured change is stable, a size change within 1 mm or "
        "10 % counts as stable.) (The report quotes 15 mm before.)"
    )
    assert chinese["summary"].endswith(
        "新发 0 项；消失 0 项；持续存在 1 项。右侧结节 15 → 16 mm（+1 mm，+6.7%，增大）。"
        "（报告描述为“较前增大”；测量变化为稳定，大小变化在 1 mm 或 10% 以内视为稳定。）"
        "（报告引用前片大小 15 mm。）"
    )
    assert _codes(english)[1:] == [
        "comparison.new",
        "comparison.resolved",
        "comparison.persistent",
        "comparison.size_change_percent",
        "comparison.measurement_disagrees",
        "comparison.quoted_prior",
    ]
    (change,) = chinese["size_changes"]
    assert change["threshold"]["text"] == "大小变化在 1 mm 或 10% 以内视为稳定"


def test_comparison_without_a_prior_says_so_in_both_languages(analyst):
    study = _study(GENERAL_REPORT, mrn="MRN-ALONE")
    english, chinese = _both(analyst, _run(analyst, study, "comparison"))
    assert (english["summary_code"], _codes(english)) == (
        "summary.no_prior",
        ["comparison.no_prior"],
    )
    assert english["summary"] == english["message"]
    assert english["summary"] == "No prior study of this patient to compare with."
    assert chinese["summary"] == chinese["message"] == "该患者没有可供对比的既往检查。"
    assert chinese["message_code"] == "comparison.no_prior"


def test_a_prior_without_text_is_noted_in_both_languages(analyst):
    _study(None, days_before=5, exam_description="")
    study = _study(GENERAL_REPORT)
    english, chinese = _both(analyst, _run(analyst, study, "comparison"))
    assert english["message"] == "The prior study has no report text or exam description."
    assert chinese["message"] == "前次检查无报告正文，亦无检查描述。"
    assert chinese["message_code"] == "comparison.prior_unreadable"


# ------------------------------------------------------------ Accept-Language


@pytest.mark.parametrize(
    ("header", "chinese"),
    [
        (None, False),
        ("en-US,en;q=0.9", False),
        ("fr-FR", False),
        ("*", False),
        ("zh", True),
        ("zh-CN", True),
        ("zh-Hans", True),
        ("zh-hans-CN", True),
        ("fr;q=1, zh;q=0.8", True),
        ("en;q=1, zh-CN;q=0.5", False),
    ],
)
def test_accept_language_chooses_the_language_of_every_answer(analyst, header, chinese):
    study = _study(None, mrn="MRN-AL", exam_description="")
    task_id = _run(analyst, study, "comparison")
    headers = {"HTTP_ACCEPT_LANGUAGE": header} if header else {}
    expected = (
        "该患者没有可供对比的既往检查。"
        if chinese
        else "No prior study of this patient to compare with."
    )
    detail = _read(analyst, task_id, **headers)
    listed = analyst.get(TASKS, {"exam_id": study.exam_id}, **headers).json()["data"]
    assert detail["result"]["summary"] == expected
    assert [t["result"]["summary"] for t in listed] == [expected]


def test_the_stored_result_keeps_english_texts_and_the_parameters(analyst):
    study = _study(GENERAL_REPORT)
    task_id = _run(analyst, study, "general")
    _read(analyst, task_id, **ZH)  # reading in Chinese changes nothing stored
    stored = AnalysisTask.objects.get(task_id=task_id).result
    assert stored["summary"].startswith(f"Report R-{study.exam_id} (finalized).")
    (critical,) = [p for p in stored["summary_parts"] if p["message_code"] == "general.critical"]
    assert critical == {
        "message_code": "general.critical",
        "message_params": {
            "findings": [
                {
                    "key": "pneumothorax",
                    "label_en": "Pneumothorax",
                    "label_zh": "气胸",
                    "laterality": "left",
                }
            ]
        },
        "message": "CRITICAL: Pneumothorax (left).",
    }


def test_the_header_is_documented_in_openapi(analyst):
    schema = analyst.get("/api/v1/openapi.json").json()
    for path, method in (
        ("/api/v1/analysis/tasks", "get"),
        ("/api/v1/analysis/tasks", "post"),
        ("/api/v1/analysis/tasks/{task_id}", "get"),
        ("/api/v1/analysis/tasks/{task_id}", "delete"),
    ):
        names = {p["name"] for p in schema["paths"][path][method]["parameters"]}
        assert "Accept-Language" in names, (path, method)


# ------------------------------------------------------------ results stored before the codes

OLD_GENERAL = {
    "analysis_type": "general",
    "source": "report",
    "report_id": "R-OLD",
    "critical_flags": [
        {
            "key": "pneumothorax",
            "label_en": "Pneumothorax",
            "label_zh": "气胸",
            "laterality": "left",
            "assertion": "positive",
            "message": "Critical result: pneumothorax (left)",
            "evidence": [],
        }
    ],
    "timeline": {"flags": [{"interval": "order_to_certification", "message": "took 30.0 h"}]},
    "summary": "Report R-OLD (finalized). CRITICAL: Pneumothorax (left).",
}


@pytest.mark.parametrize("headers", [{}, ZH])
def test_a_result_stored_without_codes_is_answered_as_stored(analyst, headers):
    task = AnalysisTaskFactory(status="completed", progress=100, result=OLD_GENERAL)
    result = _read(analyst, task.task_id, **headers)["result"]
    assert result == {**OLD_GENERAL, "summary_code": None}


# ------------------------------------------------------------ a failed task's error


def test_the_error_of_a_failed_task_has_a_code_and_both_languages(analyst, settings):
    settings.ANALYSIS_MAX_ATTEMPTS = 1
    study = _study(GENERAL_REPORT)
    response = analyst.post(
        TASKS,
        {"exam_id": study.exam_id, "analysis_type": "general"},
        content_type="application/json",
    )
    task_id = response.json()["task_id"]
    # A worker claimed it and died: its heartbeat stopped an hour ago.
    AnalysisTask.objects.filter(task_id=task_id).update(
        status="processing", attempts=1, heartbeat_at=ORDER - timedelta(hours=1)
    )
    assert services.analysis_recover_stale()["failed"] == [task_id]
    english = _read(analyst, task_id)
    chinese = _read(analyst, task_id, **ZH)
    assert (english["status"], english["error_code"]) == ("failed", "task.worker_lost")
    assert english["error_message"] == (
        "The worker running this analysis stopped responding 1 time(s); it was not retried again."
    )
    assert chinese["error_code"] == "task.worker_lost"
    assert chinese["error_message"] == "运行此分析的任务进程已 1 次无响应；不再重试。"
    listed = analyst.get(TASKS, {"status": "failed"}, **ZH).json()["data"]
    assert [(t["error_code"], t["error_message"]) for t in listed] == [
        ("task.worker_lost", chinese["error_message"])
    ]


@pytest.mark.parametrize("headers", [{}, ZH])
def test_an_error_stored_without_a_code_is_answered_as_stored(analyst, headers):
    task = AnalysisTaskFactory(status="failed", error_message="The worker died")
    body = _read(analyst, task.task_id, **headers)
    assert (body["error_code"], body["error_message"]) == (None, "The worker died")


# ------------------------------------------------------------ the options


def test_options_say_their_labels_in_the_requested_language(analyst):
    english = analyst.get("/api/v1/analysis/options").json()
    chinese = analyst.get("/api/v1/analysis/options", **ZH).json()
    assert [t["value"] for t in chinese["analysis_types"]] == ["general", "detailed", "comparison"]
    assert [t["label"] for t in chinese["analysis_types"]] == ["常规分析", "详细分析", "对比分析"]
    assert chinese["analysis_types"][2]["description"].startswith(
        "与同一患者最近一次既往检查比较：新发、消失及持续存在的所见"
    )
    assert chinese["statuses"] == [
        {"value": "pending", "label": "等待中"},
        {"value": "processing", "label": "处理中"},
        {"value": "completed", "label": "已完成"},
        {"value": "failed", "label": "失败"},
        {"value": "cancelled", "label": "已取消"},
    ]
    assert english["analysis_types"][0]["label"] == "General analysis"
    assert english["statuses"][0] == {"value": "pending", "label": "Pending"}
