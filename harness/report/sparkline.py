"""A latency sparkline: values turned into the points of an inline SVG polyline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Sparkline:
    """An SVG polyline in a ``width`` x ``height`` box, with the range it spans."""

    points: str
    width: int
    height: int
    low: float
    high: float
    n: int


def sparkline(
    values: Sequence[float], *, width: int = 120, height: int = 24, pad: float = 2.0
) -> Sparkline | None:
    """Points for ``values`` in order, left to right, the largest at the top; None if empty.

    A single value, or values all equal, draw a flat line through the middle.
    """
    if not values:
        return None
    low, high = min(values), max(values)
    span = high - low
    inner_h = height - 2 * pad
    inner_w = width - 2 * pad

    def y(value: float) -> float:
        if span == 0:
            return height / 2
        return pad + inner_h * (1 - (value - low) / span)

    if len(values) == 1:
        coords = [(pad, y(values[0])), (width - pad, y(values[0]))]
    else:
        step = inner_w / (len(values) - 1)
        coords = [(pad + i * step, y(v)) for i, v in enumerate(values)]
    points = " ".join(f"{x:.1f},{yy:.1f}" for x, yy in coords)
    return Sparkline(points, width, height, low, high, len(values))
