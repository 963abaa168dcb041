"""``harness serve`` with probe tiers: each tier's job probes its own prompts, and runs
skipped because the one before overran are shown on the page, ``/api/status`` and
``/metrics``."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from harness.emulator import Fault, FaultSpec
from harness.result import Source
from harness.settings.config import Settings
from harness.targets.sources import source_store_url
from harness.web.app import PROBER, build_app
from providers import PROVIDERS
from tests.live_app import AiohttpClient, Client, eventually

PROBED = "AutonomousAI"


def only(provider: str, **changes: object) -> Settings:
    """Settings probing ``provider`` alone, at once (no jitter)."""
    others = {name: {"enabled": False} for name in PROVIDERS if name != provider}
    return Settings.model_validate({"serve": {"jitter": 0}, "providers": others, **changes})


async def sandbox_app(
    aiohttp_client: AiohttpClient,
    settings: Settings,
    *,
    schedule: bool = True,
    faults: dict[str, FaultSpec] | None = None,
) -> Client:
    app = build_app(
        settings,
        source_store_url(settings, Source.SANDBOX),
        interval=3600,
        sandbox=True,
        admin_token=None,
        schedule=schedule,
        faults=faults,
    )
    return await aiohttp_client(app)


async def prompts_probed(client: Client) -> set[str]:
    response = await client.get("/api/results", params={"provider": PROBED, "limit": "1000"})
    return {r["prompt"] for r in (await response.json())["results"]}


async def test_each_tier_probes_its_own_prompts_once_at_start(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    settings = only(
        PROBED,
        data_dir=tmp_path / "data",
        prompts=["ping"],
        serve={"jitter": 0, "tiers": {"suite": {"prompts": ["math", "system"], "interval": "1h"}}},
    )
    client = await sandbox_app(aiohttp_client, settings)

    async def both_tiers_ran() -> bool:
        return await prompts_probed(client) == {"ping", "math", "system"}

    await eventually(both_tiers_ran)
    tiers = await client.app[PROBER].call(lambda scheduler: scheduler.schedule[PROBED])
    assert [t.name for t in tiers] == ["default", "suite"]


@pytest.fixture
async def overrunning(aiohttp_client: AiohttpClient, tmp_path: Path) -> Client:
    """A sandbox whose one provider answers slower than its fast tier's period."""
    settings = only(
        PROBED,
        data_dir=tmp_path / "data",
        prompts=["math"],
        serve={"jitter": 0, "tiers": {"fast": {"prompts": ["ping"], "interval": 0.05}}},
    )
    slow = FaultSpec(Fault.first_chunk_delay, first_chunk_delay=0.3)
    client = await sandbox_app(aiohttp_client, settings, faults={PROBED: slow})

    async def overran() -> bool:
        document = await (await client.get("/api/status")).json()
        overruns: int | None = document["providers"][PROBED]["overruns"]
        return bool(overruns)

    await eventually(overran)
    return client


async def test_overruns_are_counted_per_provider_in_the_api_status(overrunning: Client) -> None:
    document = await (await overrunning.get("/api/status")).json()
    overruns = await overrunning.app[PROBER].call(lambda scheduler: dict(scheduler.overruns))

    assert document["providers"][PROBED]["overruns"] >= 1
    assert overruns[(PROBED, "fast")] >= 1
    assert overruns.get((PROBED, "default"), 0) == 0


async def test_overruns_are_shown_on_the_provider_s_row(overrunning: Client) -> None:
    page = BeautifulSoup(await (await overrunning.get("/")).text(), "html.parser")

    chip = page.select_one(f"#provider-{PROBED} summary .chip.overruns")
    assert chip is not None
    assert "overrun" in chip.get_text()


async def test_overruns_are_labelled_by_provider_and_tier_in_the_metrics(
    overrunning: Client,
) -> None:
    text = await (await overrunning.get("/metrics")).text()

    assert f'harness_schedule_overruns_total{{provider="{PROBED}",tier="fast"}}' in text


async def test_a_served_page_without_a_schedule_says_nothing_of_overruns(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    settings = only(PROBED, data_dir=tmp_path / "data")
    client = await sandbox_app(aiohttp_client, settings, schedule=False)

    document = await (await client.get("/api/status")).json()

    assert all(p["overruns"] is None for p in document["providers"].values())
