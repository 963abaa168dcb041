"""Alerts from real runs: emulators fail and recover, a local receiver sees the messages.

Runs go through :func:`harness.pipeline.run.probe_and_record` against the in-process
emulators (sandbox runs, so alerts are switched on as ``--alerts`` does), or through
:func:`harness.pipeline.run.record` with results made up at chosen times (a fake clock).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alert_receiver import TOKEN, Receiver

import harness.alerts.send
from harness.emulator import Emulator, Fault, FaultSpec
from harness.pipeline.run import RunSummary, plan_targets, probe_and_record, record
from harness.policy.deliveries import DeliveryState
from harness.result import FailureKind, ProbeResult, Source
from harness.settings.config import Settings
from harness.store import Store, open_store
from providers import upstream

PAGE = "https://status.example.org"


def alert_settings(tmp_path: Path, receiver: Receiver, **alerts: Any) -> Settings:
    section = {"urls": [receiver.url], "all_sources": True, "public_url": PAGE, **alerts}
    return Settings.model_validate({"data_dir": tmp_path / "data", "alerts": section})


@pytest.fixture
async def store(tmp_path: Path) -> Any:
    async with open_store(tmp_path / "data" / "harness.db") as opened:
        yield opened


async def sandbox_run(
    settings: Settings, store: Store, emulator: Emulator, *providers: str
) -> RunSummary:
    targets = plan_targets(settings, list(providers))
    with upstream.redirect(emulator.url):
        return await probe_and_record(settings, store, targets, source=Source.SANDBOX)


async def test_a_provider_failing_for_five_runs_sends_one_down_then_one_up(
    tmp_path: Path, receiver: Receiver, emulator: Emulator, store: Store
) -> None:
    settings = alert_settings(tmp_path, receiver)
    await sandbox_run(settings, store, emulator, "AutonomousAI")  # first state: no alert
    emulator.set_fault("AutonomousAI", FaultSpec(Fault.http_500))
    for _ in range(5):
        await sandbox_run(settings, store, emulator, "AutonomousAI")
    assert receiver.titles == ["AutonomousAI down"]
    down = receiver.delivered[0]
    assert down["type"] == "failure"
    assert "degraded -> down" in down["message"]
    assert "llama, qwen_coder, hermes, vision, summary" in down["message"]
    assert "last error: http_server" in down["message"]
    assert f"{PAGE}/#provider-AutonomousAI" in down["message"]

    emulator.clear_fault("AutonomousAI")
    for _ in range(3):
        await sandbox_run(settings, store, emulator, "AutonomousAI")
    assert receiver.titles == ["AutonomousAI down", "AutonomousAI up"]
    assert receiver.delivered[1]["type"] == "success"
    assert "down -> up" in receiver.delivered[1]["message"]
    sent = await store.alert_deliveries()
    assert [d.state for d in sent] == [DeliveryState.SENT, DeliveryState.SENT]
    assert len(sent[1].flip_ids) == 5  # the down message points at its five flips


async def test_a_one_run_blip_sends_nothing(
    tmp_path: Path, receiver: Receiver, emulator: Emulator, store: Store
) -> None:
    settings = alert_settings(tmp_path, receiver)
    await sandbox_run(settings, store, emulator, "CodeLinkAva")
    emulator.set_fault("CodeLinkAva", FaultSpec(Fault.http_500, times=1))
    for _ in range(4):
        await sandbox_run(settings, store, emulator, "CodeLinkAva")
    flips = await store.flips()
    assert [(f.old.value, f.new.value) for f in reversed(flips)] == [
        ("unknown", "up"),
        ("up", "degraded"),
        ("degraded", "up"),
    ]
    assert receiver.received == []


async def test_two_providers_flipping_in_one_run_send_one_grouped_message(
    tmp_path: Path, receiver: Receiver, emulator: Emulator, store: Store
) -> None:
    settings = alert_settings(tmp_path, receiver)
    await sandbox_run(settings, store, emulator, "AiChatOnline", "CodeLinkAva")
    emulator.set_fault("AiChatOnline", FaultSpec(Fault.http_503))
    emulator.set_fault("CodeLinkAva", FaultSpec(Fault.cloudflare_403))
    for _ in range(3):
        await sandbox_run(settings, store, emulator, "AiChatOnline", "CodeLinkAva")
    assert receiver.titles == ["2 providers changed: 2 down"]
    body = receiver.delivered[0]["message"]
    assert "AiChatOnline: degraded -> down" in body
    assert "CodeLinkAva: degraded -> down" in body


async def test_sandbox_runs_send_nothing_without_the_alerts_switch(
    tmp_path: Path, receiver: Receiver, emulator: Emulator, store: Store
) -> None:
    settings = alert_settings(tmp_path, receiver, all_sources=False)
    await sandbox_run(settings, store, emulator, "CodeLinkAva")
    emulator.set_fault("CodeLinkAva", FaultSpec(Fault.http_500))
    for _ in range(3):
        await sandbox_run(settings, store, emulator, "CodeLinkAva")
    assert (await store.flips())[0].new.value == "down"
    assert receiver.received == []
    assert await store.alert_deliveries() == []


@pytest.mark.parametrize("mode", ["fail", "hang"])
async def test_a_failing_receiver_never_stops_probing_and_gets_the_alert_once_later(
    tmp_path: Path, receiver: Receiver, emulator: Emulator, store: Store, mode: str
) -> None:
    settings = alert_settings(tmp_path, receiver, send_timeout=1.0)
    await sandbox_run(settings, store, emulator, "CodeLinkAva")
    emulator.set_fault("CodeLinkAva", FaultSpec(Fault.http_500))
    receiver.mode = mode
    for _ in range(3):
        summary = await sandbox_run(settings, store, emulator, "CodeLinkAva")
        assert len(summary.results) == 1  # the run finished and was recorded
    assert len(receiver.received) == 1
    assert receiver.delivered == []
    (pending,) = await store.alert_deliveries()
    assert pending.state is DeliveryState.PENDING
    assert pending.attempts == 1
    assert pending.last_error
    assert TOKEN not in pending.last_error

    receiver.mode = "ok"
    receiver.release.set()
    for _ in range(2):
        await sandbox_run(settings, store, emulator, "CodeLinkAva")
    assert receiver.titles == ["CodeLinkAva down"]
    (sent,) = await store.alert_deliveries()
    assert sent.state is DeliveryState.SENT
    assert sent.attempts == 2


T0 = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
"""The fake clock starts yesterday at midnight (older results would be pruned)."""
PASS = ProbeResult("AutonomousAI", "llama", "ping", T0, ok=True, ttfc_ms=100.0, total_ms=300.0)
FAIL = replace(
    PASS,
    ok=False,
    kind=FailureKind.HTTP_SERVER,
    http_status=500,
    error="HTTP 500 from upstream; Authorization: Bearer sk-upstream-0123456789",
    ttfc_ms=None,
    total_ms=None,
)
OFFLINE = replace(FAIL, kind=FailureKind.HARNESS_OFFLINE, error="no DNS", http_status=None)


def at(minutes: int, base: ProbeResult) -> list[ProbeResult]:
    return [replace(base, started_at=T0 + timedelta(minutes=minutes))]


async def test_a_reminder_goes_out_every_remind_every_while_still_down(
    tmp_path: Path, receiver: Receiver, store: Store
) -> None:
    settings = alert_settings(tmp_path, receiver, remind_every="1h", all_sources=False)
    await record(settings, store, at(0, PASS))
    for minute in range(5, 180, 5):
        await record(settings, store, at(minute, FAIL))
    # Down at minute 15; reminded at 75 and 135; minute 175 is not an hour after 135.
    assert receiver.titles == [
        "AutonomousAI down",
        "AutonomousAI still down",
        "AutonomousAI still down",
    ]
    reminder = receiver.delivered[1]["message"]
    assert f"still down, for 1 h (since {T0:%Y-%m-%d} 00:15 UTC)" in reminder
    assert "sk-upstream" not in reminder
    assert "[REDACTED]" in receiver.delivered[0]["message"]


async def test_no_reminders_by_default(tmp_path: Path, receiver: Receiver, store: Store) -> None:
    settings = alert_settings(tmp_path, receiver)
    await record(settings, store, at(0, PASS))
    for minute in range(5, 600, 30):
        await record(settings, store, at(minute, FAIL))
    assert receiver.titles == ["AutonomousAI down"]


async def test_no_alert_while_offline_and_one_message_when_back(
    tmp_path: Path, receiver: Receiver, store: Store
) -> None:
    settings = alert_settings(tmp_path, receiver)
    await record(settings, store, at(0, PASS))
    for minute in (5, 35, 65):
        await record(settings, store, at(minute, OFFLINE), offline=True, reason="no DNS")
    assert receiver.received == []
    await record(settings, store, at(95, PASS))
    await record(settings, store, at(100, PASS))
    assert receiver.titles == ["harness back online after 1 h 30 min"]
    assert receiver.delivered[0]["type"] == "info"


async def test_a_first_state_sends_nothing(
    tmp_path: Path, receiver: Receiver, store: Store
) -> None:
    settings = alert_settings(tmp_path, receiver)
    for minute in range(0, 30, 5):
        await record(settings, store, at(minute, FAIL))
    assert (await store.flips())[0].old.value == "unknown"
    assert receiver.received == []


async def test_secrets_stay_out_of_the_store_and_the_logs(
    tmp_path: Path, receiver: Receiver, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = alert_settings(tmp_path, receiver)
    await record(settings, store, at(0, PASS))
    for minute in (5, 10):
        await record(settings, store, at(minute, FAIL))
    receiver.mode = "fail"
    await record(settings, store, at(15, FAIL))  # down; the send fails and is logged
    receiver.mode = "ok"
    await record(settings, store, at(20, FAIL))
    assert receiver.titles == ["AutonomousAI down"]
    await store.close()
    for path in (tmp_path / "data").iterdir():
        assert TOKEN.encode() not in path.read_bytes(), path
    assert any("apprise" in r.name for r in caplog.records)
    assert TOKEN not in caplog.text
    assert "/hook/" not in caplog.text


async def test_a_crashing_sender_fails_the_attempt_not_the_run(
    tmp_path: Path, receiver: Receiver, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> str | None:
        raise RuntimeError(f"plugin bug near {receiver.url}")

    monkeypatch.setattr(harness.alerts.send, "send", broken)
    settings = alert_settings(tmp_path, receiver)
    await record(settings, store, at(0, PASS))
    for minute in (5, 10, 15):
        summary = await record(settings, store, at(minute, FAIL))
    assert summary.flips[0].new.value == "down"
    (pending,) = await store.alert_deliveries()
    assert pending.state is DeliveryState.PENDING
    assert pending.last_error is not None
    assert pending.last_error.startswith("RuntimeError: plugin bug near json://")
    assert TOKEN not in pending.last_error
