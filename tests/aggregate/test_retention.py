"""Retention tiers' cutoffs and daily rollups (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from harness.policy.retention import Retention, cutoffs
from harness.policy.rollup import day_of, fold, fold_days, rollup_latency
from harness.result import FailureKind, ProbeResult

T0 = datetime(2025, 1, 1, tzinfo=UTC)
PASS = ProbeResult("P", "m", "ping", T0, ok=True, ttfc_ms=100.0, total_ms=300.0)

nows = st.datetimes(
    min_value=datetime(2001, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
)
spans = st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=3000))


@st.composite
def retentions(draw: st.DrawFn) -> Retention:
    """Tiers in order, each maybe forever (and then every one after it too)."""
    raw = draw(spans)
    hourly = raw + draw(spans)
    daily = hourly + draw(spans)
    forever = draw(st.integers(0, 3))  # how many tiers, from the last, are kept forever
    tiers: list[timedelta | None] = [raw, hourly, daily]
    for n in range(forever):
        tiers[2 - n] = None
    return Retention(*tiers)


@given(retention=retentions(), now=nows)
def test_rollups_are_cut_at_the_start_of_a_day(retention: Retention, now: datetime) -> None:
    cut = cutoffs(retention, now)
    for at in (cut.hourly, cut.daily):
        assert at is None or at == day_of(at)


@given(retention=retentions(), now=nows)
def test_no_tier_is_cut_later_than_the_one_it_summarises(
    retention: Retention, now: datetime
) -> None:
    cut = cutoffs(retention, now)
    times = [cut.raw, cut.hourly, cut.daily]
    for earlier, later in zip(times[1:], times[:-1], strict=True):
        # A tier kept forever (None) never cuts anything.
        assert earlier is None or (later is not None and earlier <= later)


@given(retention=retentions(), now=nows)
def test_each_tier_keeps_at_least_its_span(retention: Retention, now: datetime) -> None:
    cut = cutoffs(retention, now)
    for at, span in ((cut.raw, retention.raw), (cut.hourly, retention.hourly)):
        assert (at is None) == (span is None)
        if at is not None and span is not None:
            assert at <= now - span


outcomes = st.lists(
    st.tuples(
        st.integers(0, 24 * 5 - 1),
        st.sampled_from(["m", "n"]),
        st.booleans(),
        st.floats(min_value=1.0, max_value=60_000.0),
    ),
    max_size=200,
)


@given(outcomes=outcomes)
def test_daily_rollups_hold_exactly_what_their_hours_hold(
    outcomes: list[tuple[int, str, bool, float]],
) -> None:
    results = [
        replace(PASS, model=model, started_at=T0 + timedelta(hours=hour), ttfc_ms=ttfc)
        if ok
        else replace(
            PASS,
            model=model,
            started_at=T0 + timedelta(hours=hour),
            ok=False,
            kind=FailureKind.CONNECT,
            ttfc_ms=None,
            total_ms=None,
        )
        for hour, model, ok, ttfc in outcomes
    ]
    hours = fold(results, lag_budget_ms=5.0)
    days = fold_days(hours.values())
    assert {d.hour for d in days.values()} == {day_of(h.hour) for h in hours.values()}
    for model in ("m", "n"):
        of_hours = [h for h in hours.values() if h.model == model]
        of_days = [d for d in days.values() if d.model == model]
        assert sum(d.ok for d in of_days) == sum(h.ok for h in of_hours)
        assert sum(d.failed for d in of_days) == sum(h.failed for h in of_hours)
        assert rollup_latency(of_days) == rollup_latency(of_hours)
