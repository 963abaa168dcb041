"""History by UTC day, folded from hourly rollups."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from harness.policy.aggregate import Uptime
from harness.policy.daily import daily, strip
from harness.policy.incidents import Incident
from harness.policy.rollup import fold
from harness.policy.status import State
from harness.result import FailureKind, ProbeResult

TODAY = date(2026, 5, 10)
NOON = datetime(2026, 5, 10, 12, tzinfo=UTC)


def result(at: datetime, ok: bool, ttfc: float = 100.0) -> ProbeResult:
    return ProbeResult(
        "P", "m", "ping", at, ok=ok, ttfc_ms=ttfc if ok else None,
        kind=None if ok else FailureKind.HTTP_SERVER,
    )  # fmt: skip


def test_days_count_probes_and_passes_by_utc_day() -> None:
    results = [
        result(NOON, True, 100.0),
        result(NOON, False),
        result(NOON - timedelta(days=1), True),
    ]
    *_, yesterday, today = daily(fold(results, 1e9).values(), days=3, today=TODAY)
    assert (today.day, today.probes, today.passes, today.uptime) == (TODAY, 2, 1, 0.5)
    assert (yesterday.probes, yesterday.passes) == (1, 1)
    assert today.ttfc_p50 is not None


def test_a_day_without_probes_has_no_uptime() -> None:
    (first, *_) = daily([], days=90, today=TODAY)
    assert (first.day, first.probes, first.uptime) == (TODAY - timedelta(days=89), 0, None)


def test_inconclusive_results_are_not_probes() -> None:
    offline = ProbeResult("P", "m", "ping", NOON, ok=False, kind=FailureKind.HARNESS_OFFLINE)
    (day,) = daily(fold([offline], 1e9).values(), days=1, today=TODAY)
    assert day.probes == 0


def test_the_strip_counts_each_incident_on_every_day_it_was_open() -> None:
    incident = Incident(1, "P", ("m",), ("r",), (), State.DOWN, NOON - timedelta(days=2), NOON, ())
    days = strip([(NOON, Uptime(3, 4))], [incident], days=4, today=TODAY, now=NOON)
    assert [d.incidents for d in days] == [0, 1, 1, 1]
    assert days[-1].uptime == Uptime(3, 4)


@given(st.lists(st.tuples(st.integers(0, 24 * 10 - 1), st.booleans()), max_size=60))
def test_the_days_add_up_to_the_results_inside_them(hours: list[tuple[int, bool]]) -> None:
    start = datetime(2026, 5, 1, tzinfo=UTC)
    results = [result(start + timedelta(hours=h), ok) for h, ok in hours]
    days = daily(fold(results, 1e9).values(), days=10, today=date(2026, 5, 10))
    assert sum(d.probes for d in days) == len(results)
    assert sum(d.passes for d in days) == sum(ok for _, ok in hours)
