"""``harness probe``: probe providers with canned prompts; record, update statuses and flags."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import click

from harness.cli import console
from harness.cli.exits import fail, run
from harness.cli.options import (
    CONCURRENCY,
    DurationParam,
    alerts_option,
    all_sources_alerting,
    exclusive,
    one_provider_for_a_model,
    settings_of,
    store_option,
    target_options,
    vantage_option,
    with_changes,
)
from harness.pipeline.gate import FailOn
from harness.pipeline.probe_run import G4FChoice, ProbeRequest, probe_once
from harness.result import ProbeResult
from harness.settings.config import Settings


@click.command()
@click.option("--all", "all_providers", is_flag=True, help="Probe every enabled provider.")
@target_options(prompt_default="ping, from settings")
@click.option("--upstream", help="Send every provider request to this base URL instead.")
@click.option("--sandbox", is_flag=True, help="Probe the built-in emulators, in-process.")
@click.option(
    "--replay",
    "replay_dir",
    is_flag=False,
    flag_value="cassettes",
    default=None,
    metavar="[DIR]",
    help="Replay recorded cassettes (default dir: cassettes/).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print exactly one JSON document on stdout, nothing else.",
)
@click.option(
    "--concurrency",
    type=CONCURRENCY,
    help="Probes in flight in all, or `auto` to adapt them to the event loop's lag.",
)
@click.option(
    "--timeout",
    type=DurationParam(at_least="1ms"),
    help="Total deadline per probe, e.g. 90s or 2min (a plain number is seconds).",
)
@click.option("--no-store", is_flag=True, help="Do not record results, statuses or flags.")
@click.option(
    "--fail-on",
    type=click.Choice([f.value for f in FailOn]),
    default=FailOn.FAILED.value,
    show_default=True,
    help="Exit 1 when: a probed target is down (not working), degraded (not up, or a pass "
    "missed an objective), any probe failed or was inconclusive, or never.",
)
@alerts_option
@click.option(
    "--g4f",
    "g4f",
    is_flag=True,
    help="Probe the installed gpt4free's providers (g4f.NAME); with --all, those marked "
    "not working too.",
)
@click.option(
    "--g4f-provider",
    "g4f_providers",
    multiple=True,
    metavar="NAME",
    help="With --g4f: this gpt4free provider only (repeatable).",
)
@click.option(
    "--g4f-include-auth", is_flag=True, help="With --g4f: also the providers that need auth."
)
@store_option
@vantage_option
@click.pass_context
def probe(
    ctx: click.Context,
    all_providers: bool,
    provider_names: tuple[str, ...],
    model: str | None,
    prompt_ids: tuple[str, ...],
    upstream: str | None,
    sandbox: bool,
    replay_dir: str | None,
    as_json: bool,
    concurrency: int | str | None,
    timeout: float | None,
    no_store: bool,
    fail_on: str,
    alerts: bool,
    g4f: bool,
    g4f_providers: tuple[str, ...],
    g4f_include_auth: bool,
    store_url: str | None,
    vantage: str | None,
) -> None:
    """Probe providers with canned prompts; record, update statuses and flags."""
    if (g4f_providers or g4f_include_auth) and not g4f:
        fail("--g4f-provider and --g4f-include-auth need --g4f")
    if g4f:
        if problem := _g4f_problem(provider_names, model, upstream, sandbox, replay_dir):
            fail(problem)
    else:
        exclusive({"--all": all_providers, "-p NAME": provider_names}, required=True)
    one_provider_for_a_model(model, provider_names)
    exclusive({"--upstream": upstream, "--sandbox": sandbox, "--replay": replay_dir})
    settings = settings_of(ctx)
    deadlines = None
    if timeout:
        # The whole probe within --timeout: no phase may be given longer than that.
        phases = ("connect", "first_chunk", "stall")
        cut = {name: min(getattr(settings.deadlines, name), timeout) for name in phases}
        deadlines = settings.deadlines.model_copy(update={"total": timeout, **cut})
    settings = with_changes(
        settings,
        concurrency=concurrency,
        upstream=upstream,
        store=store_url,
        vantage=vantage,
        deadlines=deadlines.model_dump() if deadlines else None,
        alerts=all_sources_alerting(settings) if alerts else None,
    )
    request = ProbeRequest(
        providers=list(provider_names) or None,
        model=model,
        prompts=list(prompt_ids) or None,
        sandbox=sandbox,
        replay_dir=Path(replay_dir) if replay_dir else None,
        keep=not no_store,
        fail_on=FailOn(fail_on),
        g4f=G4FChoice(g4f_providers, all_providers, g4f_include_auth) if g4f else None,
    )
    done = run(
        probe_once(
            settings,
            request,
            replayer=_replay_cassettes,
            progress=partial(console.progress, enabled=not as_json),
            announce=None if as_json else partial(click.echo, err=True),
        )
    )
    summary = done.summary
    if summary.store_error is not None:
        click.echo(f"warning: {summary.store_error}; {summary.spooled} results spooled", err=True)
    if as_json:
        click.echo(console.json_document(summary, exit_code=done.exit_code, fail_on=fail_on))
    else:
        console.print_summary(summary)
    sys.exit(done.exit_code)


async def _replay_cassettes(
    cassette_dir: Path, *, speed: float | None, settings: Settings
) -> list[ProbeResult]:
    """:func:`harness.cassettes.replay`, loaded only when a run replays."""
    # Deferred: vcrpy and the cassette player cost every other command their start-up.
    from harness.cassettes import replay

    return await replay(cassette_dir, speed=speed, settings=settings)


def _g4f_problem(
    provider_names: Sequence[str],
    model: str | None,
    upstream: str | None,
    sandbox: bool,
    replay_dir: str | None,
) -> str | None:
    """What is wrong with ``harness probe --g4f``'s other options, or None.

    gpt4free's providers open their own connections: the harness's redirection
    (``--upstream``, ``--sandbox``) cannot reach them (``base_url`` in ``[g4f.providers]``
    can), and cassettes do not hold them.
    """
    if provider_names or model:
        return "--g4f chooses providers with --g4f-provider NAME, not -p/-m"
    if upstream or sandbox or replay_dir:
        return (
            "--g4f cannot be combined with --upstream, --sandbox or --replay; "
            "point a provider elsewhere with base_url in [g4f.providers.NAME]"
        )
    return None
