"""A crash between committing a run's flips and sending their alert loses no alert and
sends none twice: the next run sends what the store says is unsent, once."""

from __future__ import annotations

import asyncio
import signal
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from alert_receiver import Receiver

from harness.pipeline.run import record
from harness.policy.deliveries import DeliveryState
from harness.result import FailureKind, ProbeResult
from harness.settings.config import load_settings
from harness.store import open_store

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
PASS = ProbeResult("CodeLinkAva", "gpt-3.5-turbo", "ping", T0, ok=True, ttfc_ms=5.0)
FAIL = replace(PASS, ok=False, kind=FailureKind.HTTP_SERVER, error="HTTP 500", ttfc_ms=None)

CRASHING_RUN = """
import asyncio, os, signal, sys
from dataclasses import replace
from datetime import datetime

import harness.pipeline.run as pipeline
from harness.settings.config import load_settings
from harness.result import FailureKind, ProbeResult
from harness.store import open_store


async def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)  # the flips are committed; nothing is sent yet


async def main():
    settings = load_settings()
    pipeline.deliver_alerts = killed
    result = ProbeResult(
        "CodeLinkAva", "gpt-3.5-turbo", "ping", datetime.fromisoformat(sys.argv[1]),
        ok=False, kind=FailureKind.HTTP_SERVER, error="HTTP 500",
    )
    async with open_store(settings.store_url) as store:
        await pipeline.record(settings, store, [result])


asyncio.run(main())
"""


async def run_at(minutes: int, base: ProbeResult) -> None:
    settings = load_settings()
    async with open_store(settings.store_url) as store:
        await record(settings, store, [replace(base, started_at=T0 + timedelta(minutes=minutes))])


async def test_sigkill_after_the_flips_are_committed_and_before_the_send(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_ALERT_URLS", receiver.url)
    await run_at(0, PASS)
    await run_at(5, FAIL)
    await run_at(10, FAIL)

    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CRASHING_RUN, (T0 + timedelta(minutes=15)).isoformat()
    )
    assert await child.wait() == -signal.SIGKILL
    settings = load_settings()
    async with open_store(settings.store_url) as store:
        assert (await store.flips())[0].new.value == "down"
        (pending,) = await store.alert_deliveries()
        assert pending.state is DeliveryState.PENDING
        assert pending.attempts == 0
    assert receiver.received == []

    await run_at(20, FAIL)
    await run_at(25, FAIL)
    assert receiver.titles == ["CodeLinkAva down"]
    assert "since " in receiver.delivered[0]["message"]
