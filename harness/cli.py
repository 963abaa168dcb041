"""The ``harness`` command: a thin click layer over the async pipeline.

Exit codes: 0 every probe passed; 1 a probe failed or was inconclusive; 2 a usage or
configuration error (bad flag, bad harness.toml, unknown provider/model/prompt,
unusable store).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from . import __version__
from .config import Settings, load_settings
from .errors import ConfigError, HarnessError

T = TypeVar("T")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def _run(make: Callable[[], Any]) -> Any:
    """Run a coroutine, turning harness errors into a message and exit code 2."""
    try:
        return asyncio.run(make())
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
    except ConfigError as exc:
        _fail(str(exc))
    ctx.obj = settings


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


@main.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of a table.")
@click.pass_context
def list_command(ctx: click.Context, as_json: bool) -> None:
    """Providers, models, aliases, capabilities and the measured working flags."""
    from providers import PROVIDERS
    from providers.flags import read_flags

    from .flags import flags_file, read_model_states

    settings = _settings(ctx)
    path = flags_file(settings.data_dir)
    measured = read_flags(path)
    states = read_model_states(path)
    rows = []
    for name, provider in PROVIDERS.items():
        rows.append(
            {
                "provider": name,
                "working": measured.get(name, provider.working),
                "measured": name in measured,
                "enabled": settings.provider(name).enabled,
                "models": {
                    m: states.get(name, {}).get(m, "unknown") for m in provider.all_models()
                },
                "aliases": dict(getattr(provider, "model_aliases", {})),
                "supports_stream": provider.supports_stream,
                "supports_system_message": provider.supports_system_message,
                "supports_message_history": provider.supports_message_history,
            }
        )
    if as_json:
        click.echo(json.dumps({"providers": rows}, indent=2))
        return
    from rich.table import Table

    table = Table(title="Providers")
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
    help="Inject a fault, e.g. AutonomousAI=http_429:5 (repeatable).",
)
def emulate(host: str, port: int, faults: Sequence[str]) -> None:
    """Serve emulators of every provider's upstream API on their real paths."""
    from .emulator import parse_fault, serve

    parsed = {}
    for text in faults:
        try:
            name, spec = parse_fault(text)
        except ValueError as exc:
            _fail(str(exc))
        parsed[name] = spec

    def ready(url: str) -> None:
        click.echo(f"emulating the upstream APIs at {url}  (HARNESS_UPSTREAM={url})", err=False)
        sys.stdout.flush()

    try:
        serve(host, port, parsed, ready)
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
@click.pass_context
def flags(ctx: click.Context, write_source: bool, apply_patch: bool) -> None:
    """Ship the measured working flags in the provider source code."""
    from providers.flags import read_flags

    from .flags import apply_source_patch, flags_file, source_edits, source_patch

    path = flags_file(_settings(ctx).data_dir)
    measured = read_flags(path)
    if not measured:
        _fail(f"no measured flags in {path}: run `harness probe` first")
    edits = source_edits(measured)
    if apply_patch:
        apply_source_patch(edits)
        for edit in edits:
            click.echo(f"updated {edit.path}")
        if not edits:
            click.echo("provider sources already match the measured flags")
        return
    click.echo(source_patch(edits, Path.cwd()), nl=False)
