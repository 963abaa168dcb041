"""The incident rule: flips of a provider's models open, grow and resolve incidents."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from harness.policy.incidents import advance, replay
from harness.policy.status import Flip, State

T0 = datetime(2026, 5, 1, tzinfo=UTC)


def flip(model: str, old: State, new: State, minutes: int, provider: str = "P") -> Flip:
    return Flip(provider, model, T0 + timedelta(minutes=minutes), old, new, f"{model} {new}")


def test_a_model_going_down_opens_an_incident() -> None:
    (incident,) = advance([], [flip("a", State.UP, State.DOWN, 0)])
    assert incident.is_open
    assert incident.models == ("a",)
    assert incident.state is State.DOWN
    assert incident.started_at == T0
    assert incident.reason == "a down"


def test_a_working_flip_opens_nothing() -> None:
    assert advance([], [flip("a", State.UP, State.DEGRADED, 0)]) == []


def test_models_going_down_while_open_join_the_incident() -> None:
    (incident,) = advance(
        [], [flip("a", State.UP, State.THROTTLED, 0), flip("b", State.UP, State.DOWN, 5)]
    )
    assert incident.models == ("a", "b")
    assert incident.state is State.DOWN
    assert incident.reason == "a: a throttled; b: b down"


def test_it_resolves_only_when_every_model_works_again() -> None:
    (opened,) = advance(
        [], [flip("a", State.UP, State.DOWN, 0), flip("b", State.UP, State.DOWN, 1)]
    )
    (partly,) = advance([replace(opened, id=7)], [flip("a", State.DOWN, State.UP, 10)])
    assert (partly.id, partly.open_models, partly.resolved_at) == (7, ("b",), None)
    (resolved,) = advance([partly], [flip("b", State.DOWN, State.DEGRADED, 20)])
    assert resolved.resolved_at == T0 + timedelta(minutes=20)
    assert resolved.duration_s(T0 + timedelta(days=9)) == 20 * 60


def test_each_provider_has_its_own_incident() -> None:
    incidents = advance(
        [],
        [flip("a", State.UP, State.DOWN, 0, "P"), flip("a", State.UP, State.DOWN, 0, "Q")],
    )
    assert sorted(i.provider for i in incidents) == ["P", "Q"]


def test_vantages_that_see_the_models_down_join_the_open_incident() -> None:
    (opened,) = advance([], [flip("a", State.UP, State.DOWN, 0)], {("P", "a"): {"eu-1"}})
    (seen,) = advance([opened], [], {("P", "a"): {"us-1"}})
    assert seen.vantages == ("eu-1", "us-1")


def test_a_down_again_after_resolving_opens_a_new_incident() -> None:
    incidents = replay(
        [
            flip("a", State.UP, State.DOWN, 0),
            flip("a", State.DOWN, State.UP, 10),
            flip("a", State.UP, State.DOWN, 20),
        ]
    )
    assert [i.is_open for i in incidents] == [False, True]


# The status policy never flips a target back into unknown.
STATES = st.sampled_from([s for s in State if s is not State.UNKNOWN])


@given(
    st.lists(
        st.tuples(st.sampled_from(["P", "Q"]), st.sampled_from(["a", "b", "c"]), STATES),
        max_size=40,
    )
)
def test_an_incident_is_open_exactly_while_one_of_its_models_is_out_of_work(
    steps: list[tuple[str, str, State]],
) -> None:
    shown: dict[tuple[str, str], State] = {}
    flips = []
    for n, (provider, model, state) in enumerate(steps):
        old = shown.get((provider, model), State.UNKNOWN)
        if old is not state:
            flips.append(Flip(provider, model, T0 + timedelta(minutes=n), old, state, "r"))
            shown[(provider, model)] = state
    incidents = replay(flips)
    for provider in ("P", "Q"):
        out = {m for (p, m), s in shown.items() if p == provider and s in _OUT}
        open_ones = [i for i in incidents if i.provider == provider and i.is_open]
        assert len(open_ones) <= 1
        if out:
            (incident,) = open_ones
            assert set(incident.open_models) == out
        else:
            assert open_ones == []
    for incident in incidents:
        assert set(incident.open_models) <= set(incident.models)
        assert incident.resolved_at is None or incident.resolved_at >= incident.started_at


_OUT = {State.DOWN, State.THROTTLED, State.FLAPPING}
