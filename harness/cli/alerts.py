"""``harness alert``: send a test message everywhere, or list recent deliveries.

Exit codes: 0 fine; 1 a test message failed somewhere; 2 no destination configured, or
a bad setting or store.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.alerts.trial import TrialDelivery, send_trial
from harness.cli.console import printable
from harness.cli.exits import EXIT_FAILED, EXIT_OK, run
from harness.cli.options import exclusive, settings_of
from harness.policy.deliveries import AlertDelivery
from harness.report.format import iso
from harness.settings.config import Settings
from harness.store import open_store


@click.command("alert")
@click.option("--test", "send_test", is_flag=True, help="Send a test message to every destination.")
@click.option("--list", "list_recent", is_flag=True, help="Show the most recent deliveries.")
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="With --list: how many deliveries.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead.")
@click.pass_context
def alert(
    ctx: click.Context, send_test: bool, list_recent: bool, limit: int, as_json: bool
) -> None:
    """Test the alert destinations (--test) or show what was sent (--list).

    Destinations are Apprise URLs from $HARNESS_ALERT_URLS (or [alerts] urls_env)
    and [alerts] urls in the settings file.
    """
    exclusive({"--test": send_test, "--list": list_recent}, required=True)
    settings = settings_of(ctx)
    if send_test:
        trial = run(send_trial(settings))
        _print_trial(trial, as_json)
        sys.exit(EXIT_OK if all(d.sent for d in trial) else EXIT_FAILED)
    run(_list(settings, limit, as_json))


def _print_trial(trial: list[TrialDelivery], as_json: bool) -> None:
    if as_json:
        rows = [{"destination": d.destination, "sent": d.sent, "error": d.error} for d in trial]
        click.echo(json.dumps({"destinations": rows}, indent=2))
        return
    for d in trial:
        click.echo(f"sent    {d.destination}" if d.sent else f"FAILED  {d.destination}: {d.error}")


async def _list(settings: Settings, limit: int, as_json: bool) -> None:
    async with open_store(settings.store_url) as store:
        deliveries = await store.alert_deliveries(limit=limit)
    if as_json:
        click.echo(json.dumps({"deliveries": [_row(d) for d in deliveries]}, indent=2))
        return
    if not deliveries:
        click.echo("no alerts recorded yet")
        return
    table = Table(title="Recent alert deliveries")
    for column in ("created", "kind", "destination", "state", "tries", "title", "last error"):
        table.add_column(column)
    for d in deliveries:
        cells = (iso(d.created_at), d.kind, d.label, d.state, str(d.attempts), d.title)
        table.add_row(*(Text(printable(c)) for c in (*cells, d.last_error or "")))
    Console(highlight=False, soft_wrap=False).print(table)


def _row(d: AlertDelivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "created_at": iso(d.created_at),
        "kind": d.kind.value,
        "destination": d.label,
        "state": d.state.value,
        "attempts": d.attempts,
        "sent_at": iso(d.sent_at) or None,
        "next_attempt_at": iso(d.next_attempt_at) or None,
        "last_error": d.last_error,
        "title": d.title,
        "body": d.body,
        "targets": [
            {"provider": t.provider, "model": t.model, "state": t.state.value} for t in d.targets
        ],
        "flip_ids": list(d.flip_ids),
    }
