"""Consensus across vantage points: the state a target shows when several hosts probe it.

Pure functions of values; no clock, no I/O. Each vantage keeps its own
:class:`~harness.policy.status.TargetStatus` per target, folded by the ordinary status policy
(:func:`harness.policy.status.step`). The shown state comes from the vantages that *vote*:

* a vantage votes when it reported within the window (two probing intervals) and its
  newest result was conclusive: a vantage whose own host is offline does not vote;
* the quorum is a number of voters, by default a majority of those voting;
* when at least a quorum of voters sees the target not working (down, throttled,
  flapping), the target shows the most common of those states (down first on a tie);
* when fewer do, the target shows degraded, "down from eu-1": it works, but not
  everywhere;
* when every voter sees it working, it shows up if a quorum sees it up, else degraded;
* a lone voter's status is shown as it is, so one vantage behaves exactly like the
  single-host harness;
* with no voter at all the shown status stays as it was.

:func:`decide` folds one run's results into both levels and reports the flips of the
shown state; the store runs it inside the transaction that writes its outcome, under
a lock, so two vantages finishing together never flip a target twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from harness.policy.deliveries import AlertDraft
from harness.policy.objectives import Baseline, ObjectiveSet
from harness.policy.status import Flip, State, TargetStatus, Thresholds, step
from harness.result import ProbeResult

VantageKey = tuple[str, str, str]
"""(provider, model, vantage)."""

_NOT_WORKING_FIRST = (State.DOWN, State.FLAPPING, State.THROTTLED)


@dataclass(frozen=True)
class VantageStatus:
    """One vantage's view of one target: its policy status and when it last reported.

    ``reported_at`` is the time of the vantage's newest result of any outcome;
    ``offline`` is True when that result was inconclusive (the vantage's host was offline).
    """

    vantage: str
    status: TargetStatus
    reported_at: datetime
    offline: bool

    @property
    def key(self) -> VantageKey:
        """(provider, model, vantage)."""
        return (self.status.provider, self.status.model, self.vantage)


@dataclass(frozen=True)
class Verdict:
    """What the voters say about one target."""

    state: State
    voters: tuple[str, ...]
    down_from: tuple[str, ...]
    """The voters that see the target not working, sorted."""
    quorum: int
    reason: str


@dataclass(frozen=True)
class RunDecision:
    """The outcome of one run at both levels, as the store writes it."""

    statuses: list[TargetStatus]
    """Shown statuses that changed."""
    vantages: list[VantageStatus]
    """Per-vantage statuses that changed."""
    flips: list[Flip]
    """Flips of the shown state, in time order."""
    shown: dict[tuple[str, str], TargetStatus]
    """Every shown status the decision was given, after the run (the store gives those
    of the run's providers)."""
    alerts: Sequence[AlertDraft] = ()
    """Pending alert deliveries about the flips, stored with them (planned by the caller)."""
    stored_before: bool = False
    """The run was already stored (its id was): nothing was written, nothing decided."""


def voting_window(interval_s: float) -> timedelta:
    """How recently a vantage must have reported to vote: two probing intervals of
    ``interval_s`` seconds, so that one late run does not cost a vantage its vote."""
    return timedelta(seconds=2 * interval_s)


def voters(
    views: Iterable[VantageStatus], *, now: datetime, window: timedelta
) -> list[VantageStatus]:
    """The views that vote at ``now``: recent, conclusive, with a known state; by name."""
    start = now - window
    return sorted(
        (
            v
            for v in views
            if v.reported_at >= start and not v.offline and v.status.state is not State.UNKNOWN
        ),
        key=lambda v: v.vantage,
    )


def quorum_of(voting: int, quorum: int | None) -> int:
    """How many voters make a quorum: ``quorum`` if set, else a majority of ``voting``."""
    return quorum if quorum is not None else voting // 2 + 1


def verdict(voting: Sequence[VantageStatus], quorum: int | None = None) -> Verdict | None:
    """The consensus of ``voting`` (see the module docstring); None without voters."""
    if not voting:
        return None
    names = tuple(v.vantage for v in voting)
    need = quorum_of(len(voting), quorum)
    against = [v for v in voting if not v.status.state.is_working]
    down_from = tuple(sorted(v.vantage for v in against))
    of = f"{len(against)} of {len(voting)} vantages, quorum {need}"
    if against and len(against) >= need:
        counts = Counter(v.status.state for v in against)
        state = max(_NOT_WORKING_FIRST, key=lambda s: (counts[s], -_NOT_WORKING_FIRST.index(s)))
        return Verdict(state, names, down_from, need, f"{state} from {', '.join(down_from)} ({of})")
    if against:
        reason = f"down from {', '.join(down_from)} ({of})"
        return Verdict(State.DEGRADED, names, down_from, need, reason)
    up = sum(1 for v in voting if v.status.state is State.UP)
    if up >= need:
        return Verdict(State.UP, names, (), need, f"up from {up} of {len(voting)} vantages")
    slow = f"degraded from {len(voting) - up} of {len(voting)} vantages"
    return Verdict(State.DEGRADED, names, (), need, slow)


def decide(
    shown: Mapping[tuple[str, str], TargetStatus],
    views: Mapping[VantageKey, VantageStatus],
    results: Iterable[ProbeResult],
    *,
    thresholds: Thresholds,
    window: timedelta,
    quorum: int | None = None,
    objectives: ObjectiveSet | None = None,
    baselines: Mapping[tuple[str, str], Baseline] | None = None,
) -> RunDecision:
    """Fold ``results`` (each tagged with its vantage) into the per-vantage statuses, in
    time order, and the consensus of each touched target into its shown status.

    Passes are judged against each target's ``objectives`` (default: those of
    ``thresholds``) and, for regression, its ``baselines``."""
    shown_now = dict(shown)
    views_now = dict(views)
    changed_shown: dict[tuple[str, str], TargetStatus] = {}
    changed_views: dict[VantageKey, VantageStatus] = {}
    flips: list[Flip] = []
    for result in sorted(results, key=lambda r: r.started_at):
        key = (result.provider, result.model, result.vantage)
        target = result.target
        prior = shown_now.get(target)
        before = views_now.get(key)
        start = before.status if before is not None else None
        if start is None and not any(k[:2] == target for k in views_now):
            start = prior  # a store kept by one host before vantages: carry its streaks on
        status, vantage_flip = step(
            start,
            result,
            thresholds,
            objectives.for_target(*target) if objectives is not None else None,
            (baselines or {}).get(target),
        )
        view = VantageStatus(result.vantage, status, result.started_at, result.inconclusive)
        views_now[key] = changed_views[key] = view
        others = [v for k, v in views_now.items() if k[:2] == target]
        new = _shown(prior, view, vantage_flip, others, result.started_at, window, quorum)
        if new is None:
            continue
        status_shown, flip = new
        shown_now[target] = changed_shown[target] = status_shown
        if flip is not None:
            flips.append(flip)
    return RunDecision(list(changed_shown.values()), list(changed_views.values()), flips, shown_now)


def _shown(
    prior: TargetStatus | None,
    reporter: VantageStatus,
    reporter_flip: Flip | None,
    views: Sequence[VantageStatus],
    at: datetime,
    window: timedelta,
    quorum: int | None,
) -> tuple[TargetStatus, Flip | None] | None:
    """The target's new shown status and flip, or None when it stays as it was."""
    voting = voters(views, now=at, window=window)
    said = verdict(voting, quorum)
    if said is None:
        return None if prior is not None else (reporter.status, None)
    if len(voting) == 1:
        (lone,) = voting
        status = lone.status
        reason = reporter_flip.reason if reporter_flip and lone is reporter else said.reason
    else:
        if prior is not None and prior.state is said.state:
            status = replace(reporter.status, state=said.state, since=prior.since)
        else:
            status = replace(reporter.status, state=said.state, since=at)
        reason = said.reason
    old = prior.state if prior is not None else State.UNKNOWN
    if status.state is old:
        return status, None
    return status, Flip(status.provider, status.model, at, old, status.state, reason)


__all__ = [
    "RunDecision",
    "VantageKey",
    "VantageStatus",
    "Verdict",
    "decide",
    "quorum_of",
    "verdict",
    "voters",
]
