"""The ``harness`` command: a thin click layer over the async pipeline.

Exit codes: 0 every probe passed; 1 a probe failed or was inconclusive (``harness probe
--fail-on`` chooses another outcome, see :mod:`harness.pipeline.gate`); 2 a usage or
configuration error (bad flag, bad harness.toml, unknown provider/model/prompt,
unusable store).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from harness import __version__
from harness.durations import DurationParam
from harness.errors import ConfigError, HarnessError
from harness.pipeline.gate import FailOn
from harness.settings.config import Settings, load_settings
from harness.targets.endpoints import install_endpoints

if TYPE_CHECKING:
    from harness.result import Source
    from harness.store.base import Store

T = TypeVar("T")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def _run(make: Callable[[], Any]) -> Any:
    """Run a coroutine, turning harness errors into a message and exit code 2."""
    from harness.probing.eventloop import run

    try:
        return run(make())
    except HarnessError as exc:
        _fail(str(exc))


def _settings(ctx: click.Context) -> Settings:
    settings = ctx.obj
    assert isinstance(settings, Settings)
    return settings


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
        _fail(str(exc))
    ctx.obj = settings


def _parse_faults(texts: Sequence[str], endpoints: Sequence[str] = ()) -> dict[str, Any]:
    """``PROVIDER=MODE[:ARG]`` options as provider -> FaultSpec (``PROVIDER`` may be a
    configured endpoint or ``openai``); a bad one exits 2."""
    from harness.emulator import parse_fault

    parsed = {}
    for text in texts:
        try:
            name, spec = parse_fault(text, endpoints)
        except ValueError as exc:
            _fail(str(exc))
        parsed[name] = spec
    return parsed


class _Concurrency(click.ParamType):  # type: ignore[type-arg]
    """A number of probes in flight (1-10000), or ``auto``."""

    name = "N|auto"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value == "auto":
            return value
        return click.IntRange(1, 10_000).convert(value, param, ctx)


CONCURRENCY = _Concurrency()


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def _source_options(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The --sandbox / --replay switches of the commands that read a source's results."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        command = click.option(
            "--replay", "replay", is_flag=True, help=f"{what} of cassette replays, not live ones."
        )(command)
        return click.option(
            "--sandbox", is_flag=True, help=f"{what} of the emulators, not live ones."
        )(command)

    return decorate


def _chosen_source(sandbox: bool, replay: bool) -> Source:
    from harness.targets.sources import chosen_source

    if sandbox and replay:
        _fail("--sandbox and --replay exclude each other")
    return chosen_source(sandbox=sandbox, replay=replay)


@main.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of a table.")
@_source_options("The flags")
@click.pass_context
def list_command(ctx: click.Context, as_json: bool, sandbox: bool, replay: bool) -> None:
    """Providers, models, aliases, capabilities and the measured working flags (live)."""
    from harness.targets.flags import read_model_states
    from harness.targets.sources import SOURCE_NOTES, source_flags_file
    from providers import PROVIDERS
    from providers.flags import read_flags

    settings = _settings(ctx)
    source = _chosen_source(sandbox, replay)
    note = SOURCE_NOTES[source]
    path = source_flags_file(settings, source)
    measured = read_flags(path)
    states = read_model_states(path)
    rows: list[dict[str, Any]] = []
    for name, provider in PROVIDERS.items():
        rows.append(
            {
                "provider": name,
                "working": measured.get(name, provider.working),
                "measured": name in measured,
                "enabled": settings.provider(name).enabled,
                # A discovering endpoint knows its models only after a run: the last
                # run's, from the flags file, until then.
                "models": {
                    m: states.get(name, {}).get(m, "unknown")
                    for m in provider.all_models() or states.get(name, {})
                },
                "aliases": dict(getattr(provider, "model_aliases", {})),
                "supports_stream": provider.supports_stream,
                "supports_system_message": provider.supports_system_message,
                "supports_message_history": provider.supports_message_history,
            }
        )
    if as_json:
        click.echo(json.dumps({"source": source.value, "note": note, "providers": rows}, indent=2))
        return
    from rich.table import Table

    table = Table(title=f"Providers ({source.value}: {note})" if note else "Providers")
    for column in ("provider", "working", "models (state)", "aliases", "capabilities"):
        table.add_column(column)
    for row in rows:
        flag = ("yes" if row["working"] else "no") + ("" if row["measured"] else " (shipped)")
        if not row["enabled"]:
            flag += ", disabled"
        caps = [c for c in ("stream", "system_message", "message_history") if row[f"supports_{c}"]]
        table.add_row(
            row["provider"],
            flag,
            "\n".join(f"{m} ({s})" for m, s in row["models"].items()),
            "\n".join(f"{a} -> {m}" for a, m in row["aliases"].items()) or "-",
            ", ".join(caps) or "-",
        )
    _console().print(table)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port",
    default=8765,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to bind (0 picks a free one).",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="PROVIDER=MODE[:ARG]",
    help="Inject a fault, e.g. AutonomousAI=http_429:5 or openai=http_500 (repeatable).",
)
@click.pass_context
def emulate(ctx: click.Context, host: str, port: int, faults: Sequence[str]) -> None:
    """Serve emulators of every provider's upstream API on their real paths, and an
    OpenAI-compatible API at /v1 (fault name `openai`; a configured endpoint NAME at
    /NAME/v1, fault name NAME)."""
    from harness.emulator import serve

    endpoints = list(_settings(ctx).endpoints)
    parsed = _parse_faults(faults, endpoints)

    def ready(url: str) -> None:
        click.echo(f"emulating the upstream APIs at {url}  (HARNESS_UPSTREAM={url})", err=False)
        click.echo(f"OpenAI-compatible API at {url}/v1", err=False)
        sys.stdout.flush()

    try:
        serve(host, port, parsed, ready, endpoints)
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port}: {exc}")


@main.command()
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
    from harness.result import Source
    from harness.targets.flags import apply_source_patch, source_edits, source_patch
    from harness.targets.sources import source_flags_file
    from providers.flags import read_flags

    path = source_flags_file(_settings(ctx), Source.LIVE)
    measured = read_flags(path)
    if for_g4f:
        from harness.cli.g4f import g4f_source_edits, require_g4f
        from providers.gpt4free import PREFIX

        require_g4f()
        measured = {name: flag for name, flag in measured.items() if name.startswith(PREFIX)}
    if not measured:
        command = "harness probe --g4f" if for_g4f else "harness probe"
        _fail(f"no measured flags in {path}: run `{command}` first")
    if for_g4f:
        edits, root = _run(lambda: g4f_source_edits(_settings(ctx), measured))
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


STORE_ENV = "HARNESS_STORE"

_store_option = click.option(
    "--store",
    "store_url",
    envvar=STORE_ENV,
    metavar="URL",
    help="Where results live: a SQLite path, sqlite:///path.db or postgresql://user@host/db "
    f"(default: `store` in harness.toml, else DATA_DIR/harness.db; env ${STORE_ENV}).",
)
_vantage_option = click.option(
    "--vantage",
    metavar="NAME",
    help="Name of this probing host, on every result (default: `vantage` in settings, "
    "else the host name).",
)


def _target_options(prompt_default: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The -p/--provider, -m/--model and --prompt options that choose what to probe."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        options = [
            click.option(
                "-p",
                "--provider",
                "provider_names",
                multiple=True,
                metavar="NAME",
                help="This provider only (repeatable; case-insensitive).",
            ),
            click.option("-m", "--model", help="This model (or alias) only; needs one -p."),
            click.option(
                "--prompt",
                "prompt_ids",
                multiple=True,
                metavar="ID",
                help=f"Canned prompt id, or `all` (repeatable; default: {prompt_default}).",
            ),
        ]
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


_alerts_option = click.option(
    "--alerts",
    is_flag=True,
    help="Send alerts for sandbox and replay runs too (live runs always send them).",
)


def _all_sources(settings: Settings) -> dict[str, Any]:
    """The alert settings with sandbox and replay runs alerting too (``--alerts``)."""
    return settings.alerts.model_copy(update={"all_sources": True}).model_dump()


@main.command()
@click.option("--all", "all_providers", is_flag=True, help="Probe every enabled provider.")
@_target_options(prompt_default="ping, from settings")
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
@_alerts_option
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
@_store_option
@_vantage_option
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
        _fail("--g4f-provider and --g4f-include-auth need --g4f")
    if g4f:
        from harness.cli.g4f import check_probe_options, require_g4f

        require_g4f()
        if problem := check_probe_options(provider_names, model, upstream, sandbox, replay_dir):
            _fail(problem)
    elif all_providers == bool(provider_names):
        _fail("give either --all or -p NAME")
    if model and len(provider_names) != 1:
        _fail("-m/--model needs exactly one -p/--provider")
    if sum(map(bool, (upstream, sandbox, replay_dir))) > 1:
        _fail("--upstream, --sandbox and --replay exclude each other")
    settings = _settings(ctx)
    try:
        deadlines = settings.deadlines.model_copy(update={"total": timeout}) if timeout else None
        settings = settings.with_overrides(
            concurrency=concurrency,
            upstream=upstream,
            store=store_url,
            vantage=vantage,
            deadlines=deadlines.model_dump() if deadlines else None,
            alerts=_all_sources(settings) if alerts else None,
        )
    except ConfigError as exc:
        _fail(str(exc))
    code = _run(
        lambda: _probe(
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
    from contextlib import AsyncExitStack

    from harness.cli import console
    from harness.errors import StoreUnavailable
    from harness.pipeline.gate import gate_exit_code
    from harness.pipeline.run import (
        chosen_providers,
        plan_run,
        probe_and_record,
        record,
        spool_of,
        thresholds_of,
    )
    from harness.result import Source
    from harness.store import open_store
    from harness.targets.sources import chosen_source, probe_source, source_store_url

    if g4f is not None:
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


@main.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output directory (default: reports/, reports/sandbox/ or reports/replay/).",
)
@_source_options("The report")
@_store_option
@click.pass_context
def report(
    ctx: click.Context, out_dir: Path | None, sandbox: bool, replay: bool, store_url: str | None
) -> None:
    """Render index.html, status.json, status.md and badges from the (live) store."""
    from harness.report import write_report
    from harness.result import Source
    from harness.store import open_store
    from harness.targets.sources import source_store_url

    settings = _with(_settings(ctx), store=store_url)
    source = _chosen_source(sandbox, replay)
    out = out_dir or (Path("reports") if source is Source.LIVE else Path("reports", source.value))

    async def render() -> list[Path]:
        async with open_store(source_store_url(settings, source)) as store:
            return await write_report(store, out, settings=settings, source=source)

    for path in _run(render):
        click.echo(str(path))


@main.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind (loopback unless told otherwise).",
)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--interval",
    type=DurationParam(at_least="100ms"),
    help="Time between probes of each provider, e.g. 300, 5min or 1h; a plain number is "
    "seconds (default: serve.interval, 300).",
)
@click.option("--sandbox", is_flag=True, help="Probe in-process emulators instead of the hosts.")
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="PROVIDER=MODE[:ARG]",
    help="With --sandbox: start an emulator faulty (repeatable).",
)
@_alerts_option
@click.option(
    "--concurrency",
    type=CONCURRENCY,
    default="auto",
    show_default=True,
    help="Probes in flight per run, or `auto` to adapt them to the event loop's lag.",
)
@_store_option
@_vantage_option
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    interval: float | None,
    sandbox: bool,
    faults: Sequence[str],
    alerts: bool,
    concurrency: int | str,
    store_url: str | None,
    vantage: str | None,
) -> None:
    """Serve the live status page, probing every provider on a schedule."""
    from harness.store import open_store
    from harness.targets.sources import chosen_source, source_store_url
    from harness.web.app import serve as serve_forever

    if faults and not sandbox:
        _fail("--fault needs --sandbox")
    settings = _settings(ctx)
    # The consensus window is two probing intervals: the one this server probes at.
    every = {**settings.serve.model_dump(), "interval": interval} if interval else None
    settings = _with(
        settings, store=store_url, vantage=vantage, serve=every, concurrency=concurrency
    )
    if alerts:
        settings = settings.with_overrides(alerts=_all_sources(settings))
    parsed = _parse_faults(faults, list(settings.endpoints))
    if settings.g4f.enabled and not sandbox:
        from harness.cli.g4f import require_g4f

        require_g4f()

    async def check_store() -> None:
        async with open_store(source_store_url(settings, chosen_source(sandbox=sandbox))):
            pass  # a corrupt or unwritable store is refused now, not in the first job

    _run(check_store)
    try:
        serve_forever(
            settings, host=host, port=port, interval=interval, sandbox=sandbox, faults=parsed
        )
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port}: {exc}")


@main.command("record")
@_target_options(prompt_default="all")
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
    from harness.cassettes import check_drift, record
    from harness.cli.console import printable
    from harness.pipeline.run import plan_targets

    if sandbox and upstream:
        _fail("--sandbox and --upstream exclude each other")
    if model and len(provider_names) != 1:
        _fail("-m/--model needs exactly one -p/--provider")
    settings = _settings(ctx)
    try:
        settings = settings.with_overrides(upstream=upstream)
        targets = plan_targets(
            settings, list(provider_names) or None, model, list(prompt_ids) or ["all"]
        )
    except ConfigError as exc:
        _fail(str(exc))

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

    sys.exit(_run(go))


def _with(settings: Settings, **changes: Any) -> Settings:
    """``settings`` with command-line values applied; a bad one exits 2."""
    try:
        return settings.with_overrides(**changes)
    except ConfigError as exc:
        _fail(str(exc))


def _register_bench() -> None:
    from harness.cli.bench import bench

    main.add_command(bench)


_register_bench()


def _register_alert() -> None:
    from harness.cli.alerts import alert

    main.add_command(alert)


_register_alert()


def _register_store() -> None:
    from harness.cli.store import store

    main.add_command(store)


_register_store()


def _register_g4f() -> None:
    from harness.cli.g4f import g4f

    main.add_command(g4f)


_register_g4f()
