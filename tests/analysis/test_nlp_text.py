"""Sections and sentences, with spans into the original text."""

import pytest

from nlp import split_report, split_sections, split_sentences

ENGLISH = (
    "CLINICAL HISTORY: Cough for 2 weeks.\n"
    "TECHNIQUE: PA and lateral views.\n"
    "COMPARISON: None.\n"
    "FINDINGS:\n"
    "The heart is enlarged. A 3.2 cm mass in the right upper lobe, e.g. a tumour. "
    "No pneumothorax.\n"
    "IMPRESSION\n"
    "1. Cardiomegaly.\n"
    "2. Right upper lobe mass."
)
CHINESE = (
    "检查方法：胸部CT平扫。\n"
    "检查所见：双肺纹理增多，左肺下叶见一结节，大小约12mm×9mm。未见胸腔积液！\n"
    "诊断意见：1.左肺下叶结节；2.考虑慢性支气管炎？"
)


def assert_spans_map_back(text, items):
    for item in items:
        start, end = item.span
        assert text[start:end] == item.text


def test_english_sections_are_found_with_and_without_colon():
    sections = split_sections(ENGLISH)
    assert [(s.key, s.title) for s in sections] == [
        ("history", "CLINICAL HISTORY"),
        ("technique", "TECHNIQUE"),
        ("comparison", "COMPARISON"),
        ("findings", "FINDINGS"),
        ("impression", "IMPRESSION"),
    ]
    assert sections[4].text == "1. Cardiomegaly.\n2. Right upper lobe mass."
    assert_spans_map_back(ENGLISH, sections)
    for s in sections:
        a, b = s.title_span
        assert ENGLISH[a:b] == s.title


def test_chinese_sections_are_found_with_fullwidth_colon():
    sections = split_sections(CHINESE)
    assert [(s.key, s.title) for s in sections] == [
        ("technique", "检查方法"),
        ("findings", "检查所见"),
        ("impression", "诊断意见"),
    ]
    assert sections[2].text == "1.左肺下叶结节；2.考虑慢性支气管炎？"
    assert_spans_map_back(CHINESE, sections)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Findings: clear. Impression: normal.",
            [("findings", "clear."), ("impression", "normal.")],
        ),
        ("findings: clear\nimpression: normal", [("findings", "clear"), ("impression", "normal")]),
        (
            "影像所见：肝囊肿。影像诊断：肝囊肿",
            [("findings", "肝囊肿。"), ("impression", "肝囊肿")],
        ),
        ("印象:肺炎", [("impression", "肺炎")]),
        ("结论：未见异常", [("conclusion", "未见异常")]),
        (
            "【检查所见】双肺纹理增多\n【诊断意见】支气管炎",
            [("findings", "双肺纹理增多"), ("impression", "支气管炎")],
        ),
        ("临床诊断：肺炎？", [("history", "肺炎？")]),  # the longer header wins over 诊断
        ("CHEST PA\nFINDINGS: Clear.", [("body", "CHEST PA"), ("findings", "Clear.")]),
        ("CONCLUSION:\n", [("conclusion", "")]),
    ],
)
def test_section_table(text, expected):
    sections = split_sections(text)
    assert [(s.key, s.text) for s in sections] == expected
    assert_spans_map_back(text, sections)


@pytest.mark.parametrize(
    "text",
    [
        "The findings are normal.",  # "findings" mid-sentence is no header
        "Prior report: none.",  # a header word after another word is no header
        "Findings are normal",  # at the start of a line but neither colon nor alone
    ],
)
def test_text_without_headers_is_one_body_section(text):
    sections = split_sections(text)
    assert [(s.key, s.title, s.text) for s in sections] == [("body", None, text)]
    assert sections[0].span == (0, len(text))


def test_empty_text_has_no_sections():
    assert split_sections("") == []
    assert split_sections(" \n ") == []


def test_sentence_spans_map_back_to_the_original_text():
    for text in (ENGLISH, CHINESE):
        _, sentences = split_report(text)
        assert sentences
        assert_spans_map_back(text, sentences)
        assert [s.index for s in sentences] == list(range(len(sentences)))


def test_english_sentences_keep_decimals_abbreviations_and_list_numbers():
    _, sentences = split_report(ENGLISH)
    findings = [s.text for s in sentences if s.section == "findings"]
    assert findings == [
        "The heart is enlarged.",
        "A 3.2 cm mass in the right upper lobe, e.g. a tumour.",
        "No pneumothorax.",
    ]
    impression = [s.text for s in sentences if s.section == "impression"]
    assert impression == ["1. Cardiomegaly.", "2. Right upper lobe mass."]


def test_chinese_sentences_split_on_chinese_punctuation():
    _, sentences = split_report(CHINESE)
    assert [(s.section, s.text) for s in sentences] == [
        ("technique", "胸部CT平扫。"),
        ("findings", "双肺纹理增多，左肺下叶见一结节，大小约12mm×9mm。"),
        ("findings", "未见胸腔积液！"),
        ("impression", "1.左肺下叶结节；"),
        ("impression", "2.考虑慢性支气管炎？"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dr. Wang reviewed. Lungs clear.", ["Dr. Wang reviewed.", "Lungs clear."]),
        ("Size 3.2 cm. Stable.", ["Size 3.2 cm.", "Stable."]),
        ("Heart normal.Lungs clear.", ["Heart normal.", "Lungs clear."]),
        ("Version 1.2.3 used", ["Version 1.2.3 used"]),
        ("Is it? Yes! Done; next", ["Is it?", "Yes!", "Done;", "next"]),
        ("1.双肺结节 2.肝囊肿", ["1.双肺结节", "2.肝囊肿"]),
        ("1、双肺结节 2、肝囊肿", ["1、双肺结节", "2、肝囊肿"]),
        ("第 2、3肋骨骨折", ["第 2、3肋骨骨折"]),
        ("左肺结节.右肺正常", ["左肺结节.", "右肺正常"]),
        ("line one\n\n---\nline two", ["line one", "line two"]),
        ("(see note.) Next", ["(see note.)", "Next"]),
    ],
)
def test_sentence_table(text, expected):
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == expected
    assert_spans_map_back(text, sentences)


def test_sentences_of_a_range_have_spans_in_the_whole_text():
    text = "xxx Lungs clear. Heart normal. yyy"
    sentences = split_sentences(text, 4, 30, section="findings", first_index=5)
    assert [(s.index, s.text, s.section) for s in sentences] == [
        (5, "Lungs clear.", "findings"),
        (6, "Heart normal.", "findings"),
    ]
    assert_spans_map_back(text, sentences)
