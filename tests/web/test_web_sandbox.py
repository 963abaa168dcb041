"""``harness serve --sandbox``: scheduled probes of the in-process emulators land on the page.

These run the real pipeline (runner, store, status policy, flags file) against the
emulators, as ``harness probe --sandbox`` does.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from harness.emulator import Fault, FaultSpec
from harness.result import ProbeResult, Source
from harness.settings.config import Settings
from harness.store import open_store
from harness.targets.sources import source_flags_file, source_store_url
from harness.web.app import PROBER, build_app
from tests.live_app import AiohttpClient, Client, eventually, states


async def result_count(client: Client, provider: str) -> int:
    response = await client.get("/api/results", params={"provider": provider, "limit": "1000"})
    return len((await response.json())["results"])


@pytest.fixture
def sandbox_settings(tmp_path: Path) -> Settings:
    """Probe at once (no jitter), with the data directory in the test's directory."""
    return Settings(data_dir=tmp_path / "data", serve={"jitter": 0})


@pytest.fixture(params=[False, True], ids=["prober-thread", "prober-process"])
async def sandbox(
    request: pytest.FixtureRequest,
    aiohttp_client: AiohttpClient,
    sandbox_settings: Settings,
    admin_token: str,
) -> Client:
    """A sandbox server probing every provider once at start, then only on demand; its
    prober in a thread of the server, and in a process of its own (as ``harness serve``)."""
    app = build_app(
        sandbox_settings,
        source_store_url(sandbox_settings, Source.SANDBOX),
        interval=3600,
        sandbox=True,
        admin_token=admin_token,
        prober_process=request.param,
    )
    client = await aiohttp_client(app)

    async def all_up() -> bool:
        return all(s == "up" for models in (await states(client)).values() for s in models.values())

    await eventually(all_up)
    return client


async def probe_now(client: Client, token: str, provider: str) -> None:
    """Run ``provider``'s job now and wait until its results are stored."""
    before = await result_count(client, provider)
    response = await client.post(
        "/api/probe",
        params={"provider": provider},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status == 202
    assert (await response.json())["runs"] == {provider: "started"}

    async def landed() -> bool:
        return await result_count(client, provider) > before

    await eventually(landed)
    await client.app[PROBER].idle()


async def set_fault(client: Client, token: str, fault: str) -> None:
    response = await client.post(
        "/api/sandbox/fault", json={"fault": fault}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status == 200


async def test_a_faulty_provider_turns_degraded_then_down_while_the_others_stay_up(
    sandbox: Client, admin_token: str, sandbox_settings: Settings
) -> None:
    await set_fault(sandbox, admin_token, "AutonomousAI=http_500")

    await probe_now(sandbox, admin_token, "AutonomousAI")
    assert set((await states(sandbox))["AutonomousAI"].values()) == {"degraded"}

    await probe_now(sandbox, admin_token, "AutonomousAI")
    await probe_now(sandbox, admin_token, "AutonomousAI")
    document = await (await sandbox.get("/api/status")).json()
    now = await states(sandbox)
    assert set(now["AutonomousAI"].values()) == {"down"}
    assert document["providers"]["AutonomousAI"]["working"] is False
    for name in ("RobocodersAPI", "AiChatOnline", "CodeLinkAva"):
        assert document["providers"][name]["working"] is True
        assert set(now[name].values()) == {"up"}

    flips = [(f["old"], f["new"]) for f in document["flips"] if f["provider"] == "AutonomousAI"]
    assert ("up", "degraded") in flips
    assert ("degraded", "down") in flips
    flags = json.loads(source_flags_file(sandbox_settings, Source.SANDBOX).read_text())
    assert flags["providers"]["AutonomousAI"]["working"] is False
    # Emulator answers never reach the live flags file nor the loaded provider classes.
    assert not source_flags_file(sandbox_settings, Source.LIVE).exists()
    assert document["source"] == "sandbox"
    assert document["source_note"] == "emulated upstreams, not the real providers"
    page = await (await sandbox.get("/")).text()
    assert "sandbox: emulated upstreams, not the real providers" in page


async def test_scheduled_results_feed_the_metrics(sandbox: Client) -> None:
    text = await (await sandbox.get("/metrics")).text()

    assert 'harness_target_up{model="llama",provider="AutonomousAI"} 1.0' in text
    assert 'outcome="ok"' in text
    assert "harness_probe_ttfc_seconds_bucket" in text


async def test_a_sandbox_fault_must_parse(sandbox: Client, admin_token: str) -> None:
    response = await sandbox.post(
        "/api/sandbox/fault",
        json={"fault": "AutonomousAI=melt"},
        headers={"Authorization": f"Bearer {admin_token}"},
    )

    assert response.status == 400
    assert "unknown fault mode" in (await response.json())["error"]


async def test_a_sandbox_fault_needs_the_token(sandbox: Client) -> None:
    response = await sandbox.post("/api/sandbox/fault", json={"fault": "AutonomousAI=http_500"})

    assert response.status == 401


async def test_stopping_cancels_a_hanging_probe_and_leaves_a_sound_store(
    aiohttp_client: AiohttpClient,
    sandbox_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = build_app(
        sandbox_settings,
        source_store_url(sandbox_settings, Source.SANDBOX),
        interval=3600,
        sandbox=True,
        admin_token=None,
        faults={"AutonomousAI": FaultSpec(Fault.hang_headers)},
        shutdown_grace=0.2,
    )
    client = await aiohttp_client(app)
    prober = app[PROBER]
    scheduler = await prober.call(lambda scheduler: scheduler)

    async def others_done() -> bool:
        done = [await result_count(client, n) for n in ("RobocodersAPI", "CodeLinkAva")]
        return all(done) and await prober.running() == {"AutonomousAI"}

    await eventually(others_done)
    await client.close()

    assert scheduler.running == frozenset()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    async with open_store(source_store_url(sandbox_settings, Source.SANDBOX)) as store:
        assert await store.integrity_ok()
        assert await store.results(provider="AutonomousAI") == []
        assert await store.results(provider="CodeLinkAva")


async def test_serve_prunes_results_past_their_retention_in_the_background(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data", serve={"jitter": 0}, retention={"raw": "1d"})
    url = source_store_url(settings, Source.SANDBOX)
    old = ProbeResult("Old", "m", "ping", datetime.now(UTC) - timedelta(days=3), ok=True)
    async with open_store(url) as store:
        await store.add_results([old])
    app = build_app(settings, url, interval=3600, sandbox=True, admin_token=None)

    await aiohttp_client(app)

    async def pruned() -> bool:
        async with open_store(url) as store:
            return not await store.results(provider="Old")

    await eventually(pruned)
    async with open_store(url) as store:
        (hour,) = await store.rollups(old.started_at, provider="Old")
    assert hour.ok == 1  # its rollup stays
