"""The alert part of the store contract (run once per backend, see conftest.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from harness.policy.deliveries import (
    AlertDraft,
    AlertKind,
    AlertTarget,
    DeliveryState,
    NotifyType,
)
from harness.policy.status import Flip, State
from harness.result import FailureKind, ProbeResult
from harness.store import Store
from tests.store_shortcuts import prune_before, record_run

T0 = datetime(2024, 5, 1, tzinfo=UTC)
PASS = ProbeResult("P", "m", "ping", T0, ok=True, ttfc_ms=100.0, total_ms=300.0)
OFFLINE = replace(PASS, ok=False, kind=FailureKind.HARNESS_OFFLINE, ttfc_ms=None, total_ms=None)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def flip(model: str, new: State, minutes: float = 0) -> Flip:
    return Flip("P", model, at(minutes), State.UP, new, "because")


def draft(
    destination: str = "d1",
    *,
    minutes: float = 0,
    flips: tuple[int, ...] = (),
    targets: tuple[AlertTarget, ...] = (),
    title: str = "P down",
) -> AlertDraft:
    return AlertDraft(
        kind=AlertKind.FLIPS,
        destination=destination,
        label=f"json://{destination}",
        title=title,
        body="body",
        notify_type=NotifyType.FAILURE,
        created_at=at(minutes),
        targets=targets,
        flips=flips,
    )


async def test_deliveries_are_stored_with_the_flips_they_point_at(store: Store) -> None:
    flips = [flip("a", State.DOWN), flip("b", State.DOWN), flip("c", State.THROTTLED)]
    targets = (AlertTarget("P", "a", State.DOWN), AlertTarget("P", "c", State.THROTTLED))
    drafts = [draft("d1", flips=(0, 2), targets=targets), draft("d2", flips=(0, 2))]
    await record_run(store, [PASS], [], flips, alerts=drafts)
    stored = await store.flips()
    assert len(stored) == 3
    second, first = await store.alert_deliveries()
    assert (first.destination, second.destination) == ("d1", "d2")
    assert first.label == "json://d1"
    assert first.targets == targets
    assert first.state is DeliveryState.PENDING
    assert first.attempts == 0
    assert first.sent_at is None
    assert first.created_at == T0
    assert len(first.flip_ids) == 2
    assert first.flip_ids == second.flip_ids


async def test_deliveries_alone_can_be_recorded(store: Store) -> None:
    await record_run(store, [], [], [], alerts=[draft()])
    assert len(await store.alert_deliveries()) == 1


async def test_a_claim_takes_due_deliveries_once_until_its_lease_ends(store: Store) -> None:
    await record_run(store, [], [], [], alerts=[draft("d1"), draft("d2"), draft("d1")])
    lease = timedelta(seconds=30)
    claimed = await store.claim_alerts(["d1"], now=at(1), lease=lease)
    assert [c.destination for c in claimed] == ["d1", "d1"]
    assert [c.attempts for c in claimed] == [1, 1]
    assert claimed[0].id < claimed[1].id
    assert await store.claim_alerts(["d1"], now=at(1), lease=lease) == []
    again = await store.claim_alerts(["d1"], now=at(1) + lease, lease=lease)
    assert [c.attempts for c in again] == [2, 2]
    assert await store.claim_alerts([], now=at(9), lease=lease) == []


async def test_finishing_records_sent_retry_and_give_up(store: Store) -> None:
    await record_run(store, [], [], [], alerts=[draft("d"), draft("d"), draft("d")])
    lease = timedelta(seconds=30)
    sent, retried, given_up = await store.claim_alerts(["d"], now=at(1), lease=lease)
    await store.finish_alert(sent.id, at=at(2), error=None, retry_at=None)
    await store.finish_alert(retried.id, at=at(2), error="HTTP 500", retry_at=at(10))
    await store.finish_alert(given_up.id, at=at(2), error="gone", retry_at=None)
    rows = {d.id: d for d in await store.alert_deliveries()}
    assert rows[sent.id].state is DeliveryState.SENT
    assert rows[sent.id].sent_at == at(2)
    assert rows[retried.id].state is DeliveryState.PENDING
    assert rows[retried.id].last_error == "HTTP 500"
    assert rows[retried.id].next_attempt_at == at(10)
    assert rows[given_up.id].state is DeliveryState.FAILED
    assert await store.claim_alerts(["d"], now=at(9), lease=lease) == []
    (due,) = await store.claim_alerts(["d"], now=at(10), lease=lease)
    assert due.id == retried.id
    assert due.attempts == 2


async def test_last_alerts_gives_the_newest_per_target(store: Store) -> None:
    a_down = (AlertTarget("P", "a", State.DOWN),)
    a_up = (AlertTarget("P", "a", State.UP),)
    b_down = (AlertTarget("P", "b", State.DOWN),)
    await record_run(store, [], [], [], alerts=[draft(minutes=0, targets=a_down + b_down)])
    await record_run(store, [], [], [], alerts=[draft(minutes=5, targets=a_up, title="P up")])
    (first, _) = await store.claim_alerts(["d1"], now=at(6), lease=timedelta(seconds=1))
    await store.finish_alert(first.id, at=at(6), error=None, retry_at=None)

    newest = await store.last_alerts()
    assert newest[("P", "a")].state is State.UP
    assert newest[("P", "a")].created_at == at(5)
    assert newest[("P", "a")].sent_at is None
    assert newest[("P", "b")].state is State.DOWN

    sent = await store.last_alerts(sent_only=True)
    assert sent[("P", "a")].state is State.DOWN
    assert sent[("P", "a")].sent_at == at(6)
    assert sent[("P", "a")].title == "P down"
    assert sent[("P", "a")].kind is AlertKind.FLIPS


async def test_offline_since_is_the_start_of_the_newest_offline_stretch(store: Store) -> None:
    assert await store.offline_since() is None
    await store.add_results([replace(PASS, started_at=at(0))])
    assert await store.offline_since() is None
    await store.add_results([replace(OFFLINE, started_at=at(m)) for m in (1, 2, 3)])
    assert await store.offline_since() == at(1)
    await store.add_results([replace(PASS, started_at=at(4))])
    assert await store.offline_since() is None
    await store.add_results([replace(OFFLINE, started_at=at(5), model="other")])
    assert await store.offline_since() == at(5)


async def test_prune_removes_old_deliveries(store: Store) -> None:
    await record_run(store, [], [], [], alerts=[draft(minutes=0), draft(minutes=60)])
    assert await prune_before(store, at(30)) == 1
    (kept,) = await store.alert_deliveries()
    assert kept.created_at == at(60)
