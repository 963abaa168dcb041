"""Measured tokens (and cost, where priced) per target per day, where they are shown:
the page, ``status.json`` / ``/api/status`` and ``/metrics``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from status_samples import passed

from harness.report import read_page, render_page, status_document
from harness.settings.config import Settings
from harness.store import open_store
from harness.targets.endpoints import install_endpoints
from harness.web.app import build_app
from tests.live_app import AiohttpClient

NOW = datetime.now(UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings(
        data_dir=tmp_path / "data",
        endpoints={
            "paid": {
                "base_url": "http://127.0.0.1:9/v1",
                "models": ["big"],
                "price_in": 2.0,
                "price_out": 10.0,
            },
            "free": {"base_url": "http://127.0.0.1:9/free/v1", "models": ["small"]},
        },
    )
    install_endpoints(settings)
    return settings


@pytest.fixture
async def filled(settings: Settings) -> Settings:
    """Two probes of each endpoint in the last day, one of the paid one before it."""
    async with open_store(settings.store_url) as store:
        await store.add_results(
            [
                replace(
                    passed("paid", "big", NOW - timedelta(hours=1)),
                    prompt_tokens=1000,
                    completion_tokens=200,
                ),
                replace(
                    passed("paid", "big", NOW - timedelta(hours=2)),
                    prompt_tokens=1000,
                    completion_tokens=200,
                ),
                replace(
                    passed("paid", "big", NOW - timedelta(hours=30)),
                    prompt_tokens=9999,
                    completion_tokens=9999,
                ),
                replace(
                    passed("free", "small", NOW - timedelta(hours=1)),
                    prompt_tokens=50,
                    completion_tokens=5,
                ),
                passed("free", "small", NOW - timedelta(hours=2)),
            ]
        )
    return settings


async def test_status_json_gives_each_targets_tokens_and_cost_of_the_last_day(
    filled: Settings,
) -> None:
    async with open_store(filled.store_url) as store:
        document = status_document(await read_page(store, filled, now=NOW))

    paid = document["providers"]["paid"]["models"]["big"]["usage"]
    free = document["providers"]["free"]["models"]["small"]["usage"]
    assert paid == {
        "window": "24h",
        "probes": 2,
        "reported": 2,
        "prompt_tokens": 2000,
        "completion_tokens": 400,
        "cost": pytest.approx((2000 * 2.0 + 400 * 10.0) / 1e6),
    }
    assert (free["probes"], free["reported"], free["prompt_tokens"], free["cost"]) == (
        2,
        1,
        50,
        None,
    )


async def test_the_page_shows_a_tokens_line_per_model(filled: Settings) -> None:
    async with open_store(filled.store_url) as store:
        html = render_page(await read_page(store, filled, now=NOW))

    assert "2,000 in · 400 out · cost 0.0080" in html
    assert "50 in · 5 out <small>(1 of 2 probes reported usage)" in html


async def test_metrics_give_tokens_and_cost_per_target_per_day(
    aiohttp_client: AiohttpClient, filled: Settings
) -> None:
    app = build_app(
        filled, filled.store_url, interval=3600, sandbox=False, admin_token=None, schedule=False
    )
    client = await aiohttp_client(app)

    text = await (await client.get("/metrics")).text()

    values = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    paid = {"provider": "paid", "model": "big"}
    prompt = frozenset({**paid, "kind": "prompt"}.items())
    assert values[("harness_target_tokens_per_day", prompt)] == 2000
    assert values[("harness_target_cost_per_day", frozenset(paid.items()))] == pytest.approx(0.008)
    free = frozenset({"provider": "free", "model": "small"}.items())
    assert ("harness_target_cost_per_day", free) not in values
