"""The status policy, example by example.

Sequences are written one letter per result, a minute apart: P pass, S slow pass,
F failure (timeout_first_chunk), R rate limited (429), I inconclusive.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.policy.status import (
    Flip,
    State,
    TargetStatus,
    Thresholds,
    overall_counts,
    provider_working,
    replay,
    step,
    working_flag,
)
from harness.result import FailureKind, ProbeResult

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
UP, DEGRADED, THROTTLED, DOWN, FLAPPING, UNKNOWN = (
    State.UP,
    State.DEGRADED,
    State.THROTTLED,
    State.DOWN,
    State.FLAPPING,
    State.UNKNOWN,
)


def probe(letter: str, at: datetime, *, provider: str = "P", model: str = "m") -> ProbeResult:
    """One result of the kind the letter names."""
    passed = ProbeResult(provider, model, "ping", at, ok=True, ttfc_ms=400.0, total_ms=900.0)
    failed = replace(passed, ok=False, ttfc_ms=None, total_ms=None)
    return {
        "P": passed,
        "S": replace(passed, ttfc_ms=9500.0, total_ms=12000.0),
        "F": replace(failed, kind=FailureKind.TIMEOUT_FIRST_CHUNK, error="no first chunk"),
        "R": replace(failed, kind=FailureKind.RATE_LIMITED, http_status=429),
        "O": replace(failed, kind=FailureKind.OVERLOADED, http_status=529),
        "C": replace(failed, kind=FailureKind.CONTENT_FILTER, http_status=200),
        "I": replace(failed, kind=FailureKind.HARNESS_OFFLINE),
    }[letter]


def run(
    letters: str, th: Thresholds | None = None, *, gap: timedelta = timedelta(minutes=1)
) -> tuple[list[TargetStatus], list[Flip]]:
    """Every status after each result, and the flips, folding step over the letters."""
    th = th or Thresholds()
    status: TargetStatus | None = None
    statuses: list[TargetStatus] = []
    flips: list[Flip] = []
    for i, letter in enumerate(letters.replace(" ", "")):
        status, flip = step(status, probe(letter, T0 + i * gap), th)
        statuses.append(status)
        if flip is not None:
            flips.append(flip)
    return statuses, flips


def states(letters: str, th: Thresholds | None = None) -> list[State]:
    return [s.state for s in run(letters, th)[0]]


@pytest.mark.parametrize(
    ("letter", "state", "reason"),
    [
        ("P", UP, "first result: passed"),
        ("S", DEGRADED, "first result: passed, slow: ttfc 9.5 s > 8 s"),
        ("R", THROTTLED, "first result: rate limited (429)"),
        ("O", THROTTLED, "first result: overloaded (529)"),
        ("C", DOWN, "first result: failed (content_filter)"),
        ("F", DOWN, "first result: failed (timeout_first_chunk)"),
    ],
)
def test_first_result_decides(letter: str, state: State, reason: str) -> None:
    _, flips = run(letter)
    assert flips == [Flip("P", "m", T0, UNKNOWN, state, reason)]


def test_one_failure_shows_an_up_target_degraded_not_down() -> None:
    assert states("PP F PP") == [UP, UP, DEGRADED, DEGRADED, UP]


def test_blip_flip_reason_says_how_far_from_down() -> None:
    _, flips = run("PF")
    assert flips[-1].reason == "1 failure (timeout_first_chunk), below 3 for down"


def test_down_needs_three_failures_in_a_row() -> None:
    statuses, flips = run("PP FFF")
    assert [s.state for s in statuses] == [UP, UP, DEGRADED, DEGRADED, DOWN]
    assert flips[-1].reason == "3 failures in a row (timeout_first_chunk)"


def test_a_pass_between_failures_restarts_the_count() -> None:
    assert states("P FF P FF")[-1] is DEGRADED


def test_one_pass_does_not_bring_a_down_target_back() -> None:
    assert states("F P F P") == [DOWN, DOWN, DOWN, DOWN]


def test_up_needs_two_passes_in_a_row() -> None:
    statuses, flips = run("F PP")
    assert [s.state for s in statuses] == [DOWN, DOWN, UP]
    assert flips[-1] == Flip("P", "m", T0 + timedelta(minutes=2), DOWN, UP, "2 passes in a row")


def test_one_slow_pass_leaves_an_up_target_up() -> None:
    statuses, flips = run("PP S PP")
    assert [s.state for s in statuses] == [UP] * 5
    assert statuses[2].missed == ("max_ttfc",)
    assert statuses[3].missed == ()
    assert len(flips) == 1


def test_slow_passes_in_a_row_show_degraded_with_the_figures() -> None:
    statuses, flips = run("P SSS")
    assert [s.state for s in statuses] == [UP, UP, UP, DEGRADED]
    assert flips[-1].reason == "3 slow passes in a row: ttfc 9.5 s > 8 s"
    assert statuses[-1].reason == flips[-1].reason


def test_leaving_degraded_slow_needs_passes_within_objectives_in_a_row() -> None:
    statuses, flips = run("P SSS P S P P")
    assert [s.state for s in statuses][3:] == [DEGRADED, DEGRADED, DEGRADED, DEGRADED, UP]
    assert flips[-1].reason == "2 passes in a row within objectives"


def test_a_model_hovering_around_its_objective_does_not_alternate() -> None:
    assert states("P" + "SP" * 7) == [UP] * 15
    assert states("SSS" + "PS" * 6)[3:] == [DEGRADED] * 12


def test_recovery_through_slow_passes_shows_degraded() -> None:
    assert states("F SS") == [DOWN, DOWN, DEGRADED]


def test_one_rate_limit_shows_a_working_target_degraded_not_throttled() -> None:
    statuses, flips = run("PP R")
    assert statuses[-1].state is DEGRADED
    assert flips[-1].reason == "rate limited (429), below 3 in a row for throttled"
    assert statuses[-1].reason == flips[-1].reason


def test_the_measured_sequence_never_leaves_work() -> None:
    # One 429 between passes, then a pass, a single 500 and another pass.
    assert states("P R P F P") == [UP, DEGRADED, DEGRADED, DEGRADED, DEGRADED]
    assert states("P R P F P P")[-1] is UP


def test_rate_limits_in_a_row_make_it_throttled() -> None:
    statuses, flips = run("P RRR")
    assert [s.state for s in statuses] == [UP, DEGRADED, DEGRADED, THROTTLED]
    assert flips[-1].reason == "3 rate limits in a row (429)"


def test_an_overloaded_upstream_is_throttled_not_down() -> None:
    assert states("P OOO") == [UP, DEGRADED, DEGRADED, THROTTLED]
    assert states("P ORO") == [UP, DEGRADED, DEGRADED, THROTTLED]


def test_a_mix_of_rate_limits_and_failures_counts_as_one_run() -> None:
    statuses, flips = run("P RFR")
    assert [s.state for s in statuses] == [UP, DEGRADED, DEGRADED, THROTTLED]
    assert flips[-1].reason == (
        "3 in a row without a pass: 2 rate limited, 1 failed (last: rate_limited (429))"
    )
    assert (statuses[-1].fail_streak, statuses[-1].limit_streak) == (3, 2)
    assert states("P FRF")[-1] is DOWN


def test_a_throttled_target_turns_down_when_failures_take_over() -> None:
    assert states("R FF F") == [THROTTLED, THROTTLED, DOWN, DOWN]
    assert states("F RR R")[-1] is THROTTLED


def test_a_pass_ends_the_run_of_rate_limits() -> None:
    assert states("P RR P RR P") == [UP, *[DEGRADED] * 6]


def test_throttled_needs_two_passes_to_be_up() -> None:
    assert states("R P P") == [THROTTLED, THROTTLED, UP]


def test_inconclusive_result_returns_the_status_unchanged() -> None:
    statuses, _ = run("PF")
    before = statuses[-1]
    after, flip = step(before, probe("I", T0 + timedelta(hours=1)), Thresholds())
    assert after is before
    assert flip is None


def test_inconclusive_first_result_gives_unknown_without_a_flip() -> None:
    statuses, flips = run("I I P")
    assert [s.state for s in statuses] == [UNKNOWN, UNKNOWN, UP]
    assert statuses[0].last_result_at is None
    assert flips == [Flip("P", "m", T0 + timedelta(minutes=2), UNKNOWN, UP, "first result: passed")]


def test_since_moves_only_when_the_state_changes() -> None:
    statuses, _ = run("P P F F")
    degraded_at = T0 + timedelta(minutes=2)
    assert [s.since for s in statuses] == [T0, T0, degraded_at, degraded_at]


def test_status_keeps_streaks_and_the_last_result() -> None:
    statuses, _ = run("P F F")
    last = statuses[-1]
    assert (last.pass_streak, last.fail_streak, last.limit_streak) == (0, 2, 0)
    assert last.last_result_at == T0 + timedelta(minutes=2)
    assert last.last_ok_at == T0
    assert last.last_kind is FailureKind.TIMEOUT_FIRST_CHUNK
    assert last.last_error == "no first chunk"


def test_a_pass_clears_the_last_error() -> None:
    last = run("F P")[0][-1]
    assert (last.last_kind, last.last_error) == (None, None)


def test_repeated_outages_make_the_target_flap_once() -> None:
    # The first result is not a change; then up, down, up, down: four within the hour.
    statuses, flips = run("FFF PP FFF PP FFF PP")
    to_flapping = [f for f in flips if f.new is FLAPPING]
    assert to_flapping == [
        Flip(
            "P",
            "m",
            T0 + timedelta(minutes=12),
            DEGRADED,
            FLAPPING,
            "4 changes within 1 h: flapping",
        )
    ]
    assert flips[-1] is to_flapping[0]
    assert statuses[-1].state is FLAPPING
    assert statuses[-1].underlying is UP


def test_blips_and_slow_spells_never_make_a_target_flap() -> None:
    assert FLAPPING not in states("PFP SP PFP SP PFP SP PFP SP PFP")


def test_a_flapping_target_settles_after_an_hour_without_changes() -> None:
    th = Thresholds()
    statuses, _ = run("FFF PP FFF PP FFF", th)
    assert statuses[-1].state is FLAPPING
    quiet = statuses[-1].changes[-1] + timedelta(hours=1, minutes=1)
    status, flip = step(statuses[-1], probe("P", quiet), th)
    assert status.state is DOWN
    assert flip == Flip("P", "m", quiet, FLAPPING, DOWN, "no changes for 1 h: no longer flapping")


def test_a_flapping_target_stays_flapping_within_the_calm_period() -> None:
    th = Thresholds()
    statuses, _ = run("FFF PP FFF PP FFF", th)
    soon = statuses[-1].changes[-1] + timedelta(minutes=59)
    status, flip = step(statuses[-1], probe("P", soon), th)
    assert (status.state, flip) == (FLAPPING, None)


def test_changes_are_trimmed_to_the_flap_window() -> None:
    th = Thresholds()
    status, _ = step(None, probe("F", T0), th)
    status, _ = step(status, probe("P", T0 + timedelta(minutes=1)), th)
    status, _ = step(status, probe("P", T0 + timedelta(minutes=2)), th)
    assert status.changes == (T0 + timedelta(minutes=2),)
    status, _ = step(status, probe("P", T0 + timedelta(hours=2)), th)
    assert status.changes == ()


def test_thresholds_are_configurable() -> None:
    th = Thresholds(down_after=1, up_after=3, slow_ttfc_ms=100.0)
    assert states("P F PP P", th) == [DEGRADED, DOWN, DOWN, DOWN, DEGRADED]


@pytest.mark.parametrize(
    "bad",
    [
        {"down_after": 0},
        {"up_after": 0},
        {"flap_changes": 1},
        {"slow_ttfc_ms": 0.0},
        {"flap_calm_s": 0.0},
        {"flap_window_s": 60.0, "flap_calm_s": 120.0},
    ],
)
def test_nonsensical_thresholds_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        Thresholds(**bad)  # type: ignore[arg-type]


def _status(state: State) -> TargetStatus:
    return TargetStatus("P", state.value, state, T0, 0, 0, T0, None, None, None, (), state)


@pytest.mark.parametrize(
    ("model_states", "working"),
    [
        ([UP], True),
        ([DEGRADED], True),
        ([DOWN, THROTTLED, FLAPPING, UP], True),
        ([DOWN], False),
        ([DOWN, THROTTLED, FLAPPING, UNKNOWN], False),
        ([DOWN, UNKNOWN], False),
        ([THROTTLED], False),
        ([UNKNOWN], None),
        ([UNKNOWN, UNKNOWN], None),
        ([], None),
    ],
)
def test_a_provider_works_when_a_model_does_and_is_unknown_when_nothing_is_conclusive(
    model_states: list[State], working: bool | None
) -> None:
    assert provider_working(_status(s) for s in model_states) is working


@given(st.lists(st.sampled_from(list(State))))
def test_only_models_with_no_conclusive_state_make_a_provider_unknown(
    model_states: list[State],
) -> None:
    flag = working_flag(model_states)

    assert (flag is True) == any(s.is_working for s in model_states)
    assert (flag is None) == all(s is UNKNOWN for s in model_states)


def test_overall_counts_name_every_state() -> None:
    counts = overall_counts([_status(UP), _status(UP), _status(DOWN)])
    assert counts == {UP: 2, DEGRADED: 0, THROTTLED: 0, DOWN: 1, FLAPPING: 0, UNKNOWN: 0}


def test_replay_folds_results_in_time_order_per_target() -> None:
    results = [
        probe("F", T0 + timedelta(minutes=2), model="a"),
        probe("P", T0, model="a"),
        probe("F", T0 + timedelta(minutes=1), model="a"),
        probe("F", T0, model="b"),
    ]
    statuses, flips = replay(results, Thresholds())
    assert {k: s.state for k, s in statuses.items()} == {("P", "a"): DEGRADED, ("P", "b"): DOWN}
    assert [(f.model, f.old, f.new) for f in flips] == [
        ("a", UNKNOWN, UP),
        ("b", UNKNOWN, DOWN),
        ("a", UP, DEGRADED),
    ]


def test_replay_continues_from_stored_statuses() -> None:
    first, _ = replay([probe("F", T0)], Thresholds())
    statuses, flips = replay(
        [probe("P", T0 + timedelta(minutes=m)) for m in (1, 2)], Thresholds(), first
    )
    assert statuses[("P", "m")].state is UP
    assert [(f.old, f.new) for f in flips] == [(DOWN, UP)]
