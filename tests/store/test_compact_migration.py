"""The migration to compact rows, on every backend: a store built by every migration
before it, holding results one column per field, keeps every result (and its id)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from conftest import NewStore

from harness.policy.status import Flip, State
from harness.result import FailureKind, ProbeResult, Source, StreamEnd
from harness.store import postgres as postgres_store
from harness.store import sqlite as sqlite_store
from harness.store.dialect import Session
from harness.store.rows import as_stored
from harness.store.sql import SQLStore

T0 = datetime(2026, 5, 1, tzinfo=UTC)
PASS = ProbeResult(
    "P",
    "m",
    "ping",
    T0,
    ok=True,
    http_status=200,
    ttfb_ms=80.123,
    ttfc_ms=100.06,
    total_ms=300.04,
    dns_ms=1.25,
    connect_ms=2.35,
    chunks=5,
    chars=11,
    max_gap_ms=20.0,
    end=StreamEnd.FINISH,
    finish_reason="stop",
    sample="PONG-1a2b3c",
    vantage="eu-1",
    version="1.2.3",
    concurrency=16,
    run_id="run-1",
    prompt_tokens=12,
    completion_tokens=3,
    loop_lag_ms=0.4,
    ttft_ms=99.9,
    reasoning_tokens=0,
)
FAIL = ProbeResult(
    "Q\x00nul",
    "m\ufdd0",
    "capital",
    T0,
    ok=False,
    kind=FailureKind.HARNESS_OFFLINE,
    error="ConnectError: no route\x00",
    sample="",
    source=Source.REPLAY,
    attempts=2,
    run_id="run-2",
)


def history() -> Iterator[ProbeResult]:
    """Results of two targets over runs of several vantages, passing and failing."""
    for i in range(25):
        base = PASS if i % 3 else FAIL
        yield replace(
            base,
            started_at=T0 + timedelta(minutes=i),
            vantage=("", "eu-1", "us-1")[(i // 3) % 3],
            run_id=f"run-{i // 4}",
            total_ms=None if base.total_ms is None else base.total_ms + i / 7,
        )


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches small enough that several are rewritten."""
    for module in (sqlite_store, postgres_store):
        monkeypatch.setattr(module, "COMPACT_BATCH", 4)


async def wide_store(
    new_store: NewStore, results: list[ProbeResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store ``old`` as every migration before the compact one left it, with
    ``results`` in it as they were stored then (one column per field)."""
    with monkeypatch.context() as patch:
        for module in (sqlite_store, postgres_store):
            before = module.MIGRATIONS[: module.MIGRATIONS.index(module._compact_results)]
            patch.setattr(module, "MIGRATIONS", before)
        old = cast(SQLStore, new_store("old"))
        await old.open()
        try:
            await old.add_targets({r.target for r in results})
            wide = old._rows.wide_result

            def write(s: Session) -> None:
                s.bulk_insert("results", wide.columns, map(wide.row, results))

            await old.dialect.write(write)
        finally:
            await old.close()


async def test_every_result_is_kept_with_its_id_in_compact_rows(
    new_store: NewStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = list(history())
    await wide_store(new_store, results, monkeypatch)
    store = cast(SQLStore, new_store("old"))
    await store.open()
    try:
        copied = await store.results_after(0, 100)
    finally:
        await store.close()
    assert copied == [(i, as_stored(r)) for i, r in enumerate(results, start=1)]


async def test_results_stored_after_the_migration_take_ids_after_the_kept_ones(
    new_store: NewStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = list(history())
    await wide_store(new_store, results, monkeypatch)
    store = cast(SQLStore, new_store("old"))
    await store.open()
    try:
        newer = replace(PASS, started_at=T0 + timedelta(days=1), run_id="after")
        await store.add_results([newer])
        (newest,) = await store.results_after(len(results), 10)
        offline_since = await store.offline_since()
    finally:
        await store.close()
    assert newest == (len(results) + 1, as_stored(newer))
    assert offline_since is None


async def test_incidents_are_rebuilt_with_the_vantages_of_compact_rows(
    new_store: NewStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = [r if r.ok else replace(r, kind=FailureKind.HTTP_SERVER) for r in history()]
    await wide_store(new_store, results, monkeypatch)
    store = cast(SQLStore, new_store("old"))
    await store.open()
    try:
        down = Flip(*FAIL.target, T0 - timedelta(minutes=1), State.UP, State.DOWN, "failed")
        await store.save_statuses([], [down])
        await store.rebuild_incidents()
        (incident,) = await store.incidents()
    finally:
        await store.close()
    assert incident.vantages == ("eu-1", "us-1")
