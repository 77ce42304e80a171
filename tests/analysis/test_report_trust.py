"""Issue 24: the classes of error a radiologist found, each through the analysis API.

Every test creates a study and its report, asks for an analysis over HTTP, runs it as the
worker does (``services.analysis_run``) and reads the stored result back over HTTP.
"""

from http import HTTPStatus

import pytest
from django.test import Client

from accounts.models import Role
from analysis import services
from tests.factories import ReportFactory, StudyFactory, local

pytestmark = pytest.mark.django_db

TASKS = "/api/v1/analysis/tasks"


@pytest.fixture
def analyst(api) -> Client:
    return api(Role.ANALYST, username="analyst24")


def _analyse(
    client: Client,
    content: str,
    kind: str = "detailed",
    *,
    exam_item: str = "胸部CT平扫",
    prior: str | None = None,
) -> dict:
    mrn = "MRN-24"
    if prior is not None:
        old = StudyFactory(
            medical_record_no=mrn, exam_item=exam_item, order_datetime=local(2025, 1, 2, 9, 0)
        )
        ReportFactory(study=old, content=prior)
    study = StudyFactory(
        medical_record_no=mrn, exam_item=exam_item, order_datetime=local(2025, 6, 2, 9, 0)
    )
    ReportFactory(study=study, content=content)
    response = client.post(
        TASKS, {"exam_id": study.exam_id, "analysis_type": kind}, content_type="application/json"
    )
    assert response.status_code == HTTPStatus.CREATED, response.content
    task_id = response.json()["task_id"]
    assert services.analysis_run(task_id=task_id) == "completed"
    response = client.get(f"{TASKS}/{task_id}")
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["status"] == "completed"
    return body["result"]


def _findings(result: dict) -> list[tuple[str, str]]:
    return [(f["key"], f["assertion"]) for s in result["sentences"] for f in s["findings"]]


# ------------------------------------------------------------ critical flags


def test_a_negated_critical_finding_raises_no_flag_and_says_which_cue(analyst):
    result = _analyse(analyst, "检查所见：双肺纹理清晰，未见气胸。", "general")
    assert result["critical_flags"] == []
    assert result["has_critical"] is False
    (held,) = result["critical_not_flagged"]
    assert (held["key"], held["reason"]) == ("pneumothorax", "negated")
    assert held["cue"]["text"] == "未见"


def test_a_resolving_haemorrhage_is_not_critical_in_any_analysis(analyst):
    content = "检查所见：右侧基底节区脑出血吸收期，软化灶形成。诊断意见：右侧基底节区脑出血吸收期。"
    general = _analyse(analyst, content, "general", exam_item="头颅CT平扫")
    assert general["critical_flags"] == []
    (held,) = general["critical_not_flagged"]
    assert (held["key"], held["reason"], held["cue"]["text"]) == (
        "hemorrhage",
        "resolving",
        "吸收期",
    )
    assert "CRITICAL" not in general["summary"]
    detailed = _analyse(analyst, content, "detailed", exam_item="头颅CT平扫")
    mentions = [f for s in detailed["sentences"] for f in s["findings"]]
    assert {(f["key"], f["temporality"]) for f in mentions} == {("hemorrhage", "resolving")}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("History of pneumothorax. Lungs are clear.", "historical"),
        ("Small left pneumothorax, decreased from prior.", "resolving"),
        ("Possible tiny left apical pneumothorax.", "uncertain"),
        ("No pneumothorax.", "negated"),
    ],
)
def test_critical_flags_only_for_affirmed_current_findings(analyst, content, reason):
    result = _analyse(analyst, content, "general")
    assert result["critical_flags"] == []
    (held,) = result["critical_not_flagged"]
    assert held["reason"] == reason


def test_an_age_is_no_history(analyst):
    result = _analyse(analyst, "65-year-old man. Right pneumothorax.", "general")
    assert [f["key"] for f in result["critical_flags"]] == ["pneumothorax"]


def test_an_affirmed_current_critical_finding_is_flagged_with_its_words(analyst):
    result = _analyse(analyst, "检查所见：右侧气胸，右肺压缩约30%。", "general")
    (flag,) = result["critical_flags"]
    assert (flag["key"], flag["laterality"], flag["temporality"]) == (
        "pneumothorax",
        "right",
        "current",
    )
    assert flag["decided_by"]["text"] == "气胸"
    assert flag["decided_by"]["sentence"] == "右侧气胸，右肺压缩约30%。"


# ------------------------------------------------------------ comparison by the report's words


def test_the_reports_change_word_decides_over_a_small_measured_change(analyst):
    result = _analyse(
        analyst,
        "检查所见：右肺上叶结节，大小约16mm，较前增大。",
        "comparison",
        prior="检查所见：右肺上叶结节，大小约15mm。",
    )
    (change,) = result["size_changes"]
    assert (change["prior_max_mm"], change["current_max_mm"]) == (15.0, 16.0)
    assert (change["trend"], change["trend_source"]) == ("increased", "report")
    assert change["stated_change"]["text"] == "较前增大"
    assert (change["measured_trend"], change["measurement_agrees"]) == ("stable", False)
    assert change["threshold"] == {
        "stable_mm": 1.0,
        "stable_percent": 10.0,
        "text": "a size change within 1 mm or 10 % counts as stable",
        "text_code": "comparison.stability_threshold",
    }
    (persistent,) = result["persistent_findings"]
    assert (persistent["status"], persistent["status_source"]) == ("increased", "report")
    assert "较前增大" in result["summary"] and "counts as stable" in result["summary"]


@pytest.mark.parametrize(
    ("prior", "current", "status"),
    [
        ("左肺下叶见斑片影。", "左肺下叶斑片影，较前吸收。", "decreased"),
        ("左肺下叶炎症。", "左肺下叶炎症，较前好转。", "decreased"),
        ("右肺中叶结节。", "右肺中叶结节，较前相仿。", "stable"),
        ("右肺中叶结节。", "右肺中叶结节，无明显变化。", "stable"),
        ("Small left pleural effusion.", "Small left pleural effusion, unchanged.", "stable"),
        ("Small left pleural effusion.", "Left pleural effusion has improved.", "decreased"),
        ("Right lower lobe nodule.", "Right lower lobe nodule, increased.", "increased"),
        ("Right lower lobe nodule.", "Right lower lobe nodule.", "persistent"),
    ],
)
def test_persistent_findings_take_the_reports_change_words(analyst, prior, current, status):
    result = _analyse(analyst, current, "comparison", prior=prior)
    (persistent,) = result["persistent_findings"]
    assert persistent["status"] == status


def test_a_change_word_inside_a_findings_name_is_no_change(analyst):
    # 心影增大 is an enlarged heart, not one larger than before; 纹理增多 likewise.
    result = _analyse(
        analyst,
        "检查所见：心影增大，双肺纹理增多。",
        "comparison",
        prior="检查所见：心影增大。双肺纹理增多。",
    )
    assert [(p["key"], p["status"], p["change"]) for p in result["persistent_findings"]] == [
        ("cardiomegaly", "persistent", None),
        ("interstitial_changes", "persistent", None),
    ]


def test_measurements_decide_only_when_the_report_says_nothing(analyst):
    result = _analyse(
        analyst,
        "Right upper lobe nodule 9 mm.",
        "comparison",
        prior="Right upper lobe nodule 6 mm.",
    )
    (change,) = result["size_changes"]
    assert (change["trend"], change["trend_source"], change["stated_change"]) == (
        "increased",
        "measurements",
        None,
    )
    assert result["persistent_findings"][0]["status_source"] == "measurements"


# ------------------------------------------------------------ assertion scope (ConText)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "No focal consolidation, effusion, pneumothorax, pulmonary edema, nodules or masses.",
            [
                ("consolidation", "negated"),
                ("pleural_effusion", "negated"),
                ("pneumothorax", "negated"),
                ("pulmonary_edema", "negated"),
                ("nodule", "negated"),
                ("mass", "negated"),
            ],
        ),
        (
            "No focal airspace opacity to suggest pneumonia.",
            [("opacity", "negated"), ("pneumonia", "negated")],
        ),
        ("No pneumothorax, mild cardiomegaly.", [("pneumothorax", "negated"), ("cardiomegaly", "positive")]),
        ("No effusion, but there is a small right pneumothorax.", [("pleural_effusion", "negated"), ("pneumothorax", "positive")]),
        ("No increase in the size of the right pleural effusion.", [("pleural_effusion", "positive")]),
        ("Not only is there a right effusion, the left has grown.", [("pleural_effusion", "positive")]),
        ("Sputum grew gram negative rods; consolidation in the right lower lobe.", [("consolidation", "positive")]),
        ("The opacity is likely atelectasis.", [("opacity", "positive"), ("atelectasis", "uncertain")]),
        ("Left retrocardiac opacity, atelectasis versus consolidation.", [("opacity", "positive"), ("atelectasis", "uncertain"), ("consolidation", "uncertain")]),
        ("Pneumothorax is not seen.", [("pneumothorax", "negated")]),
        ("未见气胸，左侧胸腔少量积液。", [("pneumothorax", "negated"), ("pleural_effusion", "positive")]),
        ("双肺未见实变、结节及肿块。", [("consolidation", "negated"), ("nodule", "negated"), ("mass", "negated")]),
        ("左下肺片状高密度影，肺炎可能。", [("opacity", "positive"), ("pneumonia", "uncertain")]),
        ("左侧气胸已吸收。", [("pneumothorax", "negated")]),
    ],
)  # fmt: skip
def test_assertion_scope(analyst, content, expected):
    assert _findings(_analyse(analyst, content)) == expected


# ------------------------------------------------------------ concepts kept apart


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("Atherosclerotic calcification of the aortic arch.", [("calcification", "positive")]),
        ("Calcification of the costal cartilages.", [("calcification", "positive")]),
        ("Calcified mediastinal lymph nodes.", [("calcification", "positive")]),
        ("A 6 mm calcified nodule in the right middle lobe.", [("calcification", "positive"), ("nodule", "positive")]),
        ("Calcified granuloma in the left upper lobe.", [("calcification", "positive"), ("granuloma", "positive")]),
        ("Ill-defined nodular opacity in the left upper lobe.", [("opacity", "positive")]),
        ("右肺上叶钙化结节。", [("calcification", "positive"), ("nodule", "positive")]),
        ("主动脉壁钙化。", [("calcification", "positive")]),
        ("右肺中野见结节状高密度影。", [("opacity", "positive")]),
    ],
)  # fmt: skip
def test_concepts_kept_apart(analyst, content, expected):
    assert _findings(_analyse(analyst, content)) == expected


def test_a_calcified_nodule_keeps_its_size_and_side(analyst):
    result = _analyse(analyst, "A 6 mm calcified nodule in the right middle lobe.")
    nodule = next(f for s in result["sentences"] for f in s["findings"] if f["key"] == "nodule")
    assert (nodule["max_mm"], nodule["laterality"]) == (6.0, "right")


# ------------------------------------------------------------ everyday phrasings


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("The cardiac silhouette is enlarged.", [("cardiomegaly", "positive")]),
        ("The heart is large.", [("cardiomegaly", "positive")]),
        ("Borderline heart size.", [("cardiomegaly", "uncertain")]),
        ("Heart size is normal.", [("cardiomegaly", "negated")]),
        ("Changes of COPD.", [("copd", "positive")]),
        ("The lungs are hypoinflated.", [("low_lung_volumes", "positive")]),
        ("Lung volumes are low.", [("low_lung_volumes", "positive")]),
        ("The lungs are hyperaerated.", [("hyperinflation", "positive")]),
        ("Mild rightward convex curvature of the thoracic spine.", [("scoliosis", "positive")]),
        ("Stigmata of prior granulomatous disease.", [("granuloma", "positive")]),
        ("心影不大。", [("cardiomegaly", "negated")]),
        ("肝脾不大。", [("hepatomegaly", "negated"), ("splenomegaly", "negated")]),
        ("中线结构居中，未见明显移位。", [("midline_shift", "negated")]),
        ("右侧液气胸。", [("pleural_effusion", "positive"), ("pneumothorax", "positive")]),
    ],
)  # fmt: skip
def test_everyday_phrasings(analyst, content, expected):
    assert _findings(_analyse(analyst, content)) == expected


def test_a_low_density_focus_is_a_lesion_with_its_size(analyst):
    result = _analyse(analyst, "肝右叶见一低密度灶，大小约1.2cm。", exam_item="上腹部CT平扫")
    (lesion,) = [f for s in result["sentences"] for f in s["findings"]]
    assert (lesion["key"], lesion["assertion"], lesion["max_mm"]) == (
        "focal_lesion",
        "positive",
        12.0,
    )


# ------------------------------------------------------------ the examination's region


def test_a_high_density_patch_in_a_head_ct_is_no_lung_opacity(analyst):
    head = _analyse(analyst, "右侧颞叶见片状高密度影。", exam_item="头颅CT平扫")
    assert _findings(head) == [("focal_lesion", "positive")]
    chest = _analyse(analyst, "右肺下叶见片状高密度影。", exam_item="胸部CT平扫")
    assert _findings(chest) == [("opacity", "positive")]


def test_a_lung_finding_named_in_an_abdominal_ct_stays_a_lung_finding(analyst):
    result = _analyse(analyst, "双下肺少许炎症。", exam_item="上腹部CT平扫")
    assert _findings(result) == [("pneumonia", "positive")]
    sinus = _analyse(analyst, "双侧上颌窦炎症。", exam_item="头颅CT平扫")
    assert _findings(sinus) == []
