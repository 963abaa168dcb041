"""The status policy: how a stream of probe results becomes a state per provider/model.

Pure functions of values; no clock, no I/O. :func:`step` folds one result into a
target's :class:`TargetStatus` and reports a :class:`Flip` when the shown state
changes.

The rules (defaults in :class:`Thresholds`):

* A result is a *pass*, a *failure*, *rate limited* (or overloaded, which counts the
  same) or *inconclusive* (:func:`outcome_of`). Inconclusive results (the harness
  itself was offline) change nothing at all. A pass that misses one of the target's
  latency objectives (:mod:`harness.policy.objectives`; by default only
  ``slow_ttfc_ms``) is a *slow pass*.
* With no history the first result decides: pass -> up (degraded when slow),
  rate limited -> throttled, failure -> down.
* Failures and rate limits are both *non-passing* and count together: ``down_after``
  of them in a row take a target out of work, as throttled when most of that run
  were rate limits, else down (429, 500, 429 is three in a row: throttled). Fewer
  show a working target degraded, with the reason (``rate limited (429), ...``), and
  leave a target that is not working as it was; so one blip, or one 429, never takes
  a model out of work.
* ``up`` needs ``up_after`` passes in a row. Fewer leave a down or throttled target as
  it was (a single lucky pass does not bring it back). Coming back, the target shows
  up when those passes met the objectives, else degraded.
* Slow passes have the same hysteresis: an up target turns degraded after
  ``down_after`` slow passes in a row, and a degraded one turns up again only after
  ``up_after`` passes in a row that met the objectives; a model hovering around an
  objective does not alternate between up and degraded.
* Flapping: only changes that flip the ``working`` flag count (between the working
  states up/degraded and the others), so blips and slow spells never make a model
  flap. When ``flap_changes`` of them fall within ``flap_window_s`` the target shows
  flapping (one flip); further changes underneath flip nothing. It leaves flapping
  after ``flap_calm_s`` without a counted change, on a result that agrees with the
  state underneath (a pass completing ``up_after`` in a row when that state works), so
  leaving it never turns on the flag on a single result either.

Together: once a target has a state, no single result of any kind changes its
``working`` flag (with ``down_after`` and ``up_after`` of at least 2).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from harness.policy.objectives import Baseline, Miss, Objectives, ObjectiveSet, misses
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
    """Classify a result: inconclusive first, then pass, throttled (rate limited or
    overloaded), failure."""
    if result.inconclusive:
        return Outcome.INCONCLUSIVE
    if result.ok:
        return Outcome.OK
    if result.kind is not None and result.kind.is_throttle:
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

    @property
    def objectives(self) -> Objectives:
        """The objectives of a target that has none of its own: ``slow_ttfc_ms`` alone."""
        return Objectives(max_ttfc_ms=self.slow_ttfc_ms)


@dataclass(frozen=True)
class TargetStatus:
    """The current status of one provider/model, as kept in the store.

    ``state`` is what is shown; ``underlying`` is what the streak rules alone give
    (they differ only while flapping). ``since`` is the time of the last change of
    ``state``. ``last_kind``/``last_error`` describe the last conclusive result (None
    after a pass); ``last_result_at`` is None only for a target that has seen nothing
    but inconclusive results. ``changes`` holds the times of recent working-flag changes, trimmed
    to the flap window.

    The streaks, each reset by a result that does not extend it: ``pass_streak``
    passes in a row; ``fail_streak`` non-passing results in a row (failures and rate
    limits), ``limit_streak`` how many of those were rate limits; ``slow_streak`` slow
    passes in a row and ``fast_streak`` passes in a row that met the objectives.
    ``missed`` names the objectives the newest pass missed; ``reason`` says why the
    target shows ``state`` (the reason of the flip into it).
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
    limit_streak: int = 0
    slow_streak: int = 0
    fast_streak: int = 0
    missed: tuple[str, ...] = ()
    reason: str = ""

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
    prev: TargetStatus | None,
    result: ProbeResult,
    th: Thresholds,
    objectives: Objectives | None = None,
    baseline: Baseline | None = None,
) -> tuple[TargetStatus, Flip | None]:
    """Fold one result into a target's status; the Flip is set when ``state`` changed.

    A pass is judged against ``objectives`` (default: :attr:`Thresholds.objectives`)
    and, for the regression objective, the target's ``baseline``. An inconclusive
    result returns ``prev`` unchanged; with no history it gives an ``unknown`` status
    (no results counted, ``last_result_at`` None) and no flip.
    """
    outcome = outcome_of(result)
    if outcome is Outcome.INCONCLUSIVE:
        return (prev or _unknown(result)), None

    at = result.started_at
    before = prev or _unknown(result)
    old_state, old_under = before.state, before.underlying
    missed = misses(result, objectives or th.objectives, baseline)
    streaks = _Streaks.after(before, outcome, slow=bool(missed))
    under, why = _underlying(old_under, outcome, streaks, result, missed, th)

    window_start = at - timedelta(seconds=th.flap_window_s)
    changes = tuple(t for t in before.changes if t > window_start)
    counted = old_under is not State.UNKNOWN and old_under.is_working != under.is_working
    if counted:
        changes = (*changes, at)

    if old_state is State.FLAPPING:
        calm_start = at - timedelta(seconds=th.flap_calm_s)
        # Leaving on a result that disagrees with the state underneath (a failure while
        # it works) would turn the flag on with that one result.
        settled = not under.is_working or streaks.passes >= th.up_after
        if any(t > calm_start for t in changes) or not settled:
            state = State.FLAPPING
        else:
            state = under
            why = f"no changes for {_duration(th.flap_calm_s)}: no longer flapping"
    elif counted and len(changes) >= th.flap_changes:
        state = State.FLAPPING
        why = f"{len(changes)} changes within {_duration(th.flap_window_s)}: flapping"
    else:
        state = under

    if state is not old_state and old_under is State.UNKNOWN:
        why = f"first result: {why}"
    passed = outcome is Outcome.OK
    status = TargetStatus(
        provider=result.provider,
        model=result.model,
        state=state,
        since=at if prev is None or state is not old_state else prev.since,
        pass_streak=streaks.passes,
        fail_streak=streaks.fails,
        last_result_at=at,
        last_ok_at=at if passed else before.last_ok_at,
        last_kind=None if passed else result.kind,
        last_error=None if passed else result.error,
        changes=changes,
        underlying=under,
        limit_streak=streaks.limits,
        slow_streak=streaks.slow,
        fast_streak=streaks.fast,
        missed=tuple(dict.fromkeys(m.objective for m in missed)) if passed else before.missed,
        reason=why if state is not old_state else before.reason,
    )
    if state is old_state:
        return status, None
    return status, Flip(result.provider, result.model, at, old_state, state, why)


@dataclass(frozen=True)
class _Streaks:
    """The streak counters after one conclusive result (see :class:`TargetStatus`)."""

    passes: int
    fails: int
    limits: int
    slow: int
    fast: int

    @classmethod
    def after(cls, prev: TargetStatus, outcome: Outcome, *, slow: bool) -> _Streaks:
        if outcome is Outcome.OK:
            return cls(
                passes=prev.pass_streak + 1,
                fails=0,
                limits=0,
                slow=prev.slow_streak + 1 if slow else 0,
                fast=0 if slow else prev.fast_streak + 1,
            )
        limited = outcome is Outcome.THROTTLED
        return cls(
            passes=0,
            fails=prev.fail_streak + 1,
            limits=prev.limit_streak + limited,
            slow=0,
            fast=0,
        )


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
    streaks: _Streaks,
    result: ProbeResult,
    missed: tuple[Miss, ...],
    th: Thresholds,
) -> tuple[State, str]:
    """The state the streak rules give, and why, in words."""
    if outcome is not Outcome.OK:
        return _not_passing(old, outcome, streaks, result, th)
    slow = "; ".join(m.reason for m in missed)
    if old is State.UNKNOWN:
        return (State.DEGRADED, f"passed, slow: {slow}") if slow else (State.UP, "passed")
    if old is State.UP:
        if streaks.slow >= th.down_after:
            return State.DEGRADED, f"{_count(streaks.slow, 'slow pass')} in a row: {slow}"
        return State.UP, "passed" if not slow else f"slow pass, below {th.down_after} in a row"
    if old is State.DEGRADED:
        if streaks.fast >= th.up_after:
            return State.UP, f"{_count(streaks.fast, 'pass')} in a row within objectives"
        return State.DEGRADED, f"{streaks.fast} of {th.up_after} passes within objectives"
    # Down or throttled: back in work only after up_after passes in a row.
    if streaks.passes < th.up_after:
        return old, f"{_count(streaks.passes, 'pass')}, {th.up_after} needed"
    back = f"{_count(streaks.passes, 'pass')} in a row"
    if streaks.fast >= th.up_after:
        return State.UP, back
    if slow:
        return State.DEGRADED, f"{back}, slow: {slow}"
    return State.DEGRADED, f"{back}, {streaks.fast} of {th.up_after} within objectives"


def _not_passing(
    old: State, outcome: Outcome, streaks: _Streaks, result: ProbeResult, th: Thresholds
) -> tuple[State, str]:
    """The state after a failure or a rate limit: hysteresis over both together."""
    limited = outcome is Outcome.THROTTLED
    status = f" ({result.http_status})" if result.http_status is not None else ""
    kind = f" ({result.kind})" if result.kind is not None else ""
    held = "overloaded" if result.kind is FailureKind.OVERLOADED else "rate limited"
    if old is State.UNKNOWN:
        return (State.THROTTLED, f"{held}{status}") if limited else (State.DOWN, f"failed{kind}")
    n, limits = streaks.fails, streaks.limits
    if n >= th.down_after:
        # "Mostly" rate limits: a provider answering 429 is alive but refusing; not down.
        state = State.THROTTLED if 2 * limits > n else State.DOWN
        if limits == n:
            return state, f"{_count(n, 'rate limit')} in a row{status}"
        if limits == 0:
            return state, f"{_count(n, 'failure')} in a row{kind}"
        return state, (
            f"{n} in a row without a pass: {limits} rate limited, {n - limits} failed"
            f" (last: {result.kind}{status})"
        )
    if not old.is_working:
        return old, f"{n} in a row without a pass, below {th.down_after}"
    if limited:
        return State.DEGRADED, f"{held}{status}, below {th.down_after} in a row for throttled"
    return State.DEGRADED, f"{_count(n, 'failure')}{kind}, below {th.down_after} for down"


def _count(n: int, noun: str) -> str:
    plural = "es" if noun.endswith("s") else "s"
    return f"{n} {noun}" if n == 1 else f"{n} {noun}{plural}"


def _duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:.0f} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:g} s"


def provider_working(statuses: Iterable[TargetStatus]) -> bool | None:
    """The provider's working flag, from its models' statuses (see :func:`working_flag`)."""
    return working_flag(s.state for s in statuses)


def working_flag(model_states: Iterable[State]) -> bool | None:
    """A provider's working flag, with three values: ``True`` when any of its models is
    up or degraded, ``None`` (unknown) when none has a conclusive state (never measured,
    or only inconclusive results, as after an offline run), ``False`` otherwise.

    Unknown is not "not working": nothing may switch off the flag of a provider the
    harness could not reach.
    """
    states = list(model_states)
    if any(state.is_working for state in states):
        return True
    if all(state is State.UNKNOWN for state in states):
        return None
    return False


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
    *,
    objectives: ObjectiveSet | None = None,
    baselines: Mapping[tuple[str, str], Baseline] | None = None,
) -> tuple[dict[tuple[str, str], TargetStatus], list[Flip]]:
    """Fold :func:`step` over results in time order, from ``start`` (default: none).

    Each target is judged by its ``objectives`` (default: :attr:`Thresholds.objectives`)
    and its entry of ``baselines``.
    """
    statuses = dict(start or {})
    flips: list[Flip] = []
    for result in sorted(results, key=lambda r: r.started_at):
        status, flip = step(
            statuses.get(result.target),
            result,
            th,
            objectives.for_target(*result.target) if objectives is not None else None,
            (baselines or {}).get(result.target),
        )
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
    "working_flag",
]
