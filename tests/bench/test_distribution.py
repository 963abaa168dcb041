"""Spreads of timing samples."""

import pytest

from harness.bench.distribution import Spread


def test_a_spread_holds_p50_p95_and_max() -> None:
    spread = Spread.of([float(v) for v in range(1, 101)])
    assert spread.n == 100
    assert spread.p50 == pytest.approx(50.5)
    assert spread.p95 == pytest.approx(95.05)
    assert spread.max == 100.0
    assert spread.p99 == pytest.approx(99.01)


def test_a_spread_has_a_p99_only_from_a_hundred_samples() -> None:
    assert Spread.of([float(v) for v in range(99)]).p99 is None


def test_a_spread_of_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="no samples"):
        Spread.of([])


def test_a_spread_rounds_for_json() -> None:
    assert Spread.of([1.23456]).to_dict(2) == {
        "n": 1,
        "p50": 1.23,
        "p95": 1.23,
        "max": 1.23,
        "p99": None,
    }
