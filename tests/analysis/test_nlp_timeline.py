"""Order -> check-in -> certification intervals and turnaround flags."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from nlp import compute_timeline, format_datetime

ORDER = datetime(2025, 11, 6, 8, 0)


def test_intervals_are_in_minutes():
    t = compute_timeline(ORDER, ORDER + timedelta(minutes=30), ORDER + timedelta(hours=5))
    assert t["intervals_minutes"] == {
        "order_to_check_in": 30.0,
        "check_in_to_certification": 270.0,
        "order_to_certification": 300.0,
    }
    assert t["order_datetime"] == "2025-11-06T08:00:00"
    assert t["report_certification_datetime"] == "2025-11-06T13:00:00"
    assert t["flags"] == []
    assert t["exceeds_limit"] is False
    assert t["certified"] is True


def test_turnaround_over_the_limit_is_flagged():
    t = compute_timeline(ORDER, ORDER + timedelta(hours=1), ORDER + timedelta(hours=26))
    assert t["exceeds_limit"] is True
    assert [(f["interval"], f["kind"]) for f in t["flags"]] == [
        ("check_in_to_certification", "exceeds_limit"),
        ("order_to_certification", "exceeds_limit"),
    ]
    assert t["flags"][1]["limit_minutes"] == 1440.0
    assert t["flags"][1]["message"] == "order to certification took 26.0 h, over the 24 h limit"


def test_the_limit_is_a_parameter():
    t = compute_timeline(ORDER, None, ORDER + timedelta(hours=3), turnaround_limit_hours=2.5)
    assert t["turnaround_limit_hours"] == 2.5
    assert [f["interval"] for f in t["flags"]] == ["order_to_certification"]
    assert "2.5 h limit" in t["flags"][0]["message"]


def test_missing_times_give_no_interval():
    t = compute_timeline(ORDER, None, None)
    assert t["intervals_minutes"] == {
        "order_to_check_in": None,
        "check_in_to_certification": None,
        "order_to_certification": None,
    }
    assert t["check_in_datetime"] is None
    assert t["certified"] is False
    assert t["flags"] == []


def test_a_check_in_before_the_order_is_flagged_as_a_data_problem():
    t = compute_timeline(ORDER, ORDER - timedelta(minutes=10), None)
    assert t["intervals_minutes"]["order_to_check_in"] == -10.0
    assert t["flags"][0]["kind"] == "negative_interval"
    assert t["flags"][0]["message"] == "check-in is recorded before order"
    assert t["exceeds_limit"] is False


def test_iso_strings_and_aware_datetimes_are_accepted():
    shanghai = timezone(timedelta(hours=8))
    t = compute_timeline(
        "2025-11-06 10:30:00",
        datetime(2025, 11, 6, 11, 0, tzinfo=shanghai),
        datetime(2025, 11, 6, 4, 0, tzinfo=UTC),
    )
    # Naive values mixed with aware ones are UTC: 10:30 UTC is 18:30 in Shanghai.
    assert t["intervals_minutes"]["order_to_check_in"] == -450.0
    assert t["intervals_minutes"]["check_in_to_certification"] == 60.0
    assert t["check_in_datetime"] == "2025-11-06T11:00:00"  # wall clock as given


@pytest.mark.parametrize("limit", [0, -1, True])
def test_a_limit_must_be_positive(limit):
    with pytest.raises(ValueError, match="turnaround_limit_hours"):
        compute_timeline(ORDER, None, None, turnaround_limit_hours=limit)


def test_bad_datetime_values_fail_loudly():
    with pytest.raises(ValueError, match="not an ISO datetime"):
        compute_timeline("yesterday", None, None)
    with pytest.raises(TypeError):
        compute_timeline(12345, None, None)


def test_format_datetime_drops_zone_and_fraction():
    value = datetime(2025, 11, 6, 10, 30, 5, 123456, tzinfo=timezone(timedelta(hours=8)))
    assert format_datetime(value) == "2025-11-06T10:30:05"
    assert format_datetime(None) is None
    assert format_datetime("") is None
