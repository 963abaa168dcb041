"""Shields-style SVG badges: a provider's name and its state, coloured by the state."""

from __future__ import annotations

import anybadge  # type: ignore[import-untyped]

from harness.policy.status import State

COLOURS: dict[State, str] = {
    State.UP: "#4c1",
    State.DEGRADED: "#dfb317",
    State.THROTTLED: "#8a2be2",
    State.FLAPPING: "#fe7d37",
    State.DOWN: "#e05d44",
    State.UNKNOWN: "#9f9f9f",
}


def badge_svg(name: str, state: State) -> str:
    """The badge ``<name> | <state>`` in the state's colour (anybadge escapes both texts)."""
    badge = anybadge.Badge(label=name, value=state.value, default_color=COLOURS[state])
    return str(badge.badge_svg_text)
