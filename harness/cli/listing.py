"""``harness list``: providers, models, aliases, capabilities and the measured flags."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from harness.cli.options import settings_of, source_from, source_options
from harness.targets.flags import read_model_states
from harness.targets.sources import SOURCE_NOTES, source_flags_file
from providers import PROVIDERS
from providers.flags import read_flags


@click.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of a table.")
@source_options("The flags")
@click.pass_context
def list_command(ctx: click.Context, as_json: bool, sandbox: bool, replay: bool) -> None:
    """Providers, models, aliases, capabilities and the measured working flags (live)."""
    settings = settings_of(ctx)
    source = source_from(sandbox, replay)
    note = SOURCE_NOTES[source]
    path = source_flags_file(settings, source)
    measured = read_flags(path)
    states = read_model_states(path)
    rows: list[dict[str, Any]] = []
    for name, provider in PROVIDERS.items():
        rows.append(
            {
                "provider": name,
                "working": measured.get(name, provider.working),
                "measured": name in measured,
                "enabled": settings.provider(name).enabled,
                # A discovering endpoint knows its models only after a run: the last
                # run's, from the flags file, until then.
                "models": {
                    m: states.get(name, {}).get(m, "unknown")
                    for m in provider.all_models() or states.get(name, {})
                },
                "aliases": dict(getattr(provider, "model_aliases", {})),
                "supports_stream": provider.supports_stream,
                "supports_system_message": provider.supports_system_message,
                "supports_message_history": provider.supports_message_history,
            }
        )
    if as_json:
        click.echo(json.dumps({"source": source.value, "note": note, "providers": rows}, indent=2))
        return
    table = Table(title=f"Providers ({source.value}: {note})" if note else "Providers")
    for column in ("provider", "working", "models (state)", "aliases", "capabilities"):
        table.add_column(column)
    for row in rows:
        flag = ("yes" if row["working"] else "no") + ("" if row["measured"] else " (shipped)")
        if not row["enabled"]:
            flag += ", disabled"
        caps = [c for c in ("stream", "system_message", "message_history") if row[f"supports_{c}"]]
        table.add_row(
            row["provider"],
            flag,
            "\n".join(f"{m} ({s})" for m, s in row["models"].items()),
            "\n".join(f"{a} -> {m}" for a, m in row["aliases"].items()) or "-",
            ", ".join(caps) or "-",
        )
    Console(highlight=False, soft_wrap=False).print(table)
