"""``harness g4f ...``: the commands about the installed gpt4free's providers.

Every g4f command needs the optional extra; without it, it prints how to install it
and exits 2.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.cli.console import printable
from harness.cli.exits import fail, run
from harness.cli.options import settings_of
from harness.errors import ConfigError
from harness.report.g4f_table import TableRow, providers_table, read_table
from harness.report.g4f_working import Working, read_working, working_document
from harness.store import open_store
from harness.targets.g4f import require_g4f


@click.group("g4f")
def g4f() -> None:
    """The providers of the installed gpt4free (needs: pip install -e '.[g4f]')."""
    try:
        require_g4f()
    except ConfigError as exc:
        fail(str(exc))


@g4f.command("working")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_context
def working(ctx: click.Context, as_json: bool) -> None:
    """The gpt4free providers and models that work now: since when, p50 ttfc (24 h)."""
    settings = settings_of(ctx)
    now = datetime.now(UTC)

    async def read() -> Working:
        async with open_store(settings.store_url) as store:
            return await read_working(store, now)

    working = run(read())
    if as_json:
        click.echo(json.dumps(working_document(working, now, require_g4f()), indent=2))
        return
    rows = working.providers
    table = Table(title=f"gpt4free providers working now ({len(rows)})")
    for column in ("provider", "since", "models (state, p50 ttfc)"):
        table.add_column(column)
    for row in rows:
        models = "\n".join(
            printable(f"{m.model} ({m.state}, {_ms(m.ttfc_p50_ms)})") for m in row.models
        )
        table.add_row(
            Text(printable(row.name)), row.since.strftime("%Y-%m-%d %H:%M UTC"), Text(models)
        )
    console = Console(highlight=False, soft_wrap=False)
    console.print(table)
    tally = working.tally()
    console.print(
        f"{len(tally['working'])} working, {len(tally['not_working'])} not working, "
        f"{len(tally['unknown'])} unknown (nothing conclusive measured: flags stay as shipped)"
    )


@g4f.command("table")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the table to this file instead of standard output.",
)
@click.pass_context
def table(ctx: click.Context, output: Path | None) -> None:
    """gpt4free's providers table (Markdown), its status measured: working, not
    working or unknown, since when, p50 ttfc."""
    settings = settings_of(ctx)
    now = datetime.now(UTC)

    async def read() -> tuple[list[TableRow], dict[str, str]]:
        async with open_store(settings.store_url) as store:
            return await read_table(store, settings.g4f, now)

    rows, left_out = run(read())
    text = providers_table(rows, left_out, generated_at=now, g4f_version=require_g4f())
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {output} ({len(rows)} providers)", err=True)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"
