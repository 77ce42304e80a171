"""Sizes normalised to millimetres."""

import pytest

from analysis.nlp import find_measurements, parse_measurements


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
