"""The status policy: how a stream of probe results becomes a state per provider/model.

Pure functions of values; no clock, no I/O. :func:`step` folds one result into a
target's :class:`TargetStatus` and reports a :class:`Flip` when the shown state
changes.

The rules (defaults in :class:`Thresholds`):

* A result is a *pass*, a *failure*, *rate limited* or *inconclusive*
  (:func:`outcome_of`). Inconclusive results (the harness itself was offline) change
  nothing at all.
* With no history the first result decides: pass -> up (degraded when slow),
  rate limited -> throttled, failure -> down.
* ``down`` needs ``down_after`` failures in a row. Fewer failures show an up target as
  degraded and leave any other state as it was, so one blip never takes a model down.
* ``up`` needs ``up_after`` passes in a row. Fewer passes leave a down or throttled
  target as it was (a single lucky pass does not bring it back) and keep a degraded
  target degraded. An up target stays up on every fast pass.
* A pass whose first chunk came later than ``slow_ttfc_ms`` counts as degraded
  wherever it would otherwise count as up.
* Rate-limited results show throttled at once and never down; they are neither
  passes nor failures, so they end both streaks.
* Flapping: only changes that flip the ``working`` flag count (between the working
  states up/degraded and the others), so blips and slow spells never make a model
  flap. When ``flap_changes`` of them fall within ``flap_window_s`` the target shows
  flapping (one flip); further changes underneath flip nothing. It leaves flapping on
  the first result after ``flap_calm_s`` without a counted change, showing the state
  underneath again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from harness.result import FailureKind, ProbeResult


class State(StrEnum):
    """What the page shows for one provider/model."""

    UP = "up"
    DEGRADED = "degraded"
    THROTTLED = "throttled"
    DOWN = "down"
    FLAPPING = "flapping"
    UNKNOWN = "unknown"

    @property
    def is_working(self) -> bool:
        """True for the states in which the model answers usefully (up, degraded)."""
        return self in (State.UP, State.DEGRADED)


class Outcome(StrEnum):
    """How one result counts for the policy and the history bar."""

    OK = "ok"
    FAIL = "fail"
    THROTTLED = "throttled"
    INCONCLUSIVE = "inconclusive"


def outcome_of(result: ProbeResult) -> Outcome:
    """Classify a result: inconclusive first, then pass, rate limited, failure."""
    if result.inconclusive:
        return Outcome.INCONCLUSIVE
    if result.ok:
        return Outcome.OK
    if result.kind is FailureKind.RATE_LIMITED:
        return Outcome.THROTTLED
    return Outcome.FAIL


@dataclass(frozen=True)
class Thresholds:
    """The knobs of the policy; see the module docstring for what each one does."""

    down_after: int = 3
    up_after: int = 2
    slow_ttfc_ms: float = 8000.0
    flap_window_s: float = 3600.0
    flap_changes: int = 4
    flap_calm_s: float = 3600.0

    def __post_init__(self) -> None:
        if self.down_after < 1 or self.up_after < 1:
            raise ValueError("down_after and up_after must be at least 1")
        if self.flap_changes < 2:
            raise ValueError("flap_changes must be at least 2")
        if self.slow_ttfc_ms <= 0:
            raise ValueError("slow_ttfc_ms must be positive")
        if not 0 < self.flap_calm_s <= self.flap_window_s:
            # Calm is judged from the change times kept for the window.
            raise ValueError("flap_calm_s must be positive and at most flap_window_s")


@dataclass(frozen=True)
class TargetStatus:
    """The current status of one provider/model, as kept in the store.

    ``state`` is what is shown; ``underlying`` is what the streak rules alone give
    (they differ only while flapping). ``since`` is the time of the last change of
    ``state``. ``last_kind``/``last_error`` describe the last conclusive result (None
    after a pass); ``last_result_at`` is None only for a target that has seen nothing
    but inconclusive results. ``changes`` holds the times of recent working-flag changes, trimmed
    to the flap window.
    """

    provider: str
    model: str
    state: State
    since: datetime
    pass_streak: int
    fail_streak: int
    last_result_at: datetime | None
    last_ok_at: datetime | None
    last_kind: FailureKind | None
    last_error: str | None
    changes: tuple[datetime, ...]
    underlying: State

    @property
    def target(self) -> tuple[str, str]:
        """The (provider, model) pair."""
        return (self.provider, self.model)


@dataclass(frozen=True)
class Flip:
    """A change of the shown state of one provider/model, with the reason in words."""

    provider: str
    model: str
    at: datetime
    old: State
    new: State
    reason: str


def step(
    prev: TargetStatus | None, result: ProbeResult, th: Thresholds
) -> tuple[TargetStatus, Flip | None]:
    """Fold one result into a target's status; the Flip is set when ``state`` changed.

    An inconclusive result returns ``prev`` unchanged; with no history it gives an
    ``unknown`` status (no results counted, ``last_result_at`` None) and no flip.
    """
    outcome = outcome_of(result)
    if outcome is Outcome.INCONCLUSIVE:
        return (prev or _unknown(result)), None

    at = result.started_at
    old_state = prev.state if prev is not None else State.UNKNOWN
    old_under = prev.underlying if prev is not None else State.UNKNOWN
    passes = (prev.pass_streak if prev else 0) + 1 if outcome is Outcome.OK else 0
    fails = (prev.fail_streak if prev else 0) + 1 if outcome is Outcome.FAIL else 0
    under, why = _underlying(old_under, outcome, passes, fails, result, th)

    window_start = at - timedelta(seconds=th.flap_window_s)
    changes = tuple(t for t in (prev.changes if prev else ()) if t > window_start)
    counted = old_under is not State.UNKNOWN and old_under.is_working != under.is_working
    if counted:
        changes = (*changes, at)

    if old_state is State.FLAPPING:
        calm_start = at - timedelta(seconds=th.flap_calm_s)
        if any(t > calm_start for t in changes):
            state = State.FLAPPING
        else:
            state = under
            why = f"no changes for {_duration(th.flap_calm_s)}: no longer flapping"
    elif counted and len(changes) >= th.flap_changes:
        state = State.FLAPPING
        why = f"{len(changes)} changes within {_duration(th.flap_window_s)}: flapping"
    else:
        state = under

    status = TargetStatus(
        provider=result.provider,
        model=result.model,
        state=state,
        since=at if prev is None or state is not old_state else prev.since,
        pass_streak=passes,
        fail_streak=fails,
        last_result_at=at,
        last_ok_at=at if outcome is Outcome.OK else (prev.last_ok_at if prev else None),
        last_kind=None if outcome is Outcome.OK else result.kind,
        last_error=None if outcome is Outcome.OK else result.error,
        changes=changes,
        underlying=under,
    )
    if state is old_state:
        return status, None
    if old_under is State.UNKNOWN:
        why = f"first result: {why}"
    flip = Flip(result.provider, result.model, at, old_state, state, why)
    return status, flip


def _unknown(result: ProbeResult) -> TargetStatus:
    return TargetStatus(
        provider=result.provider,
        model=result.model,
        state=State.UNKNOWN,
        since=result.started_at,
        pass_streak=0,
        fail_streak=0,
        last_result_at=None,
        last_ok_at=None,
        last_kind=None,
        last_error=None,
        changes=(),
        underlying=State.UNKNOWN,
    )


def _underlying(
    old: State,
    outcome: Outcome,
    passes: int,
    fails: int,
    result: ProbeResult,
    th: Thresholds,
) -> tuple[State, str]:
    """The state the streak rules give, and why, in words."""
    if outcome is Outcome.THROTTLED:
        status = f" ({result.http_status})" if result.http_status is not None else ""
        return State.THROTTLED, f"rate limited{status}"
    if outcome is Outcome.FAIL:
        kind = f" ({result.kind})" if result.kind is not None else ""
        if old is State.UNKNOWN:
            return State.DOWN, f"failed{kind}"
        if fails >= th.down_after:
            return State.DOWN, f"{_count(fails, 'failure')} in a row{kind}"
        if old is State.UP:
            return (
                State.DEGRADED,
                f"{_count(fails, 'failure')}{kind}, below {th.down_after} for down",
            )
        return old, f"{_count(fails, 'failure')}{kind}"
    slow = result.ttfc_ms is not None and result.ttfc_ms > th.slow_ttfc_ms
    healthy = State.DEGRADED if slow else State.UP
    if old in (State.UNKNOWN, State.UP):
        why = "passed"
    elif passes >= th.up_after:
        why = f"{_count(passes, 'pass')} in a row"
    else:
        return old, f"{_count(passes, 'pass')}, {th.up_after} needed"
    if slow:
        why = f"{why}, slow first chunk ({result.ttfc_ms:.0f} ms > {th.slow_ttfc_ms:.0f} ms)"
    return healthy, why


def _count(n: int, noun: str) -> str:
    plural = "es" if noun.endswith("s") else "s"
    return f"{n} {noun}" if n == 1 else f"{n} {noun}{plural}"


def _duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:.0f} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:g} s"


def provider_working(statuses: Iterable[TargetStatus]) -> bool:
    """True when any of the provider's models is up or degraded."""
    return any(s.state.is_working for s in statuses)


def overall_counts(statuses: Iterable[TargetStatus]) -> dict[State, int]:
    """How many targets are in each state; every state is a key, zero included."""
    counts = dict.fromkeys(State, 0)
    for s in statuses:
        counts[s.state] += 1
    return counts


def replay(
    results: Iterable[ProbeResult],
    th: Thresholds,
    start: dict[tuple[str, str], TargetStatus] | None = None,
) -> tuple[dict[tuple[str, str], TargetStatus], list[Flip]]:
    """Fold :func:`step` over results in time order, from ``start`` (default: none)."""
    statuses = dict(start or {})
    flips: list[Flip] = []
    for result in sorted(results, key=lambda r: r.started_at):
        status, flip = step(statuses.get(result.target), result, th)
        statuses[result.target] = status
        if flip is not None:
            flips.append(flip)
    return statuses, flips


__all__ = [
    "Flip",
    "Outcome",
    "State",
    "TargetStatus",
    "Thresholds",
    "outcome_of",
    "overall_counts",
    "provider_working",
    "replay",
    "step",
]
