"""``harness store``: commands that look after the result store itself."""

from __future__ import annotations

import sys

import click

from harness.config import Settings
from harness.errors import StoreDamagedError, StoreError
from harness.eventloop import run

EXIT_OK, EXIT_DAMAGED, EXIT_USAGE = 0, 1, 2


@click.group("store")
def store() -> None:
    """Look after the result store."""


async def _integrity(location: str) -> bool:
    from . import SQLiteStore, make_store

    store = make_store(location)
    if isinstance(store, SQLiteStore) and not store.path.is_file():
        raise StoreError(f"there is no store at {store.path}")  # checking must not create one
    await store.open()
    try:
        return await store.integrity_ok()
    finally:
        await store.close()


@store.command("check")
@click.option("--sandbox", is_flag=True, help="Check the store of the emulators' results.")
@click.option("--replay", is_flag=True, help="Check the store of cassette replays.")
@click.pass_context
def check(ctx: click.Context, sandbox: bool, replay: bool) -> None:
    """Read the whole store and check its integrity (exit 1 when it is damaged).

    Opening the store checks it only after an unclean shutdown (a process that died
    with it open), since the full check reads every page; run this to check it now.
    """
    from harness.sources import chosen_source, source_store_url

    settings = ctx.obj
    assert isinstance(settings, Settings)
    if sandbox and replay:
        click.echo("error: --sandbox and --replay exclude each other", err=True)
        sys.exit(EXIT_USAGE)
    location = source_store_url(settings, chosen_source(sandbox=sandbox, replay=replay))
    try:
        sound = run(_integrity(location))
    except StoreError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_DAMAGED if isinstance(exc, StoreDamagedError) else EXIT_USAGE)
    if not sound:
        click.echo(f"{location}: DAMAGED (the integrity check found problems)", err=True)
        sys.exit(EXIT_DAMAGED)
    click.echo(f"{location}: ok")
