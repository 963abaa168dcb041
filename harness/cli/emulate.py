"""``harness emulate``: serve emulators of the providers' upstream APIs."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from harness.cli.exits import fail
from harness.cli.options import parse_faults, settings_of


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port",
    default=8765,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to bind (0 picks a free one).",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="PROVIDER=MODE[:ARG]",
    help=(
        "Inject a fault, e.g. AutonomousAI=http_429:5, openai=http_500, "
        "anthropic=overloaded or gemini=safety_block (repeatable)."
    ),
)
@click.pass_context
def emulate(ctx: click.Context, host: str, port: int, faults: Sequence[str]) -> None:
    """Serve emulators of every provider's upstream API on their real paths, an
    OpenAI-compatible API at /v1 (fault name `openai`), Anthropic's Messages API at
    /v1/messages (fault name `anthropic`) and Gemini's API at /v1beta (fault name
    `gemini`); a configured endpoint NAME gets them all under /NAME (fault name NAME)."""
    # Deferred: the emulator's servers are loaded only by the commands that emulate.
    from harness.emulator import serve

    endpoints = list(settings_of(ctx).endpoints)
    parsed = parse_faults(faults, endpoints)

    def ready(url: str) -> None:
        click.echo(f"emulating the upstream APIs at {url}  (HARNESS_UPSTREAM={url})", err=False)
        click.echo(f"OpenAI-compatible API at {url}/v1", err=False)
        click.echo(f"Anthropic Messages API at {url}/v1/messages", err=False)
        click.echo(f"Gemini API at {url}/v1beta", err=False)
        sys.stdout.flush()

    try:
        serve(host, port, parsed, ready, endpoints)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc}")
