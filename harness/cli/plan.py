"""``harness plan``: what the configuration as it stands costs, before it runs: targets,
probes per hour per tier, rows and disk, tokens and money per endpoint."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.cli.console import printable
from harness.cli.exits import fail, run
from harness.cli.options import settings_of
from harness.errors import ConfigError
from harness.pipeline.costs import plan_of
from harness.policy.costs import MONTH_DAYS, CostPlan
from harness.report.format import money, rate, size, span
from harness.settings.config import Settings, load_settings
from harness.targets.endpoints import install_endpoints


@click.command("plan")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Settings file to plan (default: the one harness loaded).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_context
def plan(ctx: click.Context, config_path: Path | None, as_json: bool) -> None:
    """What the configuration costs: probes, rows, disk, tokens and money, per day."""
    settings = _settings(ctx, config_path)
    costs = run(plan_of(settings))
    if as_json:
        click.echo(json.dumps(costs.to_dict(), indent=2))
    else:
        _print(costs)


def _settings(ctx: click.Context, config_path: Path | None) -> Settings:
    if config_path is None:
        return settings_of(ctx)
    try:
        settings = load_settings(config_path)
        data_dir = ctx.find_root().params.get("data_dir")
        if data_dir is not None:
            settings = settings.with_overrides(data_dir=data_dir)
        install_endpoints(settings)
    except ConfigError as exc:
        fail(str(exc))
    return settings


def _print(costs: CostPlan) -> None:
    console = Console(highlight=False, soft_wrap=False)
    console.print(f"Targets: {costs.targets} (from {costs.targets_from})")
    tiers = Table(title="Probes per tier")
    for column in ("tier", "every", "probes per run", "probes per hour"):
        tiers.add_column(column, justify="left" if column == "tier" else "right")
    for tier in costs.tiers:
        tiers.add_row(
            Text(printable(tier.name)), span(tier.interval), f"{tier.probes:,}", rate(tier.per_hour)
        )
    tiers.add_row("all", "", "", rate(costs.probes_per_hour), style="bold")
    console.print(tiers)
    kept = (
        "raw results kept forever: the store grows without bound"
        if costs.bytes_at_retention is None or costs.retention_days is None
        else f"{size(costs.bytes_at_retention)} at the retention of "
        f"{costs.retention_days:g} days of raw results"
    )
    console.print(
        f"Rows per day: {costs.rows_per_day:,.0f}; at {costs.bytes_per_result:.0f} bytes per "
        f"result ({costs.bytes_from}): {size(costs.bytes_per_day)} a day, {kept}"
    )
    if not costs.endpoints:
        console.print("Tokens: no configured endpoint (the bundled providers are free)")
        return
    table = Table(title="Per endpoint, per day: probes, tokens in and out, money")
    for column in ("endpoint", "models", "probes", "in", "out"):
        table.add_column(column, justify="left" if column == "endpoint" else "right")
    for column in ("tokens from", "a day", f"{MONTH_DAYS} days"):
        table.add_column(column, justify="left" if column == "tokens from" else "right")
    for e in costs.endpoints:
        day = e.cost_per_day
        table.add_row(
            Text(printable(e.name)),
            str(e.targets),
            f"{e.probes_per_day:,.0f}",
            f"{e.prompt_tokens_per_day:,.0f}",
            f"{e.completion_tokens_per_day:,.0f}",
            e.tokens_from,
            money(day),
            money(None if day is None else day * MONTH_DAYS),
        )
    console.print(table)
    if costs.cost_per_day is not None:
        budget = costs.max_cost_per_day
        limit = "" if budget is None else f" (serve.max_cost_per_day = {budget:g}"
        limit += ": over it, serve refuses to start)" if costs.over_budget else ")" if limit else ""
        console.print(
            f"Money: {money(costs.cost_per_day)} a day, "
            f"{money(costs.cost_per_month)} a month{limit}"
        )
