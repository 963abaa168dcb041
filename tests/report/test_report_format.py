"""How numbers and times read on the pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from harness.report.format import absolute, duration_ms, percent, relative

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_durations_read_in_ms_below_a_second_and_seconds_above() -> None:
    assert duration_ms(812.4) == "812 ms"
    assert duration_ms(1234) == "1.2 s"
    assert duration_ms(None) == "–"


@given(st.floats(min_value=0, max_value=0.99999999))
def test_a_failure_is_never_rounded_up_to_100_percent(ratio: float) -> None:
    assert percent(ratio) != "100 %"


def test_percent_of_nothing_measured_is_a_dash() -> None:
    assert percent(None) == "–"
    assert percent(1.0) == "100 %"
    assert percent(0.5) == "50.0 %"


def test_relative_times_read_as_ago() -> None:
    assert relative(NOW - timedelta(seconds=3), NOW) == "just now"
    assert relative(NOW - timedelta(seconds=30), NOW) == "30 s ago"
    assert relative(NOW - timedelta(minutes=5), NOW) == "5 min ago"
    assert relative(NOW - timedelta(hours=3, minutes=59), NOW) == "3 h ago"
    assert relative(NOW - timedelta(days=2), NOW) == "2 d ago"
    assert relative(None, NOW) == "never"


def test_absolute_times_are_utc() -> None:
    tz = datetime(2025, 3, 1, 13, 5, tzinfo=UTC).astimezone()
    assert absolute(tz) == "2025-03-01 13:05 UTC"
