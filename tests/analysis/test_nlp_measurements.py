"""Sizes normalised to millimetres."""

import time

import pytest

from nlp import default_lexicon, find_measurements, parse_measurements


@pytest.mark.parametrize(
    ("text", "raw", "dims"),
    [
        ("3.2 cm", "3.2 cm", [32.0]),
        ("5x4 mm", "5x4 mm", [5.0, 4.0]),
        ("5 x 4 mm", "5 x 4 mm", [5.0, 4.0]),
        ("5×4mm", "5×4mm", [5.0, 4.0]),
        ("1.2 x 0.8 cm", "1.2 x 0.8 cm", [12.0, 8.0]),
        ("1.2 X 0.8 CM", "1.2 X 0.8 CM", [12.0, 8.0]),
        ("2 by 3 cm", "2 by 3 cm", [20.0, 30.0]),
        ("5 x 4 x 3 cm", "5 x 4 x 3 cm", [50.0, 40.0, 30.0]),
        ("1.2 cm x 8 mm", "1.2 cm x 8 mm", [12.0, 8.0]),
        ("12毫米", "12毫米", [12.0]),
        ("1.5厘米", "1.5厘米", [15.0]),
        ("3公分", "3公分", [30.0]),
        ("大小约12mm×9mm", "12mm×9mm", [12.0, 9.0]),
        ("约2.0cm×1.5cm×1.0cm", "2.0cm×1.5cm×1.0cm", [20.0, 15.0, 10.0]),
        ("8 mm nodule", "8 mm", [8.0]),
        ("12 millimeters", "12 millimeters", [12.0]),
        ("1.1 centimetres", "1.1 centimetres", [11.0]),
        ("13.2cm", "13.2cm", [132.0]),
        ("1.2 x 0.8 cm x 4", "1.2 x 0.8 cm", [12.0, 8.0]),
    ],
)
def test_sizes_in_millimetres(text, raw, dims):
    (m,) = parse_measurements(text)
    assert m["text"] == raw
    assert m["dims_mm"] == dims
    assert m["max_mm"] == max(dims)
    start, end = m["span"]
    assert text[start:end] == raw


@pytest.mark.parametrize(
    "text",
    ["T2 hyperintense", "L4/5", "5 mmHg", "3个结节", "no size", "2 x 3", ""],
)
def test_numbers_without_a_unit_are_not_sizes(text):
    assert parse_measurements(text) == []


def test_several_sizes_in_one_text_keep_their_own_spans():
    text = "Nodules of 6 mm and 1.2 x 0.8 cm; 肝囊肿12毫米。"
    found = find_measurements(text)
    assert [m.dims_mm for m in found] == [(6.0,), (12.0, 8.0), (12.0,)]
    assert [text[m.span[0] : m.span[1]] for m in found] == [m.text for m in found]


def test_search_can_be_limited_to_a_range():
    text = "3 mm | 4 mm | 5 mm"
    assert [m.max_mm for m in find_measurements(text, 5, 12)] == [4.0]


# ----------------------------------------------------------------------------- roles


def roles(text: str) -> list[tuple[str, str, str | None]]:
    found = parse_measurements(text)
    for m in found:
        assert text[m["span"][0] : m["span"][1]] == m["text"]
        if m["cue"] is not None:
            assert text[m["cue"]["span"][0] : m["cue"]["span"][1]] == m["cue"]["text"]
    return [(m["text"], m["role"], m["cue"]["text"] if m["cue"] else None) for m in found]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Follow-up sentences of the sample-data generator
        (
            "血肿较前缩小（前片约42mm×35mm），现大小约31mm×26mm",
            [("42mm×35mm", "prior", "前片"), ("31mm×26mm", "current", "现")],
        ),
        (
            "与2023-11-27片比较：右肺下叶磨玻璃结节，现大小约10mm×8mm，较前增大（前片约8mm×6mm）。",
            [("10mm×8mm", "current", "现"), ("8mm×6mm", "prior", "前片")],
        ),
        (
            "左肾内见强回声，大小约6mm，后伴声影，较前增大，前片约4mm。",
            [("6mm", "current", None), ("4mm", "prior", "前片")],
        ),
        (
            "The solid nodule in the right upper lobe measures 1.5 x 1.2 cm, "
            "increased from 1.3 x 1.0 cm.",
            [("1.5 x 1.2 cm", "current", None), ("1.3 x 1.0 cm", "prior", "from")],
        ),
        (
            "The hypoechoic nodule measures 0.9 x 0.7 cm, enlarged from 0.8 x 0.6 cm on the "
            "prior study.",
            [("0.9 x 0.7 cm", "current", None), ("0.8 x 0.6 cm", "prior", "from")],
        ),
        # Common phrasings
        (
            "Nodule 9 mm, previously 8 mm.",
            [("9 mm", "current", None), ("8 mm", "prior", "previously")],
        ),
        (
            "Nodule 9 mm (previously 6 mm).",
            [("9 mm", "current", None), ("6 mm", "prior", "previously")],
        ),
        ("Grown from 6 mm to 9 mm.", [("6 mm", "prior", "from"), ("9 mm", "current", "to")]),
        ("It was 8 mm and is now 10 mm.", [("8 mm", "prior", "was"), ("10 mm", "current", "now")]),
        (
            "10 mm, compared with 8 mm on the prior.",
            [("10 mm", "current", None), ("8 mm", "prior", "compared with")],
        ),
        ("Previously measuring approximately 12 mm.", [("12 mm", "prior", "Previously")]),
        ("6 mm on the prior study.", [("6 mm", "prior", "on the prior study")]),
        ("9 mm vs. 7 mm.", [("9 mm", "current", None), ("7 mm", "prior", "vs.")]),
        ("结节原约8mm，现约10mm。", [("8mm", "prior", "原"), ("10mm", "current", "现")]),
        ("原大小约为1.2cm", [("1.2cm", "prior", "原")]),
        ("上次约8mm", [("8mm", "prior", "上次")]),
        ("前次测量约8mm", [("8mm", "prior", "前次")]),
        ("结节约10mm，较前（8mm）增大", [("10mm", "current", None), ("8mm", "prior", "较前（")]),
        ("由8mm增大至10mm", [("8mm", "prior", "由"), ("10mm", "current", "至")]),
        # Interval changes are neither the size now nor before
        ("The nodule has increased by 3 mm.", [("3 mm", "change", "increased by")]),
        ("A 2 mm interval increase.", [("2 mm", "change", "interval increase")]),
        ("结节较前增大约3mm", [("3mm", "change", "较前增大")]),
        # ... and a change is one length: 较前增大约12×10mm gives the size now
        ("结节较前增大约12×10mm", [("12×10mm", "current", None)]),
        # No cue, or a cue that is not right next to the size
        ("A 3 cm mass.", [("3 cm", "current", None)]),
        ("原发灶约3cm", [("3cm", "current", None)]),  # 原发 (primary) is not 原 (before)
        ("3 cm from the pleura", [("3 cm", "current", None)]),
        ("Arising from the pleura, 3 cm.", [("3 cm", "current", None)]),
        ("A mass was seen measuring 4 cm.", [("4 cm", "current", None)]),
        ("前片未见，现大小约8mm", [("8mm", "current", "现")]),
        # A cue right before a size is not also the post cue of the size before it
        ("9 mm previously 6 mm", [("9 mm", "current", None), ("6 mm", "prior", "previously")]),
    ],
)
def test_size_roles(text, expected):
    assert roles(text) == expected


def test_find_measurements_leaves_every_size_current():
    found = find_measurements("前片约42mm，现约31mm")
    assert [(m.role, m.cue) for m in found] == [("current", None), ("current", None)]


def test_a_long_gap_of_spaces_is_no_link_and_fast():
    text = "previously" + " " * 5000 + "8 mm"
    assert roles(text) == [("8 mm", "current", None)]
    # The filler pattern itself does not backtrack exponentially on a near miss.
    filler = default_lexicon().size_filler
    started = time.perf_counter()
    assert filler.fullmatch(" about " * 2000 + "x") is None
    assert time.perf_counter() - started < 0.5
