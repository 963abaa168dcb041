"""The latency sparkline's geometry."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from harness.report.sparkline import sparkline


def coords(points: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in (p.split(",") for p in points.split())]


@given(st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=60))
def test_every_point_lies_inside_the_box(values: list[float]) -> None:
    spark = sparkline(values, width=120, height=24)

    assert spark is not None
    for x, y in coords(spark.points):
        assert 0 <= x <= 120
        assert 0 <= y <= 24


@given(st.lists(st.floats(min_value=0, max_value=1e6), min_size=2, max_size=60))
def test_one_point_per_value_left_to_right(values: list[float]) -> None:
    spark = sparkline(values)

    assert spark is not None
    xs = [x for x, _ in coords(spark.points)]
    assert len(xs) == len(values)
    assert xs == sorted(xs)


def test_the_slowest_value_is_drawn_highest() -> None:
    spark = sparkline([100, 900, 300])

    assert spark is not None
    ys = [y for _, y in coords(spark.points)]
    assert ys[1] == min(ys)
    assert (spark.low, spark.high) == (100, 900)


def test_equal_values_draw_a_flat_line() -> None:
    spark = sparkline([5, 5, 5])

    assert spark is not None
    assert len({y for _, y in coords(spark.points)}) == 1


def test_no_values_no_sparkline() -> None:
    assert sparkline([]) is None
