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
    help="Print a patch setting `working = True/False` in the provider modules "
    "(only for providers measured working or not working; unknown ones keep their flag).",
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
    patch = run(flag_edits(settings_of(ctx), for_g4f=for_g4f))
    if not patch.edits:
        click.echo(patch.why_empty(), err=True)
        return
    if apply_patch:
        apply_source_patch(patch.edits)
        for edit in patch.edits:
            click.echo(f"updated {edit.path}")
        return
    click.echo(source_patch(patch.edits, patch.root), nl=False)
