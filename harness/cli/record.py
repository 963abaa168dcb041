"""``harness record``: record cassettes of the providers, or check how they drifted."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from harness.cli.console import printable
from harness.cli.exits import fail, run
from harness.cli.options import (
    exclusive,
    one_provider_for_a_model,
    settings_of,
    target_options,
    with_changes,
)
from harness.errors import ConfigError
from harness.pipeline.run import plan_targets


@click.command("record")
@target_options(prompt_default="all")
@click.option("--sandbox", is_flag=True, help="Record from the in-process emulators.")
@click.option("--upstream", help="Record from a mirror at this base URL.")
@click.option(
    "--out",
    "out_dir",
    default="cassettes",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Cassette directory.",
)
@click.option(
    "--check",
    is_flag=True,
    help="Record afresh without saving and report how the responses' shape drifted.",
)
@click.pass_context
def record_command(
    ctx: click.Context,
    provider_names: tuple[str, ...],
    model: str | None,
    prompt_ids: tuple[str, ...],
    sandbox: bool,
    upstream: str | None,
    out_dir: Path,
    check: bool,
) -> None:
    """Record cassettes of every provider (live unless --sandbox or --upstream)."""
    # Deferred: vcrpy and the recorder are loaded only by the command that records.
    from harness.cassettes import check_drift, record

    exclusive({"--sandbox": sandbox, "--upstream": upstream})
    one_provider_for_a_model(model, provider_names)
    settings = with_changes(settings_of(ctx), upstream=upstream)
    try:
        targets = plan_targets(
            settings, list(provider_names) or None, model, list(prompt_ids) or ["all"]
        )
    except ConfigError as exc:
        fail(str(exc))

    async def go() -> int:
        if check:
            drift = await check_drift(
                targets, against=out_dir, upstream=upstream, sandbox=sandbox, settings=settings
            )
            for line in drift.lines():
                click.echo(printable(line))
            return drift.exit_code
        report = await record(
            targets, out_dir=out_dir, upstream=upstream, sandbox=sandbox, settings=settings
        )
        for outcome in report.outcomes:
            name = f"{outcome.provider}/{outcome.model}--{outcome.prompt}"
            said = f"saved {outcome.path}" if outcome.saved else f"NOT saved: {outcome.problem}"
            click.echo(printable(f"{name}: {said}"))
        click.echo(f"{len(report.saved)} recorded, {len(report.failed)} failed")
        return report.exit_code

    sys.exit(run(go()))
