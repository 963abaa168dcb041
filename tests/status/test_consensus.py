"""Consensus across vantages: who votes, what a quorum decides, one flip per change."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from harness.policy.consensus import (
    RunDecision,
    VantageStatus,
    decide,
    quorum_of,
    verdict,
    voters,
    voting_window,
)
from harness.policy.status import State, TargetStatus, Thresholds, replay
from harness.result import FailureKind, ProbeResult

T0 = datetime(2024, 5, 1, tzinfo=UTC)
WINDOW = timedelta(minutes=10)
PASS = ProbeResult("P", "m", "ping", T0, ok=True, ttfc_ms=100.0, total_ms=300.0)
FAIL = replace(PASS, ok=False, kind=FailureKind.HTTP_SERVER, ttfc_ms=None, total_ms=None)
OFFLINE = replace(FAIL, kind=FailureKind.HARNESS_OFFLINE)
TH = Thresholds(down_after=1, up_after=1)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


class Vantages:
    """The store's side of consensus: both levels of status kept between runs."""

    def __init__(self, quorum: int | None = None) -> None:
        self.quorum = quorum
        self.shown: dict[tuple[str, str], TargetStatus] = {}
        self.views: dict[tuple[str, str, str], VantageStatus] = {}

    def run(self, results: list[ProbeResult]) -> RunDecision:
        decision = decide(
            self.shown, self.views, results, thresholds=TH, window=WINDOW, quorum=self.quorum
        )
        self.shown = decision.shown
        self.views.update({v.key: v for v in decision.vantages})
        return decision


def seen(vantage: str, base: ProbeResult, minute: float) -> ProbeResult:
    return replace(base, vantage=vantage, started_at=at(minute))


def test_a_minority_down_shows_degraded_and_names_where() -> None:
    hosts = Vantages()
    first = hosts.run([seen(v, PASS, 0) for v in ("a", "b", "c")])
    assert first.shown[("P", "m")].state is State.UP
    second = hosts.run([seen("a", FAIL, 1)])
    assert second.shown[("P", "m")].state is State.DEGRADED
    assert second.shown[("P", "m")].state.is_working
    (flip,) = second.flips
    assert flip.reason == "down from a (1 of 3 vantages, quorum 2)"


def test_a_quorum_down_flips_once() -> None:
    hosts = Vantages()
    hosts.run([seen(v, PASS, 0) for v in ("a", "b")])
    both = hosts.run([seen("a", FAIL, 1), seen("b", FAIL, 1.5)])
    assert both.shown[("P", "m")].state is State.DOWN
    assert [(f.old, f.new) for f in both.flips] == [
        (State.UP, State.DEGRADED),
        (State.DEGRADED, State.DOWN),
    ]
    again = hosts.run([seen("a", FAIL, 2), seen("b", FAIL, 2)])
    assert again.flips == []
    back = hosts.run([seen("a", PASS, 3), seen("b", PASS, 3)])
    assert back.shown[("P", "m")].state is State.UP


def test_an_offline_vantage_does_not_vote() -> None:
    hosts = Vantages()
    hosts.run([seen(v, PASS, 0) for v in ("a", "b", "c")])
    hosts.run([seen("b", OFFLINE, 1), seen("c", OFFLINE, 1)])
    down = hosts.run([seen("a", FAIL, 2)])
    # a is the only voter left: its view is shown as it is.
    assert down.shown[("P", "m")].state is State.DOWN


def test_a_vantage_silent_for_two_intervals_does_not_vote() -> None:
    hosts = Vantages()
    hosts.run([seen(v, PASS, 0) for v in ("a", "b")])
    later = hosts.run([seen("a", FAIL, 11)])
    assert later.shown[("P", "m")].state is State.DOWN


def test_the_quorum_can_be_set() -> None:
    hosts = Vantages(quorum=1)
    hosts.run([seen(v, PASS, 0) for v in ("a", "b", "c")])
    one = hosts.run([seen("a", FAIL, 1)])
    assert one.shown[("P", "m")].state is State.DOWN
    assert quorum_of(4, None) == 3
    assert quorum_of(4, 1) == 1


def test_without_voters_there_is_no_verdict() -> None:
    assert verdict([]) is None
    stale = VantageStatus("a", replay([PASS], TH)[0][("P", "m")], at(0), offline=False)
    assert voters([stale], now=at(30), window=WINDOW) == []


def test_a_vantage_votes_for_two_probing_intervals_after_its_report() -> None:
    report = VantageStatus("a", replay([PASS], TH)[0][("P", "m")], at(0), offline=False)
    window = voting_window(interval_s=300)
    assert voters([report], now=at(10), window=window) == [report]
    assert voters([report], now=at(10.1), window=window) == []


@given(outcomes=st.lists(st.sampled_from([PASS, FAIL, OFFLINE]), max_size=30))
def test_one_vantage_behaves_exactly_like_the_single_host_policy(
    outcomes: list[ProbeResult],
) -> None:
    results = [replace(r, vantage="solo", started_at=at(i)) for i, r in enumerate(outcomes)]
    statuses, flips = replay(results, Thresholds())
    decision = decide({}, {}, results, thresholds=Thresholds(), window=WINDOW)
    assert decision.shown == statuses
    assert decision.flips == flips
