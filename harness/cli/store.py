"""``harness store``: commands that look after result stores.

* ``harness store check``: read the whole store and check its integrity.
* ``harness store migrate --from SQLITE --to POSTGRESQL``: copy a SQLite store into a
  PostgreSQL database, in batches, resumable, with the counts verified at the end.

Exit codes: 0 done (and verified); 1 the store is damaged, or the copy's counts
disagree; 2 bad input or an unusable store.
"""

from __future__ import annotations

import sys

import click

from harness.cli.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail, run
from harness.cli.options import settings_of, source_from
from harness.errors import StoreDamagedError, StoreError
from harness.probing import eventloop
from harness.store import store_intact
from harness.targets.sources import source_store_url


@click.group("store")
def store() -> None:
    """Look after result stores: check one, copy one into another."""


@store.command("check")
@click.option("--sandbox", is_flag=True, help="Check the store of the emulators' results.")
@click.option("--replay", is_flag=True, help="Check the store of cassette replays.")
@click.pass_context
def check(ctx: click.Context, sandbox: bool, replay: bool) -> None:
    """Read the whole store and check its integrity (exit 1 when it is damaged).

    Opening the store checks it only after an unclean shutdown (a process that died
    with it open), since the full check reads every page; run this to check it now.
    """
    location = source_store_url(settings_of(ctx), source_from(sandbox, replay))
    try:
        sound = eventloop.run(store_intact(location))
    except StoreError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILED if isinstance(exc, StoreDamagedError) else EXIT_USAGE)
    if not sound:
        click.echo(f"{location}: DAMAGED (the integrity check found problems)", err=True)
        sys.exit(EXIT_FAILED)
    click.echo(f"{location}: ok")


@store.command("migrate")
@click.option(
    "--from",
    "source",
    required=True,
    metavar="SQLITE_URL",
    help="The SQLite store to copy: a file path or sqlite:///path.db (read, never written).",
)
@click.option(
    "--to",
    "destination",
    required=True,
    metavar="POSTGRES_URL",
    help="The PostgreSQL store to copy into: postgresql://user@host/database.",
)
@click.option(
    "--batch",
    default=5000,
    show_default=True,
    type=click.IntRange(1, 1_000_000),
    help="Rows per transaction.",
)
def migrate(source: str, destination: str, batch: int) -> None:
    """Copy every result, status and flip of a SQLite store into PostgreSQL.

    Each batch is committed with a record of how far the copy got, so running the same
    command again after an interruption resumes where it stopped. The row counts of
    both stores are compared at the end.
    """
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.table import Table

    from harness.store.copy import copy_store, sqlite_source
    from harness.store.postgres import PostgresStore

    if not destination.startswith(("postgresql://", "postgres://")):
        fail("--to must be a PostgreSQL URL: postgresql://user@host/database")
    err = Console(stderr=True, highlight=False)
    bar = Progress(
        TextColumn("{task.description:>8}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
    )
    tasks: dict[str, TaskID] = {}

    def advance(table: str, copied: int, total: int) -> None:
        if table not in tasks:
            tasks[table] = bar.add_task(table, total=total)
        bar.update(tasks[table], completed=copied, total=total)

    async def go() -> bool:
        path = sqlite_source(source)
        target = PostgresStore(destination)
        await target.open()
        try:
            with bar:
                report = await copy_store(path, target, batch=batch, progress=advance)
        finally:
            await target.close()
        table = Table(title=f"{path} -> {target.where}")
        for column in ("table", "source", "copied", "destination", "verified"):
            table.add_column(column, justify="right" if column != "table" else "left")
        for count in report.counts:
            table.add_row(
                count.table,
                f"{count.source:,}",
                f"{count.copied:,}",
                f"{count.destination:,}",
                "yes" if count.ok else "NO",
            )
        Console(highlight=False).print(table)
        return report.ok

    ok = run(go())
    if not ok:
        err.print("error: the counts disagree (see the table)")
    sys.exit(EXIT_OK if ok else EXIT_FAILED)
