"""``harness working``: the targets of every kind that work now, fastest first; as a
table, JSON, or a LiteLLM ``model_list`` of the working endpoints."""

from __future__ import annotations

import json

import click
import yaml
from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.cli.console import printable
from harness.cli.exits import run
from harness.cli.options import exclusive, settings_of
from harness.report.format import duration_ms, percent
from harness.report.litellm import model_list
from harness.report.working import TargetRow, fastest_first, read_targets
from harness.store import open_store


@click.command("working")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.option(
    "--format",
    "output",
    type=click.Choice(["table", "json", "litellm"]),
    default=None,
    help="table (default), json, or litellm: a LiteLLM model_list (YAML) of the working endpoints.",
)
@click.pass_context
def working(ctx: click.Context, as_json: bool, output: str | None) -> None:
    """The targets that work now (seed providers, endpoints, gpt4free), fastest p50 first."""
    exclusive({"--json": as_json, "--format": output})
    settings = settings_of(ctx)

    async def read() -> list[TargetRow]:
        async with open_store(settings.store_url) as store:
            return fastest_first(await read_targets(store, settings))

    rows = run(read())
    if as_json or output == "json":
        click.echo(json.dumps({"working": [r.to_dict() for r in rows]}, indent=2))
    elif output == "litellm":
        click.echo(yaml.safe_dump(model_list(rows, settings), sort_keys=False), nl=False)
    else:
        _table(rows)


def _table(rows: list[TargetRow]) -> None:
    table = Table(title=f"Working now, fastest first ({len(rows)})")
    for column in (
        "provider",
        "model",
        "kind",
        "protocol",
        "state",
        "ttfc p50",
        "p95",
        "uptime 24h",
    ):
        table.add_column(column)
    for r in rows:
        table.add_row(
            Text(printable(r.provider)),
            Text(printable(r.model)),
            r.kind,
            r.protocol,
            r.state.value,
            duration_ms(r.ttfc_p50_ms),
            duration_ms(r.ttfc_p95_ms),
            percent(r.uptime.ratio),
        )
    Console(highlight=False, soft_wrap=False).print(table)
