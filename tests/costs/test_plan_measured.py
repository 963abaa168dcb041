"""``harness plan``'s figures against a short measured run: ``serve``'s scheduler probing
an endpoint on ``harness emulate`` at a short interval, and what the store then holds.

A first window stores the endpoint's usage, and copies of its results bring the store
to the size at which the plan trusts its bytes per result (its size over its results,
as for a store that has run a while). ``harness plan --json`` is then asked, and a
second window run: the probes, rows, bytes, tokens and money it stored must be within
10 % of what the plan says for a window that long. The bytes are the window's rows at
the store's own bytes per result once it has run: the file's growth over two thousand
results moves by whole 4 KiB pages and freshly split, half-full index pages (measured
8 to 31 % above the store's average on a busy machine), so it says little at 10 %.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from harness.cli.main import main
from harness.emulator import Emulator
from harness.pipeline.costs import MEASURED_MIN_RESULTS
from harness.pipeline.scheduler import ProbeScheduler, probe_provider, schedule_of
from harness.policy.usage import TokenUsage
from harness.settings.config import Settings, load_settings
from harness.settings.tiers import Tier
from harness.store import open_store
from harness.store.base import Store
from harness.targets.endpoints import install_endpoints
from providers import PROVIDERS

MODELS = [f"model-{i}" for i in range(48)]
INTERVAL_S = 1.0
PERIODS = 12
"""The measured window is PERIODS + 0.5 intervals: PERIODS + 1 runs start in it."""
TOLERANCE = 0.10
GROWN_TO = 4 * MEASURED_MIN_RESULTS
"""Results the store is grown to before the plan measures it: a store's own size over its
results counts its empty tables too, a few bytes per result at this size."""


def write_config(tmp_path: Path, emulator: Emulator) -> Path:
    seeds = "".join(f"[providers.{name}]\nenabled = false\n" for name in PROVIDERS)
    models = json.dumps(MODELS)
    path = tmp_path / "harness.toml"
    path.write_text(
        f"""
data_dir = "{tmp_path / "data"}"
prompts = ["ping", "math", "system"]
concurrency = 48
per_provider = 48

[serve]
interval = {INTERVAL_S}
jitter = 0

{seeds}
[endpoints.paid]
base_url = "{emulator.url}/v1"
models = {models}
price_in = 3.0
price_out = 15.0
""",
        encoding="utf-8",
    )
    return path


async def scheduled_window(settings: Settings, store: Store, periods: int) -> None:
    """Probe on the schedule of ``serve`` for ``periods`` + 0.5 intervals."""

    async def job(provider: str, tier: Tier) -> None:
        await probe_provider(settings, store, provider, tier=tier)

    scheduler = ProbeScheduler(job, schedule_of(settings, ["paid"]), jitter=0)
    scheduler.start()
    try:
        await asyncio.sleep((periods + 0.5) * INTERVAL_S)
    finally:
        await scheduler.stop(grace=30)


async def grow_to_measured_size(store: Store) -> None:
    """Copies of the stored results until the store holds enough of them for the plan to
    measure its bytes per result. Each copy is a millisecond older than the one before,
    so the copies fall in the hours of the originals: a run every second would put them
    there, and the rows kept per hour (rollups, usage) stay as few per result as in the
    measured window."""
    originals = await store.results()
    copies = []
    copy = 1
    while len(originals) * copy < GROWN_TO:
        run = str(uuid.uuid4())
        copies += [
            replace(r, started_at=r.started_at - timedelta(milliseconds=copy), run_id=run)
            for r in originals
        ]
        copy += 1
    await store.add_results(copies)


async def total_usage(store: Store, since: datetime) -> TokenUsage:
    return sum((await store.usage(since)).values(), TokenUsage())


def plan_json(path: Path) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["--config", str(path), "plan", "--json"])
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def within(measured: float, planned: float) -> bool:
    return abs(measured - planned) <= TOLERANCE * planned


async def test_the_plan_matches_a_short_measured_run(tmp_path: Path, emulator: Emulator) -> None:
    path = write_config(tmp_path, emulator)
    settings = load_settings(path)
    install_endpoints(settings)
    async with open_store(settings.store_url) as store:
        await scheduled_window(settings, store, periods=2)
        await grow_to_measured_size(store)
        before = await store.footprint()
    plan = await asyncio.to_thread(plan_json, path)
    start = datetime.now(UTC)
    async with open_store(settings.store_url) as store:
        # Usage is kept per hour: what the window added is the difference.
        earlier = await total_usage(store, start)
        await scheduled_window(settings, store, periods=PERIODS)
        after = await store.footprint()
        now = await total_usage(store, start)
    used = TokenUsage(
        now.probes - earlier.probes,
        now.reported - earlier.reported,
        now.prompt_tokens - earlier.prompt_tokens,
        now.completion_tokens - earlier.completion_tokens,
    )
    window_days = (PERIODS + 0.5) * INTERVAL_S / 86_400
    paid = plan["endpoints"]["paid"]
    rows = after.results - before.results
    measured = {
        "probes": used.probes,
        "rows": rows,
        "bytes": rows * after.bytes / after.results,
        "prompt tokens": used.prompt_tokens,
        "completion tokens": used.completion_tokens,
        "cost": (used.prompt_tokens * 3.0 + used.completion_tokens * 15.0) / 1e6,
    }
    planned = {
        "probes": plan["probes_per_hour"] * 24 * window_days,
        "rows": plan["rows_per_day"] * window_days,
        "bytes": plan["bytes_per_day"] * window_days,
        "prompt tokens": paid["prompt_tokens_per_day"] * window_days,
        "completion tokens": paid["completion_tokens_per_day"] * window_days,
        "cost": plan["cost_per_day"] * window_days,
    }

    assert "measured" in plan["bytes_per_result_from"]
    assert paid["tokens_from"] == "stored usage"
    off = {k: (measured[k], planned[k]) for k in measured if not within(measured[k], planned[k])}
    assert not off, off
