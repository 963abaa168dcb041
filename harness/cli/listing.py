"""``harness list``: providers, models, aliases, capabilities and the measured flags."""

from __future__ import annotations

import json
from dataclasses import asdict

import click
from rich.console import Console
from rich.table import Table

from harness.cli.options import settings_of, source_from, source_options
from harness.report.format import flag_word
from harness.targets.catalog import provider_catalog
from harness.targets.sources import SOURCE_NOTES


@click.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of a table.")
@source_options("The flags")
@click.pass_context
def list_command(ctx: click.Context, as_json: bool, sandbox: bool, replay: bool) -> None:
    """Providers, models, aliases, capabilities and the measured working flags (live)."""
    source = source_from(sandbox, replay)
    note = SOURCE_NOTES[source]
    entries = provider_catalog(settings_of(ctx), source)
    if as_json:
        rows = [asdict(entry) for entry in entries]
        click.echo(json.dumps({"source": source.value, "note": note, "providers": rows}, indent=2))
        return
    table = Table(title=f"Providers ({source.value}: {note})" if note else "Providers")
    for column in ("provider", "working", "models (state)", "aliases", "capabilities"):
        table.add_column(column)
    for entry in entries:
        flag = flag_word(entry.working)
        if not entry.measured:
            flag += " (shipped)"
        elif entry.working is None:
            flag += f" (shipped: {flag_word(entry.shipped)})"
        if not entry.enabled:
            flag += ", disabled"
        table.add_row(
            entry.provider,
            flag,
            "\n".join(f"{m} ({s})" for m, s in entry.models.items()),
            "\n".join(f"{a} -> {m}" for a, m in entry.aliases.items()) or "-",
            ", ".join([entry.capability, *entry.capabilities]),
        )
    Console(highlight=False, soft_wrap=False).print(table)
