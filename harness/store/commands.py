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
@click.pass_context
def check(ctx: click.Context) -> None:
    """Read the whole store and check its integrity (exit 1 when it is damaged).

    Opening the store checks it only after an unclean shutdown (a process that died
    with it open), since the full check reads every page; run this to check it now.
    """
    settings = ctx.obj
    assert isinstance(settings, Settings)
    location = settings.store_url
    try:
        sound = run(_integrity(location))
    except StoreError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_DAMAGED if isinstance(exc, StoreDamagedError) else EXIT_USAGE)
    if not sound:
        click.echo(f"{location}: DAMAGED (the integrity check found problems)", err=True)
        sys.exit(EXIT_DAMAGED)
    click.echo(f"{location}: ok")
