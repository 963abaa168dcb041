"""The ``harness`` command group: its global options, and every command added to it.

Each command lives in a module of its own (see :mod:`harness.cli`); exit codes are
those of :mod:`harness.cli.exits`.
"""

from __future__ import annotations

from pathlib import Path

import click

from harness import __version__
from harness.cli.alerts import alert
from harness.cli.bench import bench
from harness.cli.emulate import emulate
from harness.cli.exits import fail
from harness.cli.flags import flags
from harness.cli.g4f import g4f
from harness.cli.listing import list_command
from harness.cli.mcp import mcp
from harness.cli.plan import plan
from harness.cli.probe import probe
from harness.cli.record import record_command
from harness.cli.report import report
from harness.cli.serve import serve
from harness.cli.store import store
from harness.cli.working import working
from harness.errors import ConfigError
from harness.settings.config import load_settings
from harness.targets.endpoints import install_endpoints


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Settings file (default: $HARNESS_CONFIG or ./harness.toml if present).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the store and flags file live (default .harness/).",
)
@click.version_option(__version__, prog_name="harness")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, data_dir: Path | None) -> None:
    """Probe gpt4free-style chat providers, track their health, publish their status."""
    try:
        settings = load_settings(config_path)
        if data_dir is not None:
            settings = settings.with_overrides(data_dir=data_dir)
        install_endpoints(settings)
    except ConfigError as exc:
        fail(str(exc))
    for line in settings.deprecations:
        click.echo(line, err=True)
    ctx.obj = settings


main.add_command(alert)
main.add_command(bench)
main.add_command(emulate)
main.add_command(flags)
main.add_command(g4f)
main.add_command(list_command)
main.add_command(mcp)
main.add_command(plan)
main.add_command(probe)
main.add_command(record_command)
main.add_command(report)
main.add_command(serve)
main.add_command(store)
main.add_command(working)
