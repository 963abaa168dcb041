"""``harness report``: render a source's store as pages, JSON, Markdown and badges."""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli.exits import run
from harness.cli.options import (
    settings_of,
    source_from,
    source_options,
    store_option,
    with_changes,
)
from harness.report import write_report
from harness.result import Source
from harness.settings.config import Settings
from harness.store import open_store
from harness.targets.sources import source_store_url


@click.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output directory (default: reports/, reports/sandbox/ or reports/replay/).",
)
@source_options("The report")
@store_option
@click.pass_context
def report(
    ctx: click.Context, out_dir: Path | None, sandbox: bool, replay: bool, store_url: str | None
) -> None:
    """Render index.html, feed.atom, status.json, status.md and badges from the (live) store."""
    settings = with_changes(settings_of(ctx), store=store_url)
    source = source_from(sandbox, replay)
    out = out_dir or (Path("reports") if source is Source.LIVE else Path("reports", source.value))
    for path in run(_render(settings, source, out)):
        click.echo(str(path))


async def _render(settings: Settings, source: Source, out: Path) -> list[Path]:
    async with open_store(source_store_url(settings, source)) as store:
        return await write_report(store, out, settings=settings, source=source)
