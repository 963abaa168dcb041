"""Properties of the status policy over generated result sequences and thresholds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.policy.objectives import Baseline, Objectives, seconds
from harness.policy.status import Flip, State, TargetStatus, Thresholds, replay, step
from harness.result import FailureKind, ProbeResult

T0 = datetime(2024, 5, 1, tzinfo=UTC)

FAILURE_KINDS = [
    k for k in FailureKind if not k.is_throttle and k is not FailureKind.HARNESS_OFFLINE
]

passes = st.builds(lambda ttfc: ("pass", ttfc, None), st.floats(min_value=1, max_value=20_000))
# Fast under every generated threshold (slow_ttfc_ms >= 100).
fast_passes = st.builds(lambda ttfc: ("pass", ttfc, None), st.floats(min_value=1, max_value=99))
failures = st.builds(lambda kind: ("fail", None, kind), st.sampled_from(FAILURE_KINDS))
# Rate limits and an overloaded upstream count alike: throttled, not down.
rate_limits = st.builds(
    lambda kind: ("fail", None, kind),
    st.sampled_from([FailureKind.RATE_LIMITED, FailureKind.OVERLOADED]),
)
offline = st.just(("fail", None, FailureKind.HARNESS_OFFLINE))
any_result = st.one_of(passes, failures, rate_limits, offline)

Spec = tuple[str, float | None, FailureKind | None]

thresholds = st.builds(
    Thresholds,
    down_after=st.integers(1, 6),
    up_after=st.integers(1, 6),
    slow_ttfc_ms=st.floats(min_value=100, max_value=20_000),
    flap_changes=st.integers(2, 8),
)


def results_of(specs: Sequence[Spec], gaps: Sequence[int] | None = None) -> list[ProbeResult]:
    """Results a minute apart (or ``gaps`` seconds apart, cycling), from (outcome, ttfc, kind)."""
    out = []
    at = T0
    for i, (outcome, ttfc, kind) in enumerate(specs):
        out.append(
            ProbeResult(
                "P", "m", "ping", at, ok=outcome == "pass", kind=kind, ttfc_ms=ttfc, error="e"
            )
        )
        at += timedelta(seconds=gaps[i % len(gaps)] if gaps else 60)
    return out


def fold(results: Sequence[ProbeResult], th: Thresholds) -> tuple[list[TargetStatus], list[Flip]]:
    status: TargetStatus | None = None
    statuses, flips = [], []
    for result in results:
        status, flip = step(status, result, th)
        statuses.append(status)
        flips += [flip] if flip else []
    return statuses, flips


@settings(deadline=None)  # a busy machine is no failure of the policy
@given(
    th=thresholds.filter(lambda t: t.down_after >= 2),
    before=st.integers(0, 10),
    blip=st.one_of(failures, rate_limits),
    after=st.lists(fast_passes, min_size=0, max_size=10),
)
def test_a_single_failure_or_rate_limit_never_takes_an_up_target_out_of_work(
    th: Thresholds, before: int, blip: Spec, after: list[Spec]
) -> None:
    lead = [("pass", 50.0, None)] * (th.up_after + before)
    statuses, _ = fold(results_of([*lead, blip, *after]), th)
    assert all(s.state in (State.UP, State.DEGRADED) for s in statuses)
    expected_end = State.UP if len(after) >= th.up_after else State.DEGRADED
    assert statuses[-1].state is expected_end


@settings(deadline=None)
@given(th=thresholds.filter(lambda t: t.flap_changes >= 3), extra=st.integers(0, 5))
def test_a_lasting_change_flips_after_exactly_the_thresholds(th: Thresholds, extra: int) -> None:
    ups = [("pass", 50.0, None)] * th.up_after
    downs = [("fail", None, FailureKind.HTTP_SERVER)] * (th.down_after + extra)
    statuses, _ = fold(results_of([*ups, *downs, *ups]), th)
    shown = [s.state for s in statuses]
    down_at = th.up_after + th.down_after - 1
    up_again_at = th.up_after + th.down_after + extra + th.up_after - 1
    assert State.DOWN not in shown[:down_at]
    assert shown[down_at:up_again_at] == [State.DOWN] * (up_again_at - down_at)
    assert shown[up_again_at] is State.UP


@settings(deadline=None)
@given(th=thresholds, specs=st.lists(any_result, max_size=60))
def test_a_run_of_mostly_rate_limits_shows_throttled_never_down(
    th: Thresholds, specs: list[Spec]
) -> None:
    statuses, _ = fold(results_of(specs), th)
    for status in statuses:
        if status.fail_streak >= th.down_after:
            mostly_limited = 2 * status.limit_streak > status.fail_streak
            assert status.underlying is (State.THROTTLED if mostly_limited else State.DOWN)


@settings(deadline=None)
@given(th=thresholds, specs=st.lists(st.one_of(passes, rate_limits), max_size=60))
def test_passes_and_rate_limits_alone_never_show_down(th: Thresholds, specs: list[Spec]) -> None:
    statuses, _ = fold(results_of(specs), th)
    assert all(s.underlying is not State.DOWN for s in statuses)


@settings(deadline=None)
@given(
    th=thresholds,
    specs=st.lists(st.one_of(passes, failures, rate_limits), max_size=40),
    offline_at=st.lists(st.integers(0, 40), max_size=10),
)
def test_inconclusive_results_change_nothing(
    th: Thresholds, specs: list[Spec], offline_at: list[int]
) -> None:
    with_offline = list(specs)
    for i in sorted(offline_at, reverse=True):
        with_offline.insert(min(i, len(with_offline)), ("fail", None, FailureKind.HARNESS_OFFLINE))
    gaps = [60]
    plain = [r for r in results_of(with_offline, gaps) if not r.inconclusive]
    mixed = results_of(with_offline, gaps)
    plain_statuses, plain_flips = replay(plain, th)
    mixed_statuses, mixed_flips = replay(mixed, th)
    assert mixed_flips == plain_flips
    if plain:
        assert mixed_statuses == plain_statuses


@settings(deadline=None)
@given(th=thresholds, specs=st.lists(any_result, min_size=1, max_size=40))
def test_an_inconclusive_step_returns_the_same_status(th: Thresholds, specs: list[Spec]) -> None:
    results = results_of(specs)
    statuses, _ = fold(results, th)
    later = results_of([("fail", None, FailureKind.HARNESS_OFFLINE)])[0]
    assert step(statuses[-1], later, th) == (statuses[-1], None)


@settings(deadline=None)
@given(
    down_after=st.integers(1, 5),
    up_after=st.integers(1, 5),
    flap_changes=st.integers(2, 6),
    cycles=st.integers(6, 12),
)
def test_repeated_outages_end_in_flapping_and_then_flip_no_more(
    down_after: int, up_after: int, flap_changes: int, cycles: int
) -> None:
    th = Thresholds(down_after=down_after, up_after=up_after, flap_changes=flap_changes)
    cycle = [("fail", None, FailureKind.CONNECT)] * down_after + [("pass", 50.0, None)] * up_after
    statuses, flips = fold(results_of(cycle * cycles), th)
    to_flapping = [i for i, f in enumerate(flips) if f.new is State.FLAPPING]
    assert len(to_flapping) == 1
    assert to_flapping[0] == len(flips) - 1
    assert statuses[-1].state is State.FLAPPING


@settings(deadline=None)
@given(
    th=thresholds,
    specs=st.lists(any_result, max_size=80),
    gaps=st.lists(st.integers(0, 5400), min_size=1, max_size=10),
)
def test_every_flip_changes_the_state_and_says_why(
    th: Thresholds, specs: list[Spec], gaps: list[int]
) -> None:
    statuses, flips = fold(results_of(specs, gaps), th)
    for flip in flips:
        assert flip.old is not flip.new
        assert flip.reason.strip()
    for status in statuses:
        assert status.underlying is not State.FLAPPING
        assert status.state in (status.underlying, State.FLAPPING)
        assert all(
            status.last_result_at is None or t > status.last_result_at - timedelta(hours=1)
            for t in status.changes
        )


@settings(deadline=None)
@given(
    th=thresholds,
    specs=st.lists(any_result, max_size=60),
    gaps=st.lists(st.integers(0, 5400), min_size=1, max_size=10),
)
def test_flips_chain_from_one_state_to_the_next(
    th: Thresholds, specs: list[Spec], gaps: list[int]
) -> None:
    statuses, flips = fold(results_of(specs, gaps), th)
    shown = State.UNKNOWN
    for flip in flips:
        assert flip.old is shown
        shown = flip.new
    assert shown is (statuses[-1].state if statuses else State.UNKNOWN)


working_thresholds = st.builds(
    Thresholds,
    down_after=st.integers(2, 6),
    up_after=st.integers(2, 6),
    slow_ttfc_ms=st.floats(min_value=100, max_value=20_000),
    flap_changes=st.integers(2, 8),
    flap_window_s=st.just(3600.0),
    flap_calm_s=st.sampled_from([60.0, 600.0, 3600.0]),
)


@settings(deadline=None)
@given(
    th=working_thresholds,
    specs=st.lists(any_result, max_size=80),
    gaps=st.lists(st.integers(0, 5400), min_size=1, max_size=10),
)
def test_no_single_result_flips_working_once_a_target_has_a_state(
    th: Thresholds, specs: list[Spec], gaps: list[int]
) -> None:
    results = results_of(specs, gaps)
    statuses, _ = fold(results, th)
    seen: list[tuple[ProbeResult, TargetStatus]] = [
        (r, s) for r, s in zip(results, statuses, strict=True) if not r.inconclusive
    ]
    for i in range(1, len(seen)):
        was, now = seen[i - 1][1].state.is_working, seen[i][1].state.is_working
        if was == now:
            continue
        needed = th.up_after if now else th.down_after
        assert i + 1 >= needed
        # The change is backed by a run of results that all point the same way.
        assert all(r.ok is now for r, _ in seen[i + 1 - needed : i + 1])


@settings(deadline=None)
@given(
    th=working_thresholds,
    lead=st.integers(0, 5),
    specs=st.lists(st.sampled_from(["fast", "slow"]), max_size=60),
)
def test_no_single_slow_or_fast_pass_moves_between_up_and_degraded(
    th: Thresholds, lead: int, specs: list[str]
) -> None:
    slow, fast = th.slow_ttfc_ms + 1, th.slow_ttfc_ms / 2
    ttfcs = [fast] * (1 + lead) + [slow if s == "slow" else fast for s in specs]
    statuses, _ = fold(results_of([("pass", t, None) for t in ttfcs]), th)
    shown = [s.state for s in statuses]
    assert set(shown) <= {State.UP, State.DEGRADED}
    for i in range(1, len(shown)):
        if shown[i] is shown[i - 1]:
            continue
        needed = th.down_after if shown[i] is State.DEGRADED else th.up_after
        run = ttfcs[i + 1 - needed : i + 1]
        assert len(run) == needed
        assert all((t > th.slow_ttfc_ms) is (shown[i] is State.DEGRADED) for t in run)


@settings(deadline=None)
@given(
    th=working_thresholds,
    history=st.integers(0, 60),
    p50=st.floats(min_value=50, max_value=2000),
    factor=st.floats(min_value=1.1, max_value=5),
    steady=st.integers(0, 10),
    over=st.floats(min_value=1.01, max_value=3),
)
def test_a_steady_regression_is_flagged_within_down_after_probes_once_history_suffices(
    th: Thresholds, history: int, p50: float, factor: float, steady: int, over: float
) -> None:
    objectives = Objectives(regression=factor)
    baseline = Baseline(passes=history, ttfc_p50_ms=p50, total_p50_ms=None)
    slower = p50 * factor * over
    specs: list[Spec] = [("pass", p50, None)] * (1 + steady) + [("pass", slower, None)] * (
        th.down_after + 3
    )
    status: TargetStatus | None = None
    shown = []
    for result in results_of(specs):
        status, _ = step(status, result, th, objectives, baseline)
        shown.append(status.state)
    regressed = shown[1 + steady :]
    if history < objectives.min_history:
        assert set(shown) == {State.UP}
    else:
        assert regressed[: th.down_after - 1] == [State.UP] * (th.down_after - 1)
        assert set(regressed[th.down_after - 1 :]) == {State.DEGRADED}
        assert status is not None
        assert status.missed == ("regression",)
        assert f"its 7-day p50 of {seconds(p50)}" in status.reason
