"""``harness probe``: probe providers with canned prompts; record, update statuses and flags."""

from __future__ import annotations

import asyncio
import sys
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import click

from harness.cli import console
from harness.cli.exits import fail, run
from harness.cli.g4f import check_probe_options, require_g4f
from harness.cli.options import (
    CONCURRENCY,
    alerts_option,
    all_sources_alerting,
    exclusive,
    one_provider_for_a_model,
    settings_of,
    store_option,
    target_options,
    vantage_option,
)
from harness.errors import ConfigError, StoreUnavailable
from harness.pipeline.gate import FailOn, gate_exit_code
from harness.pipeline.run import (
    chosen_providers,
    plan_run,
    probe_and_record,
    record,
    spool_of,
    thresholds_of,
)
from harness.result import Source
from harness.settings.config import Settings
from harness.store import open_store
from harness.store.base import Store
from harness.targets.sources import chosen_source, probe_source, source_store_url


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
@click.option("--timeout", type=click.FloatRange(min=0.001), help="Total deadline per probe, s.")
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
        require_g4f()
        if problem := check_probe_options(provider_names, model, upstream, sandbox, replay_dir):
            fail(problem)
    else:
        exclusive({"--all": all_providers, "-p NAME": provider_names}, required=True)
    one_provider_for_a_model(model, provider_names)
    exclusive({"--upstream": upstream, "--sandbox": sandbox, "--replay": replay_dir})
    settings = settings_of(ctx)
    try:
        deadlines = settings.deadlines.model_copy(update={"total": timeout}) if timeout else None
        settings = settings.with_overrides(
            concurrency=concurrency,
            upstream=upstream,
            store=store_url,
            vantage=vantage,
            deadlines=deadlines.model_dump() if deadlines else None,
            alerts=all_sources_alerting(settings) if alerts else None,
        )
    except ConfigError as exc:
        fail(str(exc))
    code = run(
        _probe(
            settings,
            providers=list(provider_names) or None,
            model=model,
            prompts=list(prompt_ids) or None,
            sandbox=sandbox,
            replay_dir=Path(replay_dir) if replay_dir else None,
            keep=not no_store,
            as_json=as_json,
            fail_on=FailOn(fail_on),
            g4f=(
                {"names": g4f_providers, "every": all_providers, "include_auth": g4f_include_auth}
                if g4f
                else None
            ),
        )
    )
    sys.exit(code)


async def _probe(
    settings: Settings,
    *,
    providers: list[str] | None,
    model: str | None,
    prompts: list[str] | None,
    sandbox: bool,
    replay_dir: Path | None,
    keep: bool,
    as_json: bool,
    fail_on: FailOn,
    g4f: dict[str, Any] | None = None,
) -> int:
    if g4f is not None:
        # Deferred: gpt4free's catalogue is loaded only when asked for.
        from harness.targets.g4f import install

        installed = await install(settings.g4f, **g4f)
        providers = installed.names
        if not as_json:
            click.echo(installed.summary(), err=True)

    # Names are checked before the store is touched: a typo costs nothing.
    if replay_dir is None:
        chosen_providers(settings, providers)
    # Each source has its own store: emulator and cassette answers never touch live flags.
    source = chosen_source(sandbox=sandbox, replay=bool(replay_dir))
    url = source_store_url(settings, source)
    unreachable: StoreUnavailable | None = None

    async def open_kept(stack: AsyncExitStack) -> Store | None:
        nonlocal unreachable
        if not keep:
            return None
        try:
            return await stack.enter_async_context(open_store(url))
        except StoreUnavailable as exc:  # probe anyway; the results wait in the spool
            unreachable = exc
            return None

    async with AsyncExitStack() as stack:
        if replay_dir is not None:
            # Deferred: vcrpy and the cassette player are loaded only to replay.
            from harness.cassettes import replay

            store = await open_kept(stack)
            results = await replay(replay_dir, speed=1.0, settings=settings)
            summary = await record(settings, store, results, source=Source.REPLAY)
        else:
            await stack.enter_async_context(probe_source(settings, sandbox=sandbox))
            # Planned under the source's redirection: endpoints discover their models there.
            targets = await plan_run(settings, providers, model, prompts)
            store = await open_kept(stack)
            with console.progress(len(targets), enabled=not as_json) as advance:
                summary = await probe_and_record(
                    settings, store, targets, source=source, on_result=advance
                )
    if unreachable is not None:
        await asyncio.to_thread(spool_of(settings, source).put, summary.results)
        click.echo(f"warning: {unreachable}; {len(summary.results)} results spooled", err=True)
    code = gate_exit_code(summary, fail_on, thresholds_of(settings))
    if as_json:
        click.echo(console.json_document(summary, exit_code=code, fail_on=fail_on.value))
    else:
        console.print_summary(summary)
    return code
