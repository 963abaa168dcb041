"""``harness bench``: measure fan-out, timing, the store and page at scale, and replay."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from harness.bench.sizes import BENCHMARKS, FULL, QUICK
from harness.cli.exits import fail

if TYPE_CHECKING:  # the web app is imported only when a benchmark serves it
    from aiohttp import web

    from harness.settings.config import Settings


def _benchmarks(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...]:
    if value is None:
        return BENCHMARKS
    names = tuple(dict.fromkeys(n.strip() for n in value.split(",") if n.strip()))
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown or not names:
        raise click.BadParameter(
            f"{', '.join(unknown) or 'nothing'} is not one of {', '.join(BENCHMARKS)}"
        )
    return names


@click.command("bench")
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON document on stdout, nothing else."
)
@click.option("--quick", is_flag=True, help="Tiny sizes (CI, tests): seconds, not minutes.")
@click.option(
    "--only",
    callback=_benchmarks,
    metavar="NAMES",
    help=f"Comma-separated subset of {','.join(BENCHMARKS)} (default: all).",
)
@click.option(
    "--large-store",
    is_flag=True,
    help="Also measure the page over a history ten times larger (10,000,000 results).",
)
@click.option(
    "--cassettes",
    "cassette_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the cassettes to replay are (default: ./cassettes, else the checkout's; "
    "with none, the replay benchmark is skipped).",
)
@click.option(
    "--store",
    "store_url",
    metavar="POSTGRES_URL",
    help="Run the store benchmark on this PostgreSQL database (in a scratch schema, "
    "dropped afterwards) instead of a temporary SQLite file.",
)
def bench(
    as_json: bool,
    quick: bool,
    only: tuple[str, ...],
    large_store: bool,
    cassette_dir: Path | None,
    store_url: str | None,
) -> None:
    """Measure probe fan-out, timing accuracy, the store and page at scale, and replay.

    Fan-out and timing run the harness and a bare aiohttp loop against the same
    emulators (in a second process); the store and page use a temporary directory.
    Progress goes to stderr.
    """
    from rich.console import Console

    from harness.bench.suite import run_benchmarks
    from harness.bench.tables import tables
    from harness.errors import HarnessError

    errors = Console(stderr=True, highlight=False)
    if store_url is not None and not store_url.startswith(("postgresql://", "postgres://")):
        fail("--store must be a PostgreSQL URL: postgresql://user@host/db")
    try:
        document = run_benchmarks(
            QUICK if quick else FULL,
            only=only,
            cassette_dir=cassette_dir,
            quick=quick,
            large_store=large_store,
            store=store_url,
            say=lambda line: errors.print(line, style="dim", markup=False),
            page_app=_page_app,
        )
    except HarnessError as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps(document, indent=2))
        return
    console = Console(highlight=False)
    for item in tables(document):
        console.print(item)


def _page_app(settings: Settings) -> web.Application:
    """The live page's app serving the store of ``settings``, not probing: what the
    overview benchmark serves."""
    from harness.web.app import build_app

    return build_app(
        settings, settings.store_url, interval=300, sandbox=False, admin_token=None, schedule=False
    )
