"""The data files and the phrase matcher they are compiled into."""

import shutil
from pathlib import Path

import pytest

from nlp import LexiconError, default_lexicon, extract_findings, load_lexicon
from nlp.lexicon import CUES_FILE, FINDINGS_FILE
from nlp.matcher import PhraseMatcher, normalise_phrase

REQUIRED = {
    # chest radiograph / CT
    "cardiomegaly", "pleural_effusion", "atelectasis", "opacity", "consolidation", "pneumonia",
    "nodule", "mass", "emphysema", "hyperinflation", "low_lung_volumes", "calcification",
    "pulmonary_edema", "pneumothorax", "fracture", "scoliosis", "interstitial_changes",
    # abdomen CT / US
    "fatty_liver", "hepatic_cyst", "renal_cyst", "gallstone", "kidney_stone", "hydronephrosis",
    "free_fluid",
    # brain CT / MR
    "hemorrhage", "infarct", "atrophy", "white_matter_change", "mass_effect", "midline_shift",
    # spine / joints
    "degenerative_change", "disc_herniation",
}  # fmt: skip


def test_data_files_sit_next_to_the_package():
    assert FINDINGS_FILE.parent.name == "data"
    assert FINDINGS_FILE.is_file() and CUES_FILE.is_file()


def test_lexicon_covers_the_department_findings():
    lex = default_lexicon()
    assert not REQUIRED - set(lex.findings)
    for finding in lex.findings.values():
        assert finding.label_en and finding.label_zh
        assert finding.terms_en and finding.terms_zh, finding.key


def test_critical_findings():
    assert default_lexicon().critical_keys == {
        "pneumothorax",
        "hemorrhage",
        "aortic_dissection",
        "pulmonary_embolism",
        "midline_shift",
        "free_air",
    }


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Cardiomegaly.", "cardiomegaly"),
        ("心影增大", "cardiomegaly"),
        ("Left pleural effusion.", "pleural_effusion"),
        ("Bibasilar atelectasis.", "atelectasis"),
        ("Patchy airspace disease.", "opacity"),
        ("右下肺斑片影", "opacity"),
        ("Consolidation.", "consolidation"),
        ("Right lower lobe pneumonia.", "pneumonia"),
        ("Emphysema.", "emphysema"),
        ("Hyperinflated lungs.", "hyperinflation"),
        ("Low lung volumes.", "low_lung_volumes"),
        ("Calcified granuloma.", "granuloma"),
        ("Pulmonary vascular congestion.", "pulmonary_edema"),
        ("肺水肿", "pulmonary_edema"),
        ("Rib fracture.", "fracture"),
        ("脊柱侧弯", "scoliosis"),
        ("Interstitial opacities.", "interstitial_changes"),
        ("Hepatic steatosis.", "fatty_liver"),
        ("脂肪肝", "fatty_liver"),
        ("Cholelithiasis.", "gallstone"),
        ("右肾结石", "kidney_stone"),
        ("Mild hydronephrosis.", "hydronephrosis"),
        ("Small amount of free fluid.", "free_fluid"),
        ("腹腔积液", "free_fluid"),
        ("Subdural hematoma.", "hemorrhage"),
        ("左侧基底节区脑梗死", "infarct"),
        ("Cerebral atrophy.", "atrophy"),
        ("脱髓鞘改变", "white_matter_change"),
        ("Mass effect.", "mass_effect"),
        ("Midline shift.", "midline_shift"),
        ("腰椎退行性变", "degenerative_change"),
        ("L4/5椎间盘突出", "disc_herniation"),
        ("Aortic dissection.", "aortic_dissection"),
        ("肺动脉栓塞", "pulmonary_embolism"),
    ],
)
def test_lexicon_term_table(text, key):
    assert key in [f["key"] for f in extract_findings(text)]


# ----------------------------------------------------------------------------- the matcher


def test_matcher_prefers_the_longest_overlapping_phrase():
    m = PhraseMatcher([("effusion", "e"), ("pleural effusion", "pe"), ("pleural", "p")])
    hits = m.find("left pleural effusion")
    assert [(h.payload, h.start, h.end) for h in hits] == [("pe", 5, 21)]


def test_matcher_is_case_insensitive_and_joins_spaces_and_hyphens():
    m = PhraseMatcher([("ground glass", "ggo")])
    assert [h.phrase for h in m.find("GROUND-GLASS and ground  glass")] == ["ground glass"] * 2


def test_matcher_respects_english_word_boundaries():
    m = PhraseMatcher([("no", "neg"), ("not", "neg2")])
    assert m.find("nodule cannot knot") == []
    assert [h.start for h in m.find("no. not")] == [0, 4]


def test_matcher_accepts_plain_plurals_only_when_asked():
    words = [("effusion", 1), ("mass", 2)]
    assert [h.end for h in PhraseMatcher(words, plurals=True).find("effusions masses")] == [9, 16]
    assert PhraseMatcher(words).find("effusions masses") == []


def test_matcher_matches_chinese_as_substrings():
    m = PhraseMatcher([("结节", "n"), ("钙化结节", "c")])
    hits = m.find("右肺钙化结节，左肺结节")
    assert [(h.payload, h.start) for h in hits] == [("c", 2), ("n", 9)]


def test_matcher_gap_phrases_stay_inside_a_clause():
    m = PhraseMatcher([("胸腔*积液", "pe")], max_gap=4)
    hits = m.find("右侧胸腔少量积液，胸腔正常，心包积液")
    assert [(h.start, h.end, h.pieces) for h in hits] == [(2, 8, ((2, 4), (6, 8)))]
    assert hits[0].head_start == 6
    assert m.find("胸腔内有很多很多积液") == []  # gap longer than 4


def test_matcher_gap_phrases_in_english_keep_word_boundaries():
    m = PhraseMatcher([("disc*bulge", "d")], max_gap=8)
    assert [h.start for h in m.find("disc mild bulge; discus bulge")] == [0]


def test_matcher_offsets_refer_to_the_whole_text():
    m = PhraseMatcher([("气胸", "p")])
    assert [h.start for h in m.find("气胸。右侧气胸", 3)] == [5]


def test_matcher_keeps_offsets_for_characters_that_lower_case_longer():
    m = PhraseMatcher([("nodule", "n")])
    assert [h.start for h in m.find("İ nodule")] == [2]


@pytest.mark.parametrize(
    "phrases",
    [
        [("  ", 1)],
        [("*", 1)],
        [("a**b", 1)],
        [("nodule", 1), ("Nodule", 2)],
    ],
)
def test_matcher_rejects_empty_and_conflicting_phrases(phrases):
    with pytest.raises(ValueError):
        PhraseMatcher(phrases)


def test_normalise_phrase():
    assert normalise_phrase("  Ground -  Glass ") == "ground glass"


# ----------------------------------------------------------------------------- loading


@pytest.fixture
def data_copy(tmp_path: Path) -> tuple[Path, Path]:
    findings = tmp_path / "findings.toml"
    cues = tmp_path / "cues.toml"
    shutil.copy(FINDINGS_FILE, findings)
    shutil.copy(CUES_FILE, cues)
    return findings, cues


def test_a_new_finding_needs_no_code(data_copy):
    findings, cues = data_copy
    findings.write_text(
        findings.read_text(encoding="utf-8")
        + '\n[findings.sinusitis]\nlabel_en = "Sinusitis"\nlabel_zh = "鼻窦炎"\n'
        'region = "neuro"\ncritical = false\nen = ["sinusitis"]\nzh = ["鼻窦炎"]\n',
        encoding="utf-8",
    )
    lex = load_lexicon(findings, cues)
    found = extract_findings("双侧上颌窦未见鼻窦炎", lexicon=lex)
    assert [(f["key"], f["assertion"]) for f in found] == [("sinusitis", "negated")]
    assert lex.fingerprint != default_lexicon().fingerprint


@pytest.mark.parametrize(
    ("addition", "message"),
    [
        (
            '[findings.Bad-Key]\nlabel_en="x"\nlabel_zh="x"\nregion="chest"\ncritical=false\nen=["x"]',
            "lower_snake_case",
        ),
        (
            '[findings.x]\nlabel_en="x"\nlabel_zh="x"\nregion="skin"\ncritical=false\nen=["xq"]',
            "region",
        ),
        (
            '[findings.x]\nlabel_en="x"\nlabel_zh="x"\nregion="chest"\ncritical="yes"\nen=["xq"]',
            "critical",
        ),
        (
            '[findings.x]\nlabel_en="x"\nlabel_zh="x"\nregion="chest"\ncritical=false\ncritcal=true\nen=["xq"]',
            "unknown field",
        ),
        (
            '[findings.x]\nlabel_en="x"\nlabel_zh="x"\nregion="chest"\ncritical=false',
            "at least one term",
        ),
        (
            '[findings.x]\nlabel_en="x"\nlabel_zh="x"\nregion="chest"\ncritical=false\nen=["xq", ""]',
            "non-empty strings",
        ),
        (
            '[findings.x]\nlabel_en=1\nlabel_zh="x"\nregion="chest"\ncritical=false\nen=["xq"]',
            "label_en",
        ),
        (
            '[findings.x]\nlabel_en="x"\nlabel_zh="x"\nregion="chest"\ncritical=false\nen=["pneumothorax"]',
            "two different entries",
        ),
        ("[findings", "not valid UTF-8 TOML"),
    ],
)
def test_findings_file_errors_are_named(data_copy, addition, message):
    findings, cues = data_copy
    findings.write_text(
        findings.read_text(encoding="utf-8") + "\n" + addition + "\n", encoding="utf-8"
    )
    with pytest.raises(LexiconError, match=message):
        load_lexicon(findings, cues)


def test_findings_file_needs_findings(data_copy):
    findings, cues = data_copy
    findings.write_text("schema_version = 1\n", encoding="utf-8")
    with pytest.raises(LexiconError, match="no \\[findings"):
        load_lexicon(findings, cues)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('"未见", "未见明显"', '"未见", "考虑"', "both a negation and a uncertainty cue"),
        ("english_max_scope = 0", "english_max_scope = -1", "non-negative integer"),
        (
            "[sections.comparison]",
            '[sections.comparison]\nzh = ["印象"]\n[sections.other]',
            "two sections",
        ),
        ('left = ["left"', 'left = ["right"', "two different entries"),
        ("[scope]", "scope = 1\n[x]", "must be a table"),
        ('pre = [\n    "now",', 'pre = [\n    "前片", "now",', "both a current and a prior cue"),
        ("[sizes.change]", "[sizes.later]\npre = []\n[sizes.change]", "unknown field"),
        ('post = ["increase"', 'side = ["x"]\npost = ["increase"', "unknown field"),
        ('"约", "大约"', '"", "大约"', "non-empty strings"),
    ],
)
def test_cues_file_errors_are_named(data_copy, old, new, message):
    findings, cues = data_copy
    text = cues.read_text(encoding="utf-8")
    assert old in text
    cues.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(LexiconError, match=message):
        load_lexicon(findings, cues)


def test_a_new_size_cue_needs_no_code(data_copy):
    findings, cues = data_copy
    text = "右肺结节，去年约12mm，今约8mm"
    assert [(f["max_mm"], f["quoted_prior_mm"]) for f in extract_findings(text)] == [(12.0, None)]
    cues.write_text(
        cues.read_text(encoding="utf-8").replace('"前片", "原",', '"前片", "去年", "原",', 1),
        encoding="utf-8",
    )
    lex = load_lexicon(findings, cues)
    assert [(f["max_mm"], f["quoted_prior_mm"]) for f in extract_findings(text, lexicon=lex)] == [
        (8.0, 12.0)
    ]
