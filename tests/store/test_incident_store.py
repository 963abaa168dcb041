"""Incidents in the store, on every backend: derived from a run's flips in its own
transaction, read back newest first, and built for a history stored before them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from conftest import NewStore

from harness.policy.status import Flip, State
from harness.result import FailureKind, ProbeResult
from harness.store import Store
from harness.store import postgres as postgres_store
from harness.store import sqlite as sqlite_store
from harness.store.dialect import Session
from harness.store.sql import SQLStore, insert
from tests.store_shortcuts import prune_before, record_run

T0 = datetime(2026, 5, 1, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def down(model: str, minutes: int, provider: str = "P") -> Flip:
    return Flip(provider, model, at(minutes), State.UP, State.DOWN, f"{model} failed 3 times")


def back(model: str, minutes: int, provider: str = "P") -> Flip:
    return Flip(provider, model, at(minutes), State.DOWN, State.UP, "2 passes")


def failure(model: str, minutes: int, vantage: str) -> ProbeResult:
    return ProbeResult(
        "P", model, "ping", at(minutes), ok=False, kind=FailureKind.HTTP_SERVER, vantage=vantage
    )


async def test_a_run_s_flips_open_an_incident(store: Store) -> None:
    await record_run(store, [failure("a", 0, "eu-1")], [], [down("a", 0)])
    (incident,) = await store.incidents()
    assert incident.id > 0
    assert (incident.provider, incident.models, incident.state) == ("P", ("a",), State.DOWN)
    assert incident.resolved_at is None
    assert incident.vantages == ("eu-1",)


async def test_later_runs_grow_and_resolve_the_same_incident(store: Store) -> None:
    await record_run(store, [], [], [down("a", 0)])
    await record_run(store, [], [], [down("b", 5)])
    await record_run(store, [], [], [back("a", 10)])
    (still,) = await store.incidents(open_only=True)
    assert still.models == ("a", "b")
    await record_run(store, [], [], [back("b", 20)])
    (resolved,) = await store.incidents()
    assert resolved.id == still.id
    assert resolved.resolved_at == at(20)
    assert await store.incidents(open_only=True) == []


async def test_incidents_come_newest_first_filtered_by_provider(store: Store) -> None:
    await record_run(store, [], [], [down("a", 0, "P"), down("a", 1, "Q"), down("a", 2, "R")])
    assert [i.provider for i in await store.incidents()] == ["R", "Q", "P"]
    assert [i.provider for i in await store.incidents(provider="Q")] == ["Q"]
    assert [i.provider for i in await store.incidents(limit=1)] == ["R"]


async def test_resolved_incidents_before_since_are_left_out(store: Store) -> None:
    await record_run(store, [], [], [down("a", 0), back("a", 5), down("a", 60)])
    assert len(await store.incidents(since=at(30))) == 1
    assert len(await store.incidents()) == 2


async def test_prune_deletes_incidents_resolved_before_the_cutoff(store: Store) -> None:
    await record_run(store, [], [], [down("a", 0), back("a", 5), down("b", 60, "Q")])
    await prune_before(store, at(30))
    assert [i.provider for i in await store.incidents()] == ["Q"]


async def test_the_migration_builds_incidents_from_the_flips_already_stored(
    new_store: NewStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patch:
        for module in (sqlite_store, postgres_store):
            before = module.MIGRATIONS[: module.MIGRATIONS.index(module._incidents)]
            patch.setattr(module, "MIGRATIONS", before)
        old = cast(SQLStore, new_store("old"))
        await old.open()
        await old.add_targets([("P", "a"), ("P", "b")])
        flips = [down("a", 0), down("b", 5), back("a", 10), back("b", 20), down("a", 30)]
        results = [failure("a", 1, "eu-1"), failure("b", 6, "us-1"), failure("a", 31, "eu-1")]
        rows = old._rows

        def write(s: Session) -> None:
            columns = rows.flip.columns
            s.executemany(insert("flips", columns), map(rows.flip.row, flips))
            s.bulk_insert("results", rows.wide_result.columns, map(rows.wide_result.row, results))

        await old.dialect.write(write)
        await old.close()
    reopened = new_store("old")
    await reopened.open()
    try:
        newer, older = await reopened.incidents()
    finally:
        await reopened.close()
    assert (older.models, older.resolved_at, older.vantages) == (
        ("a", "b"),
        at(20),
        ("eu-1", "us-1"),
    )
    assert (newer.models, newer.resolved_at, newer.vantages) == (("a",), None, ("eu-1",))
