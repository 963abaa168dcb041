"""``harness flags --write-source``: ship the measured working flags in provider source."""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli.exits import fail, run
from harness.cli.g4f import g4f_source_edits, require_g4f
from harness.cli.options import settings_of
from harness.result import Source
from harness.targets.flags import apply_source_patch, source_edits, source_patch
from harness.targets.sources import source_flags_file
from providers.flags import read_flags
from providers.gpt4free import PREFIX


@click.command()
@click.option(
    "--write-source",
    is_flag=True,
    required=True,
    help="Print a patch setting `working = True/False` in the provider modules.",
)
@click.option(
    "--apply", "apply_patch", is_flag=True, help="Apply that patch instead of printing it."
)
@click.option(
    "--g4f",
    "for_g4f",
    is_flag=True,
    help="Patch the installed gpt4free's provider modules with the g4f.NAME flags instead.",
)
@click.pass_context
def flags(ctx: click.Context, write_source: bool, apply_patch: bool, for_g4f: bool) -> None:
    """Ship the measured working flags in the provider source code."""
    path = source_flags_file(settings_of(ctx), Source.LIVE)
    measured = read_flags(path)
    if for_g4f:
        require_g4f()
        measured = {name: flag for name, flag in measured.items() if name.startswith(PREFIX)}
    if not measured:
        command = "harness probe --g4f" if for_g4f else "harness probe"
        fail(f"no measured flags in {path}: run `{command}` first")
    if for_g4f:
        edits, root = run(g4f_source_edits(settings_of(ctx), measured))
    else:
        edits, root = source_edits(measured), Path.cwd()
    if apply_patch:
        apply_source_patch(edits)
        for edit in edits:
            click.echo(f"updated {edit.path}")
        if not edits:
            click.echo("provider sources already match the measured flags")
        return
    click.echo(source_patch(edits, root), nl=False)
