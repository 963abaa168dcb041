"""The one duration grammar: ``500ms``, ``1.5s``, ``30m``, ``90min``, ``2h``, ``1d``, numbers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.durations import UNITS, Unit, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500ms", timedelta(milliseconds=500)),
        ("1.5s", timedelta(seconds=1.5)),
        ("30m", timedelta(minutes=30)),
        ("90min", timedelta(minutes=90)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
    ],
)
def test_every_unit_is_read(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["6H", " 6 h ", "6h\n"])
def test_letter_case_and_spaces_do_not_matter(text: str) -> None:
    assert parse_duration(text) == timedelta(hours=6)


@pytest.mark.parametrize(("text", "seconds"), [(".5s", 0.5), ("1.s", 1), ("0.25s", 0.25)])
def test_a_decimal_may_omit_either_side_of_the_point(text: str, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("value", "plain", "expected"),
    [
        ("90", "s", timedelta(seconds=90)),
        (90, "s", timedelta(seconds=90)),
        (1.5, "min", timedelta(seconds=90)),
        ("250", "ms", timedelta(milliseconds=250)),
        ("0", "d", timedelta(0)),
    ],
)
def test_a_plain_number_is_in_the_fields_unit(
    value: str | float, plain: Unit, expected: timedelta
) -> None:
    assert parse_duration(value, plain=plain) == expected


@pytest.mark.parametrize("text", ["soon", "", "s", "-1s", "1y", "1 s s", "1e3s", "PT5S", "½h"])
def test_anything_else_is_refused_naming_the_grammar(text: str) -> None:
    with pytest.raises(ValueError, match=r"expected a duration such as 500ms, 1\.5s, 30m, 90min"):
        parse_duration(text)


def test_the_refusal_names_the_unit_of_a_plain_number() -> None:
    with pytest.raises(ValueError, match="or a number of milliseconds; got 'fast'"):
        parse_duration("fast", plain="ms")


@pytest.mark.parametrize("value", [-1, -0.5])
def test_a_negative_number_is_refused(value: float) -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        parse_duration(value)


@pytest.mark.parametrize("value", [float("inf"), float("nan"), "9" * 400])
def test_an_endless_duration_is_refused(value: str | float) -> None:
    with pytest.raises(ValueError, match="finite"):
        parse_duration(value)


def test_a_duration_beyond_timedelta_is_refused() -> None:
    with pytest.raises(ValueError, match="at most 999999999 days"):
        parse_duration("1000000000d")


@given(st.integers(0, 10**6), st.sampled_from(sorted(UNITS)))
def test_a_whole_number_of_any_unit_reads_back_exactly(number: int, unit: str) -> None:
    assert parse_duration(f"{number}{unit}") == number * UNITS[unit]


@given(st.integers(0, 10**12))
def test_seconds_with_three_decimals_read_back_to_the_millisecond(ms: int) -> None:
    assert parse_duration(f"{ms // 1000}.{ms % 1000:03d}s") == timedelta(milliseconds=ms)


@given(st.text())
def test_any_text_is_a_duration_or_a_value_error(text: str) -> None:
    try:
        duration = parse_duration(text)
    except ValueError:
        return
    assert duration >= timedelta(0)


@given(st.floats())
def test_any_number_is_a_duration_or_a_value_error(number: float) -> None:
    try:
        duration = parse_duration(number)
    except ValueError:
        return
    assert duration >= timedelta(0)


@given(st.text().filter(lambda text: not any("0" <= char <= "9" for char in text)))
def test_text_without_a_digit_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration(text)
