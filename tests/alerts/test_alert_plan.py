"""Which flips alert, reminders, and the words of the messages: pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from harness.alerts.message import (
    TITLE_LIMIT,
    duration,
    flips_message,
    online_message,
    reminder_message,
)
from harness.alerts.plan import alertable, due_reminders, plan_alerts
from harness.policy.deliveries import AlertKind, NotifyType, TargetAlert
from harness.policy.status import Flip, State, TargetStatus
from harness.result import FailureKind
from harness.settings.alerts import Destination

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
ON = (State.DOWN, State.UP, State.THROTTLED, State.FLAPPING)
S = State


def flip(old: State, new: State, provider: str = "P", model: str = "m", at: datetime = T0) -> Flip:
    return Flip(provider, model, at, old, new, "why")


def status(
    state: State, since: datetime = T0, provider: str = "P", model: str = "m"
) -> TargetStatus:
    return TargetStatus(
        provider=provider,
        model=model,
        state=state,
        since=since,
        pass_streak=0,
        fail_streak=3,
        last_result_at=since,
        last_ok_at=None,
        last_kind=FailureKind.HTTP_SERVER,
        last_error="HTTP 500: " + "x" * 1000 + " api_key=sk-12345",
        changes=(),
        underlying=state,
    )


@pytest.mark.parametrize(
    ("old", "new", "alerts"),
    [
        (S.UNKNOWN, S.DOWN, False),  # a first state never alerts
        (S.UNKNOWN, S.UP, False),
        (S.UP, S.DEGRADED, False),  # a blip...
        (S.DEGRADED, S.UP, False),  # ...and its end
        (S.DEGRADED, S.DOWN, True),
        (S.UP, S.DOWN, True),
        (S.DOWN, S.UP, True),
        (S.DOWN, S.DEGRADED, True),  # back, if slow
        (S.UP, S.THROTTLED, True),
        (S.THROTTLED, S.UP, True),
        (S.DOWN, S.FLAPPING, True),
        (S.FLAPPING, S.DOWN, True),
    ],
)
def test_which_flips_alert_by_default(old: State, new: State, alerts: bool) -> None:
    assert alertable(flip(old, new), ON) is alerts


def test_on_limits_the_states_that_alert() -> None:
    assert not alertable(flip(S.UP, S.THROTTLED), (S.DOWN, S.UP))
    assert not alertable(flip(S.THROTTLED, S.UP), (S.DOWN, S.UP))  # its start said nothing
    assert not alertable(flip(S.DOWN, S.UP), (S.DOWN,))
    assert alertable(flip(S.UP, S.DEGRADED), (S.DEGRADED,))
    assert alertable(flip(S.DEGRADED, S.UP), (S.DEGRADED, S.UP))


def last(state: State, created: datetime) -> TargetAlert:
    return TargetAlert("P", "m", state, AlertKind.FLIPS, "t", created, created)


def test_reminders_follow_a_down_message_once_remind_every_has_passed() -> None:
    statuses = {("P", "m"): status(S.DOWN)}
    hour = timedelta(hours=1)
    kwargs = {"now": T0 + hour, "every": hour}
    assert due_reminders(statuses, [("P", "m")], {("P", "m"): last(S.DOWN, T0)}, **kwargs)
    assert not due_reminders(
        statuses, [("P", "m")], {("P", "m"): last(S.DOWN, T0 + timedelta(minutes=1))}, **kwargs
    )
    assert not due_reminders(statuses, [("P", "m")], {}, **kwargs)  # never alerted: dead from birth
    assert not due_reminders(statuses, [("P", "m")], {("P", "m"): last(S.UP, T0)}, **kwargs)
    assert not due_reminders(statuses, [], {("P", "m"): last(S.DOWN, T0)}, **kwargs)
    assert not due_reminders(
        statuses, [("P", "m")], {("P", "m"): last(S.DOWN, T0)}, now=T0 + hour, every=timedelta(0)
    )


def test_one_run_makes_one_message_per_destination() -> None:
    flips = [
        flip(S.UP, S.DOWN, model="a"),
        flip(S.UNKNOWN, S.UP, provider="Q"),
        flip(S.UP, S.DOWN, model="b"),
    ]
    destinations = [Destination("k1", "json://one", "json://one"), Destination("k2", "x", "x")]
    drafts = plan_alerts(
        destinations=destinations,
        flips=flips,
        previous={},
        current={},
        run_targets=[],
        last_alerts={},
        offline_since=None,
        now=T0,
        on=ON,
        remind_every=timedelta(0),
        public_url=None,
    )
    assert [(d.destination, d.kind, d.flips) for d in drafts] == [
        ("k1", AlertKind.FLIPS, (0, 2)),
        ("k2", AlertKind.FLIPS, (0, 2)),
    ]
    assert drafts[0].title == "P down"
    assert "models: a, b" in drafts[0].body
    assert [t.model for t in drafts[0].targets] == ["a", "b"]


def test_a_flip_message_quotes_the_error_trimmed_and_scrubbed_and_links_the_page() -> None:
    message = flips_message(
        [flip(S.UP, S.DOWN, at=T0 + timedelta(minutes=30))],
        previous={("P", "m"): status(S.UP, since=T0)},
        current={("P", "m"): status(S.DOWN, since=T0 + timedelta(minutes=30))},
        public_url="https://status.example.org/",
    )
    assert message.notify_type is NotifyType.FAILURE
    assert "P: up -> down after 30 min, since 2024-05-01 08:30 UTC" in message.body
    error = next(line for line in message.body.splitlines() if "last error" in line)
    assert error.startswith("  last error: http_server: HTTP 500: xxx")
    assert len(error) < 250
    assert "sk-12345" not in message.body
    assert "page: https://status.example.org/#provider-P" in message.body


def test_titles_stay_short_enough_for_a_phone() -> None:
    long_name = "Provider" * 20
    message = flips_message(
        [flip(S.UP, S.DOWN, provider=long_name), flip(S.DOWN, S.UP, provider=long_name, model="n")],
        previous={},
        current={},
        public_url=None,
    )
    assert len(message.title) <= TITLE_LIMIT
    assert message.notify_type is NotifyType.FAILURE
    many = flips_message(
        [flip(S.DOWN, S.UP, provider=f"P{i}") for i in range(30)],
        previous={},
        current={},
        public_url=None,
    )
    assert many.title == "30 providers changed: 30 up"
    assert many.notify_type is NotifyType.SUCCESS


def test_reminder_and_online_messages() -> None:
    now = T0 + timedelta(hours=6, minutes=5)
    reminder = reminder_message([status(S.DOWN)], now=now, public_url=None)
    assert reminder.title == "P still down"
    assert "still down, for 6 h 5 min (since 2024-05-01 08:00 UTC)" in reminder.body
    online = online_message(T0, now, "https://status.example.org")
    assert online.title == "harness back online after 6 h 5 min"
    assert online.notify_type is NotifyType.INFO


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(5, "5 s"), (60, "1 min"), (3600, "1 h"), (3900, "1 h 5 min"), (90000, "1 d 1 h")],
)
def test_durations_read_naturally(seconds: int, text: str) -> None:
    assert duration(timedelta(seconds=seconds)) == text
