"""``harness store``: commands that work on stores themselves (registered by ``harness.cli``).

* ``harness store migrate --from SQLITE --to POSTGRESQL``: copy a SQLite store into a
  PostgreSQL database, in batches, resumable, with the counts verified at the end.

Exit codes: 0 done and verified; 1 the counts disagree; 2 bad input or an unusable store.
"""

from __future__ import annotations

import asyncio
import sys

import click

from harness.errors import HarnessError

EXIT_OK, EXIT_MISMATCH, EXIT_USAGE = 0, 1, 2


@click.group("store")
def store() -> None:
    """Work on result stores: copy one into another."""


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

    from .copy import copy_store, sqlite_source
    from .postgres import PostgresStore

    err = Console(stderr=True, highlight=False)
    if not destination.startswith(("postgresql://", "postgres://")):
        err.print("error: --to must be a PostgreSQL URL: postgresql://user@host/database")
        sys.exit(EXIT_USAGE)
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

    try:
        ok = asyncio.run(go())
    except HarnessError as exc:
        err.print(f"error: {exc}", markup=False)
        sys.exit(EXIT_USAGE)
    if not ok:
        err.print("error: the counts disagree (see the table)")
    sys.exit(EXIT_OK if ok else EXIT_MISMATCH)
