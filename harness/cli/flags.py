"""``harness flags --write-source``: ship the measured working flags in provider source."""

from __future__ import annotations

import click

from harness.cli.exits import run
from harness.cli.options import settings_of
from harness.targets.flags import apply_source_patch, source_patch
from harness.targets.source_flags import flag_edits


@click.command()
@click.option(
    "--write-source",
    is_flag=True,
    required=True,
    expose_value=False,
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
def flags(ctx: click.Context, apply_patch: bool, for_g4f: bool) -> None:
    """Ship the measured working flags in the provider source code."""
    edits, root = run(flag_edits(settings_of(ctx), for_g4f=for_g4f))
    if apply_patch:
        apply_source_patch(edits)
        for edit in edits:
            click.echo(f"updated {edit.path}")
        if not edits:
            click.echo("provider sources already match the measured flags")
        return
    click.echo(source_patch(edits, root), nl=False)
