"""``harness serve``: the live status page, probing every provider on a schedule."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from harness.cli.exits import EXIT_FAILED, fail, run
from harness.cli.options import (
    CONCURRENCY,
    DurationParam,
    alerts_option,
    all_sources_alerting,
    parse_faults,
    settings_of,
    store_option,
    vantage_option,
    with_changes,
)
from harness.errors import HarnessError
from harness.pipeline.prober_process import ProberLost
from harness.pipeline.scheduler import preflight


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind (loopback unless told otherwise).",
)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--interval",
    type=DurationParam(at_least="100ms"),
    help="Time between probes of each provider, e.g. 300, 5min or 1h; a plain number is "
    "seconds (default: serve.interval, 300).",
)
@click.option("--sandbox", is_flag=True, help="Probe in-process emulators instead of the hosts.")
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="PROVIDER=MODE[:ARG]",
    help="With --sandbox: start an emulator faulty (repeatable).",
)
@alerts_option
@click.option(
    "--concurrency",
    type=CONCURRENCY,
    default="auto",
    show_default=True,
    help="Probes in flight per run, or `auto` to adapt them to the event loop's lag.",
)
@store_option
@vantage_option
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    interval: float | None,
    sandbox: bool,
    faults: Sequence[str],
    alerts: bool,
    concurrency: int | str,
    store_url: str | None,
    vantage: str | None,
) -> None:
    """Serve the live status page, probing every provider on a schedule."""
    # Deferred: the web application is loaded only by the command that serves it.
    from harness.web.app import serve as serve_forever

    if faults and not sandbox:
        fail("--fault needs --sandbox")
    settings = settings_of(ctx)
    if interval:
        # The consensus window is two probing intervals: the one this server probes at.
        settings = settings.every(interval)
    settings = with_changes(
        settings,
        store=store_url,
        vantage=vantage,
        concurrency=concurrency,
        alerts=all_sources_alerting(settings) if alerts else None,
    )
    parsed = parse_faults(faults, list(settings.endpoints))
    run(preflight(settings, sandbox=sandbox))
    try:
        serve_forever(
            settings, host=host, port=port, interval=interval, sandbox=sandbox, faults=parsed
        )
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc}")
    except ProberLost as exc:  # the page would go stale: stop, for a supervisor to restart
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    except HarnessError as exc:
        fail(str(exc))
