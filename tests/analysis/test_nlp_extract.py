"""Findings per sentence: negation, uncertainty, laterality and attached sizes."""

import re

import pytest

from nlp import analyze_text, extract_findings


def only(text: str, key: str) -> dict:
    found = [f for f in extract_findings(text) if f["key"] == key]
    assert len(found) == 1, (text, key, found)
    return found[0]


def test_no_pneumothorax_is_negated():
    f = only("No pneumothorax.", "pneumothorax")
    assert f["negated"] is True
    assert f["uncertain"] is False
    assert f["assertion"] == "negated"
    assert f["cue"] == {"type": "negation", "direction": "pre", "text": "No", "span": [0, 2]}


def test_chinese_weilian_mingxian_chuxue_is_negated():
    f = only("未见明显出血", "hemorrhage")
    assert f["negated"] is True
    assert f["text"] == "出血"
    assert f["cue"]["text"] == "未见明显"


def test_kaolv_feiyan_is_uncertain_not_negated():
    f = only("考虑肺炎", "pneumonia")
    assert f["uncertain"] is True
    assert f["negated"] is False
    assert f["assertion"] == "uncertain"


@pytest.mark.parametrize(
    ("text", "key", "assertion"),
    [
        # English pre-negation, including lists within the word window
        ("No pneumothorax, effusion or consolidation.", "consolidation", "negated"),
        ("No evidence of focal consolidation.", "consolidation", "negated"),
        ("Lungs are free of nodules.", "nodule", "negated"),
        ("Heart normal without pleural effusion.", "pleural_effusion", "negated"),
        ("Negative for pulmonary embolism.", "pulmonary_embolism", "negated"),
        # English post-negation
        ("Pneumothorax is not seen.", "pneumothorax", "negated"),
        ("Pneumothorax ruled out.", "pneumothorax", "negated"),
        ("The left effusion has resolved.", "pleural_effusion", "negated"),
        # "cannot exclude" is uncertainty: the longer cue hides "exclude"
        ("Cannot exclude pneumonia.", "pneumonia", "uncertain"),
        ("Pneumonia cannot be excluded.", "pneumonia", "uncertain"),
        ("Possible small right pneumothorax.", "pneumothorax", "uncertain"),
        ("Findings suggest pneumonia.", "pneumonia", "uncertain"),
        ("Rule out pneumonia.", "pneumonia", "uncertain"),
        # pseudo-negation: "no change" negates nothing
        ("No change in the right lung nodule.", "nodule", "positive"),
        # ConText scope: a list after a negation stays negated however long (issue 24; a
        # fixed six-word window let the end of a long list escape)
        (
            "No acute osseous abnormality of the visualized ribs and spine, fracture",
            "fracture",
            "negated",
        ),
        # a terminator ends the scope
        ("No effusion but there is a small pneumothorax.", "pneumothorax", "positive"),
        # the nearest cue wins
        ("No pneumothorax, possible small effusion.", "pleural_effusion", "uncertain"),
        # Chinese
        ("双肺未见结节", "nodule", "negated"),
        ("未见可疑结节", "nodule", "negated"),
        ("无胸腔积液", "pleural_effusion", "negated"),
        ("胸腔未见积液", "pleural_effusion", "negated"),
        ("不伴出血", "hemorrhage", "negated"),
        ("排除骨折", "fracture", "negated"),
        ("不除外肺炎", "pneumonia", "uncertain"),
        ("肺结核待排", "tuberculosis", "uncertain"),
        ("右肺炎症可能", "pneumonia", "uncertain"),
        ("疑似肺栓塞", "pulmonary_embolism", "uncertain"),
        ("右侧气胸", "pneumothorax", "positive"),
        ("左下肺不张", "atelectasis", "positive"),  # 不 inside 肺不张 is no negation
        ("结节较前无明显变化", "nodule", "positive"),
        ("未见骨折，但见胸腔积液", "pleural_effusion", "positive"),
    ],
)
def test_assertion_table(text, key, assertion):
    assert only(text, key)["assertion"] == assertion


def test_chinese_clause_break_ends_negation():
    found = [f for f in extract_findings("双肺未见结节，左肺下叶见一结节") if f["key"] == "nodule"]
    assert [f["assertion"] for f in found] == ["negated", "positive"]
    assert found[1]["laterality"] == "left"


@pytest.mark.parametrize(
    ("text", "key", "side"),
    [
        ("左肺下叶结节", "nodule", "left"),
        ("右肾囊肿", "renal_cyst", "right"),
        ("双肺纹理增多", "interstitial_changes", "bilateral"),
        ("两侧胸腔积液", "pleural_effusion", "bilateral"),
        ("Bilateral pleural effusions.", "pleural_effusion", "bilateral"),
        ("Left lower lobe atelectasis.", "atelectasis", "left"),
        ("Pleural effusion on the right.", "pleural_effusion", "right"),
        ("Effusions, left greater than right.", "pleural_effusion", "bilateral"),
        ("结节，位于左肺下叶", "nodule", "left"),
        ("右肺中叶及左肺下叶见结节", "nodule", "bilateral"),
        ("Cardiomegaly.", "cardiomegaly", None),
        ("结节大小约12mm左右", "nodule", None),  # 左右 means "about"
    ],
)
def test_laterality_table(text, key, side):
    assert only(text, key)["laterality"] == side


def test_laterality_belongs_to_the_nearest_finding():
    found = extract_findings("Right lower lobe opacity and left pleural effusion.")
    assert [(f["key"], f["laterality"]) for f in found] == [
        ("opacity", "right"),
        ("pleural_effusion", "left"),
    ]


@pytest.mark.parametrize(
    "text",
    ["Nodule and right effusion.", "Nodule, right effusion.", "结节，右侧胸腔积液"],
)
def test_a_side_word_before_the_next_finding_is_not_taken_by_the_previous_one(text):
    found = extract_findings(text)
    assert [(f["key"], f["laterality"]) for f in found] == [
        ("nodule", None),
        ("pleural_effusion", "right"),
    ]


@pytest.mark.parametrize(
    ("text", "key", "dims"),
    [
        ("8 mm nodule in the right upper lobe.", "nodule", [[8.0]]),
        ("A 1.2 x 0.8 cm mass in the liver.", "mass", [[12.0, 8.0]]),
        ("左肺下叶见一结节，大小约12mm×9mm，边界清。", "nodule", [[12.0, 9.0]]),
        ("Nodule in the right upper lobe, measuring 6 mm.", "nodule", [[6.0]]),
        ("右肾囊肿，直径约1.5厘米", "renal_cyst", [[15.0]]),
        ("No nodule.", "nodule", []),
    ],
)
def test_sizes_attach_to_their_finding(text, key, dims):
    f = only(text, key)
    assert [m["dims_mm"] for m in f["measurements"]] == dims
    assert f["max_mm"] == (max(dims[0]) if dims else None)


def test_each_size_goes_to_the_nearest_finding_of_its_clause():
    found = extract_findings("8 mm nodule in the right lobe and a 3 cm mass in the liver.")
    sizes = {f["key"]: [m["max_mm"] for m in f["measurements"]] for f in found}
    assert sizes == {"nodule": [8.0], "mass": [30.0]}


def test_a_size_before_any_finding_goes_to_the_first_one():
    found = extract_findings("大小约8mm，右肺结节")
    assert found[0]["key"] == "nodule"
    assert found[0]["measurements"][0]["dims_mm"] == [8.0]


@pytest.mark.parametrize(
    ("text", "key", "matched"),
    [
        ("Small bilateral pleural effusions.", "pleural_effusion", "pleural effusions"),
        ("Mass effect on the ventricle.", "mass_effect", "Mass effect"),
        ("Ground-glass opacities.", "ground_glass_opacity", "Ground-glass opacities"),
        ("右侧胸腔少量积液", "pleural_effusion", "胸腔少量积液"),
        ("中线结构向左移位", "midline_shift", "中线结构向左移位"),
        ("右肺钙化灶", "calcification", "钙化灶"),
        ("肝内见多发囊肿", "hepatic_cyst", "肝内见多发囊肿"),
        ("L4/5椎间盘向后突出", "disc_herniation", "椎间盘向后突出"),
        ("颈椎骨质增生", "degenerative_change", "骨质增生"),
        ("右侧额叶梗塞灶", "infarct", "梗塞"),
        ("双侧脑室旁白质变性", "white_matter_change", "白质变性"),
        ("主动脉夹层", "aortic_dissection", "主动脉夹层"),
        ("膈下游离气体", "free_air", "膈下游离气体"),
    ],
)
def test_longest_term_wins(text, key, matched):
    assert only(text, key)["text"] == matched


def test_english_terms_match_whole_words_only():
    # "no" inside "nodule" is no cue; "mass" inside "massive" is no mass.
    assert extract_findings("Massive nodule.")[0]["assertion"] == "positive"
    assert [f["key"] for f in extract_findings("Massive nodule.")] == ["nodule"]


def test_every_mention_carries_its_sentence_and_spans():
    text = "FINDINGS: Small left pleural effusion. IMPRESSION: 右侧气胸。"
    for f in extract_findings(text):
        a, b = f["span"]
        s, e = f["sentence_span"]
        assert text[a:b] == f["text"]
        assert text[s:e] == f["sentence"]
        assert s <= a < b <= e
        for m in f["measurements"]:
            assert text[m["span"][0] : m["span"][1]] == m["text"]
    sections = [f["section"] for f in extract_findings(text)]
    assert sections == ["findings", "impression"]


def test_analyze_text_keeps_unattached_sizes_on_the_sentence():
    result = analyze_text("Measured 3 cm.")
    assert result.mentions == []
    assert [m.dims_mm for m in result.sentences[0].measurements] == [(30.0,)]


def test_empty_text_has_no_findings():
    assert extract_findings("") == []
    assert extract_findings("   ") == []


def test_clauses_are_found_in_sentences_after_the_first():
    # Clause offsets must be absolute: a later sentence gets the same reading as the first.
    first = "Patchy opacity in the left lower lobe, possibly pneumonia."
    for text in (first, "Heart normal. " + first, "FINDINGS: Clear. Heart normal.\n" + first):
        found = extract_findings(text)
        assert [(f["key"], f["assertion"], f["laterality"]) for f in found] == [
            ("opacity", "positive", "left"),
            ("pneumonia", "uncertain", None),
        ], text
    sized = extract_findings("肝脏正常。双肾未见异常。右肺结节，大小约8mm，左侧胸腔积液")
    assert [(f["key"], f["laterality"], f["max_mm"]) for f in sized] == [
        ("nodule", "right", 8.0),
        ("pleural_effusion", "left", None),
    ]


def test_a_side_inside_a_gap_term_counts():
    assert only("中线结构向右移位约6mm", "midline_shift")["laterality"] == "right"


def test_anechoic_is_not_a_negation():
    assert only("肝内见一无回声区，考虑肝囊肿", "hepatic_cyst")["assertion"] == "uncertain"
    assert only("肝内见一无回声区，肝囊肿", "hepatic_cyst")["assertion"] == "positive"
    assert only("肝内见无回声区及结节", "nodule")["assertion"] == "positive"


# ----------------------------------------------------------------------------- quoted prior sizes


@pytest.mark.parametrize(
    ("text", "key", "current", "quoted"),
    [
        (
            "右侧基底节区血肿较前缩小（前片约42mm×35mm），现大小约31mm×26mm",
            "hemorrhage",
            31.0,
            42.0,
        ),
        (
            "与2023-11-27片比较：右肺下叶磨玻璃结节，现大小约10mm×8mm，较前增大（前片约8mm×6mm）。",
            "nodule",
            10.0,
            8.0,
        ),
        (
            "The solid nodule in the right upper lobe measures 1.5 x 1.2 cm, "
            "increased from 1.3 x 1.0 cm.",
            "nodule",
            15.0,
            13.0,
        ),
        ("The right lower lobe mass measures 31 mm (previously 42 mm).", "mass", 31.0, 42.0),
        ("The nodule has grown from 6 mm to 9 mm.", "nodule", 9.0, 6.0),
        ("Hematoma was 42 mm, now 31 mm.", "hemorrhage", 31.0, 42.0),
        ("结节原约12mm，现约8mm", "nodule", 8.0, 12.0),
    ],
)
def test_a_quoted_prior_size_is_not_the_current_size(text, key, current, quoted):
    f = only(text, key)
    assert f["max_mm"] == current
    assert f["quoted_prior_mm"] == quoted
    assert [m["role"] for m in f["measurements"]] == ["current"]
    (prior,) = f["prior_measurements"]
    assert prior["role"] == "prior"
    assert prior["max_mm"] == quoted
    for m in (*f["measurements"], prior):
        assert text[m["span"][0] : m["span"][1]] == m["text"]
    cue = prior["cue"]
    assert text[cue["span"][0] : cue["span"][1]] == cue["text"]
    assert f["sentence"] == text


def test_an_interval_change_is_not_a_size():
    f = only("The right upper lobe nodule has increased by 3 mm.", "nodule")
    assert f["max_mm"] is None
    assert f["measurements"] == f["prior_measurements"] == []
    assert [(m["max_mm"], m["role"]) for m in f["change_measurements"]] == [(3.0, "change")]


def test_the_sentence_keeps_every_size_with_its_role():
    result = analyze_text("血肿较前缩小（前片约42mm×35mm），现大小约31mm×26mm。")
    (sentence,) = result.sentences
    assert [(m.max_mm, m.role) for m in sentence.measurements] == [
        (42.0, "prior"),
        (31.0, "current"),
    ]


def test_generated_follow_up_sentences_agree_with_their_change_words():
    # The sample-data generator writes follow-ups such as 血肿较前缩小（前片约42mm×35mm），现大小约
    # 31mm×26mm and "measures 1.5 x 1.2 cm, increased from 1.3 x 1.0 cm": the current size must
    # be on the side of the quoted prior size that the change word says.
    sampledata = pytest.importorskip("sampledata")
    studies = list(sampledata.generate_studies(800, seed=20251029))
    reports = list(sampledata.generate_reports(studies, seed=20251029))
    grew, shrank = re.compile(r"较前增大|increased|enlarged"), re.compile(r"较前缩小|decreased")
    checked = 0
    for report in reports:
        for result in analyze_text(report["content"]).sentences:
            text = result.sentence.text
            up, down = bool(grew.search(text)), bool(shrank.search(text))
            for m in result.mentions:
                if up == down or m.max_mm is None or m.quoted_prior_mm is None:
                    continue
                assert (m.max_mm > m.quoted_prior_mm) == up, text
                checked += 1
    assert checked >= 20
