"""Which messages a run sends, decided before the run is committed. Pure.

* A flip alerts when the target had a state before (never ``unknown -> x``) and:
  its new state is in ``on`` and not working (down, throttled, flapping); or it recovers
  (to up or degraded) from a state in ``on``, with ``up`` in ``on``; or it moves between
  up and degraded, with ``degraded`` in ``on``. So a blip (up -> degraded -> up) sends
  nothing by default.
* Every alerting flip of a run goes into one message, sent to every destination.
* A reminder goes out for a target of the run that is still down when the newest message
  about it said down and is at least ``remind_every`` old.
* The first conclusive run after the host was offline sends one "back online" message.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta

from harness.alerts.message import Message, flips_message, online_message, reminder_message
from harness.policy.deliveries import AlertDraft, AlertKind, AlertTarget, TargetAlert
from harness.policy.status import Flip, State, TargetStatus
from harness.settings.alerts import Destination


def alertable(flip: Flip, on: Collection[State]) -> bool:
    """Whether ``flip`` sends an alert under the states in ``on`` (see the module docstring)."""
    old, new = flip.old, flip.new
    if old is State.UNKNOWN:
        return False
    if new.is_working and old.is_working:
        return State.DEGRADED in on
    if new.is_working:
        return State.UP in on and old in on
    return new in on


def due_reminders(
    statuses: Mapping[tuple[str, str], TargetStatus],
    run_targets: Collection[tuple[str, str]],
    last_alerts: Mapping[tuple[str, str], TargetAlert],
    *,
    now: datetime,
    every: timedelta,
) -> list[TargetStatus]:
    """The run's targets still down whose newest message said so ``every`` or longer ago."""
    if every <= timedelta(0):
        return []
    due = []
    for target in run_targets:
        status, last = statuses.get(target), last_alerts.get(target)
        if status is None or last is None or status.state is not State.DOWN:
            continue
        if last.state is State.DOWN and now - last.created_at >= every:
            due.append(status)
    return sorted(due, key=lambda s: s.target)


def plan_alerts(
    *,
    destinations: Sequence[Destination],
    flips: Sequence[Flip],
    previous: Mapping[tuple[str, str], TargetStatus],
    current: Mapping[tuple[str, str], TargetStatus],
    run_targets: Collection[tuple[str, str]],
    last_alerts: Mapping[tuple[str, str], TargetAlert],
    offline_since: datetime | None,
    now: datetime,
    on: Collection[State],
    remind_every: timedelta,
    public_url: str | None,
    secrets: Sequence[str] = (),
) -> list[AlertDraft]:
    """Every message of one run, once per destination; ``flips`` are the run's, in the
    order they will be stored (the drafts point at them by position)."""
    chosen = [i for i, flip in enumerate(flips) if alertable(flip, on)]
    flipped = {(f.provider, f.model) for f in flips}
    messages: list[tuple[AlertKind, Message, tuple[AlertTarget, ...], tuple[int, ...]]] = []
    if offline_since is not None:
        messages.append((AlertKind.ONLINE, online_message(offline_since, now, public_url), (), ()))
    if chosen:
        group = [flips[i] for i in chosen]
        message = flips_message(
            group, previous=previous, current=current, public_url=public_url, secrets=secrets
        )
        targets = tuple(AlertTarget(f.provider, f.model, f.new) for f in group)
        messages.append((AlertKind.FLIPS, message, targets, tuple(chosen)))
    reminders = due_reminders(
        current,
        [t for t in run_targets if t not in flipped],
        last_alerts,
        now=now,
        every=remind_every,
    )
    if reminders:
        message = reminder_message(reminders, now=now, public_url=public_url, secrets=secrets)
        targets = tuple(AlertTarget(s.provider, s.model, s.state) for s in reminders)
        messages.append((AlertKind.REMINDER, message, targets, ()))
    return [
        AlertDraft(
            kind=kind,
            destination=d.key,
            label=d.label,
            title=message.title,
            body=message.body,
            notify_type=message.notify_type,
            created_at=now,
            targets=targets,
            flips=positions,
        )
        for kind, message, targets, positions in messages
        for d in destinations
    ]
