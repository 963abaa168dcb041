"""The words of every alert message. Pure: values in, a :class:`Message` out.

A title fits a phone notification (at most :data:`TITLE_LIMIT` characters); the body
groups a run's flips by provider and change, one paragraph each: the models, old ->
new state, since when, the reason, the last error (scrubbed and trimmed) and a link to
the provider on the status page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from harness.policy.deliveries import NotifyType
from harness.policy.status import Flip, State, TargetStatus
from harness.redact import clean_error, trim

TITLE_LIMIT = 60
"""Characters of a title: what a phone's notification shows uncut."""
ERROR_LIMIT = 200
"""Characters of a provider's last error quoted in a message."""


@dataclass(frozen=True)
class Message:
    """A title and a plain-text body, with how urgent they look."""

    title: str
    body: str
    notify_type: NotifyType


def when(moment: datetime) -> str:
    """``2024-05-01 08:12 UTC``."""
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def duration(span: timedelta) -> str:
    """``45 s``, ``12 min``, ``2 h 5 min``, ``3 d 4 h``: two units at most."""
    seconds = max(int(span.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return f"{seconds} s"


def page_link(public_url: str | None, provider: str) -> str | None:
    """The provider's section on the status page, when the page's address is known."""
    if public_url is None:
        return None
    return f"{public_url.rstrip('/')}/#provider-{provider}"


def _title(text: str) -> str:
    return trim(text, TITLE_LIMIT)


def _urgency(states: Iterable[State]) -> NotifyType:
    present = set(states)
    if State.DOWN in present:
        return NotifyType.FAILURE
    if present <= {State.UP, State.DEGRADED}:
        return NotifyType.SUCCESS
    return NotifyType.WARNING


def _error_line(status: TargetStatus | None, secrets: Sequence[str]) -> str | None:
    if status is None or (status.last_kind is None and not status.last_error):
        return None
    kind = status.last_kind.value if status.last_kind is not None else "error"
    text = clean_error(status.last_error or "", secrets, ERROR_LIMIT)
    return f"last error: {kind}: {text}" if text else f"last error: {kind}"


def flips_message(
    flips: Sequence[Flip],
    *,
    previous: Mapping[tuple[str, str], TargetStatus],
    current: Mapping[tuple[str, str], TargetStatus],
    public_url: str | None,
    secrets: Sequence[str] = (),
) -> Message:
    """One message for every flip of one run, grouped by provider and by change."""
    groups: dict[str, dict[tuple[State, State], list[Flip]]] = {}
    for flip in flips:
        groups.setdefault(flip.provider, {}).setdefault((flip.old, flip.new), []).append(flip)
    paragraphs: list[str] = []
    for provider, changes in groups.items():
        lines: list[str] = []
        for (old, new), group in changes.items():
            first = group[0]
            models = ", ".join(f.model for f in group)
            before = previous.get((first.provider, first.model))
            was = f" after {duration(first.at - before.since)}" if before is not None else ""
            lines.append(f"{provider}: {old.value} -> {new.value}{was}, since {when(first.at)}")
            lines.append(f"  models: {models}")
            lines.append(f"  why: {first.reason}")
            if not new.is_working:
                error = _error_line(current.get((first.provider, first.model)), secrets)
                if error is not None:
                    lines.append(f"  {error}")
        link = page_link(public_url, provider)
        if link is not None:
            lines.append(f"  page: {link}")
        paragraphs.append("\n".join(lines))
    return Message(
        title=_flips_title(flips),
        body="\n\n".join(paragraphs),
        notify_type=_urgency(f.new for f in flips),
    )


def _flips_title(flips: Sequence[Flip]) -> str:
    providers = list(dict.fromkeys(f.provider for f in flips))
    states = list(dict.fromkeys(f.new.value for f in flips))
    if len(providers) == 1:
        if len(states) == 1:
            return _title(f"{providers[0]} {states[0]}")
        counts = _state_counts(flips)
        return _title(f"{providers[0]}: {counts}")
    return _title(f"{len(providers)} providers changed: {_state_counts(flips)}")


def _state_counts(flips: Sequence[Flip]) -> str:
    per_state: dict[str, set[str]] = {}
    for flip in flips:
        per_state.setdefault(flip.new.value, set()).add(flip.provider)
    return ", ".join(f"{len(p)} {state}" for state, p in per_state.items())


def reminder_message(
    statuses: Sequence[TargetStatus],
    *,
    now: datetime,
    public_url: str | None,
    secrets: Sequence[str] = (),
) -> Message:
    """A reminder that targets are still down, grouped by provider."""
    by_provider: dict[str, list[TargetStatus]] = {}
    for status in statuses:
        by_provider.setdefault(status.provider, []).append(status)
    paragraphs: list[str] = []
    for provider, group in by_provider.items():
        first = group[0]
        lines = [
            f"{provider}: still {first.state.value}, for {duration(now - first.since)}"
            f" (since {when(first.since)})",
            f"  models: {', '.join(s.model for s in group)}",
        ]
        error = _error_line(first, secrets)
        if error is not None:
            lines.append(f"  {error}")
        link = page_link(public_url, provider)
        if link is not None:
            lines.append(f"  page: {link}")
        paragraphs.append("\n".join(lines))
    names = list(by_provider)
    subject = names[0] if len(names) == 1 else f"{len(names)} providers"
    return Message(
        title=_title(f"{subject} still down"),
        body="\n\n".join(paragraphs),
        notify_type=NotifyType.FAILURE,
    )


def online_message(offline_since: datetime, now: datetime, public_url: str | None) -> Message:
    """The harness's host is back online after ``now - offline_since``."""
    body = (
        f"The harness's host was offline for {duration(now - offline_since)}"
        f" (from {when(offline_since)} to {when(now)}). Probes in that time were"
        " inconclusive and sent no alerts; probing goes on."
    )
    if public_url is not None:
        body += f"\npage: {public_url}"
    return Message(
        title=_title(f"harness back online after {duration(now - offline_since)}"),
        body=body,
        notify_type=NotifyType.INFO,
    )


def trial_message(version: str) -> Message:
    """What ``harness alert --test`` sends."""
    return Message(
        title="harness: test alert",
        body=f"A test message from harness {version}: alerts reach this destination.",
        notify_type=NotifyType.INFO,
    )
