"""``harness g4f ...``: the commands about the installed gpt4free's providers.

Every g4f command needs the optional extra; without it, it prints how to install it
and exits 2.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.cli.console import printable
from harness.cli.exits import fail, run
from harness.cli.options import settings_of
from harness.errors import ConfigError
from harness.report.g4f_working import WorkingProvider, read_working, working_document
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

    async def read() -> list[WorkingProvider]:
        async with open_store(settings.store_url) as store:
            return await read_working(store, now)

    rows = run(read())
    if as_json:
        click.echo(json.dumps(working_document(rows, now, require_g4f()), indent=2))
        return
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
    Console(highlight=False, soft_wrap=False).print(table)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"
