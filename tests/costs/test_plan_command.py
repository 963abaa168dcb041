"""``harness plan``: the configuration's cost as it stands, as a table and as JSON; and
``harness serve`` refusing a schedule above ``serve.max_cost_per_day``."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from status_samples import passed

from harness.cli.main import main
from harness.pipeline.costs import BENCHMARK_BYTES_PER_RESULT, plan_costs
from harness.policy.usage import estimated_usage
from harness.settings.config import Settings, load_settings
from harness.store import open_store
from harness.targets.endpoints import install_endpoints
from providers import PROVIDERS

PRICED = """
prompts = ["ping", "math"]

[serve]
interval = "1min"
max_cost_per_day = {budget}

[serve.tiers.suite]
prompts = ["system"]
interval = "1h"

[providers.RobocodersAPI]
enabled = false
[providers.AiChatOnline]
enabled = false
[providers.AutonomousAI]
enabled = false
[providers.CodeLinkAva]
enabled = false

[endpoints.paid]
base_url = "http://127.0.0.1:9/v1"
models = ["big", "small"]
max_tokens = 32
price_in = 2.0
price_out = 8.0

[endpoints.local]
base_url = "http://127.0.0.1:9/local/v1"
models = "discover"
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def config(tmp_path: Path, budget: float = 100.0) -> Path:
    path = tmp_path / "harness.toml"
    path.write_text(PRICED.format(budget=budget), encoding="utf-8")
    return path


def installed(path: Path) -> Settings:
    """The settings of ``path`` with its endpoints installed, as the command does."""
    settings = load_settings(path)
    install_endpoints(settings)
    return settings


def plan_json(runner: CliRunner, path: Path) -> dict[str, Any]:
    result = runner.invoke(main, ["plan", "--config", str(path), "--json"])
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def test_the_table_names_every_figure(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["plan", "--config", str(config(tmp_path))])

    assert result.exit_code == 0, result.output
    for words in ("Targets: 2", "default", "suite", "Rows per day", "paid", "Money"):
        assert words in result.stdout


def test_probes_per_hour_follow_each_tiers_interval(runner: CliRunner, tmp_path: Path) -> None:
    document = plan_json(runner, config(tmp_path))

    tiers = {t["name"]: t["probes_per_hour"] for t in document["tiers"]}
    # Two models of one endpoint: ping and math every minute, system every hour.
    assert tiers == {"default": 2 * 2 * 60, "suite": 2 * 1}
    assert document["rows_per_day"] == (240 + 2) * 24


def test_tokens_and_money_come_from_the_prompt_sizes_before_any_usage_is_stored(
    runner: CliRunner, tmp_path: Path
) -> None:
    paid = plan_json(runner, config(tmp_path))["endpoints"]["paid"]

    per_day = {"ping": 2 * 1440, "math": 2 * 1440, "system": 2 * 24}
    tokens_in = sum(n * estimated_usage(p, 32)[0] for p, n in per_day.items())
    tokens_out = sum(n * 32 for n in per_day.values())
    assert paid["tokens_from"] == "prompt sizes"
    assert paid["prompt_tokens_per_day"] == pytest.approx(tokens_in)
    assert paid["completion_tokens_per_day"] == pytest.approx(tokens_out)
    assert paid["cost_per_day"] == pytest.approx((tokens_in * 2 + tokens_out * 8) / 1e6)
    assert paid["cost_per_month"] == pytest.approx(paid["cost_per_day"] * 30)


def test_without_a_store_the_bytes_per_result_are_the_benchmarks(
    runner: CliRunner, tmp_path: Path
) -> None:
    document = plan_json(runner, config(tmp_path))

    assert document["bytes_per_result"] == BENCHMARK_BYTES_PER_RESULT["sqlite"]
    assert "benchmark" in document["bytes_per_result_from"]
    assert document["bytes_at_retention"] == document["bytes_per_day"] * 14


def test_a_discovering_endpoint_is_planned_with_the_models_the_store_has_seen(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = config(tmp_path)
    settings = load_settings(path)
    now = datetime.now(UTC)

    async def fill() -> None:
        async with open_store(settings.store_url) as store:
            await store.add_results([passed("local", m, now) for m in ("m1", "m2", "m3")])

    asyncio.run(fill())
    document = plan_json(runner, path)

    assert document["targets"] == 5
    assert "local" in document["targets_from"]


async def test_stored_usage_and_a_big_enough_store_replace_the_estimates(tmp_path: Path) -> None:
    settings = installed(config(tmp_path))
    now = datetime.now(UTC)
    results = [
        replace(
            passed("paid", "big", now - timedelta(seconds=i), prompt=prompt),
            prompt_tokens=40,
            completion_tokens=5,
        )
        for i in range(200)
        for prompt in ("ping", "math", "system")
    ]
    async with open_store(settings.store_url) as store:
        await store.add_results(results)
        costs = (await plan_costs(settings, store, now=now, min_results=600)).to_dict()
        footprint = await store.footprint()

    paid = costs["endpoints"]["paid"]
    assert paid["tokens_from"] == "stored usage"
    assert paid["prompt_tokens_per_day"] == pytest.approx(40 * paid["probes_per_day"])
    assert costs["bytes_per_result"] == pytest.approx(footprint.bytes / 600)
    assert "measured" in costs["bytes_per_result_from"]


def test_a_bad_configuration_exits_2_with_one_line(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[endpoints.paid]\nbase_url = 'http://127.0.0.1:9/v1'\nprice_in = -1\n")

    result = runner.invoke(main, ["plan", "--config", str(path)])

    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "endpoints.paid.price_in" in result.stderr


def test_serve_refuses_a_schedule_above_the_budget_naming_the_endpoint(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = config(tmp_path, budget=0.01)

    result = runner.invoke(main, ["--config", str(path), "serve", "--port", "0"])

    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "max_cost_per_day = 0.01" in result.stderr
    assert "paid " in result.stderr


async def test_a_schedule_within_the_budget_passes_the_preflight(tmp_path: Path) -> None:
    from harness.pipeline.scheduler import preflight

    await preflight(installed(config(tmp_path, budget=100.0)))


async def test_the_sandbox_costs_nothing_and_is_never_refused(tmp_path: Path) -> None:
    from harness.pipeline.scheduler import preflight

    await preflight(installed(config(tmp_path, budget=0.01)), sandbox=True)


def test_the_command_prints_the_plan_the_pipeline_makes(tmp_path: Path) -> None:
    settings = installed(config(tmp_path))
    direct = asyncio.run(plan_costs(settings, None))

    assert direct.to_dict()["tiers"] == plan_json(CliRunner(), config(tmp_path))["tiers"]


def test_nothing_to_plan_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "none.toml"
    path.write_text("".join(f"[providers.{n}]\nenabled = false\n" for n in PROVIDERS))

    result = runner.invoke(main, ["plan", "--config", str(path)])

    assert result.exit_code == 2
    assert result.stderr == "error: nothing to plan: every provider is disabled\n"
