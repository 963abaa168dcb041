"""What the commands share on the way in: option decorators, parameter types, the rule
for options that exclude each other, and the settings a command runs with.

Every refusal exits 2 through :func:`harness.cli.exits.fail`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import click

from harness.cli.exits import fail
from harness.durations import parse_duration
from harness.errors import ConfigError
from harness.result import Source
from harness.settings.config import Settings
from harness.targets.sources import chosen_source

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

STORE_ENV = "HARNESS_STORE"


def settings_of(ctx: click.Context) -> Settings:
    """The settings ``harness`` loaded for this invocation (``--config``, ``--data-dir``)."""
    settings = ctx.obj
    assert isinstance(settings, Settings)
    return settings


def with_changes(settings: Settings, **changes: Any) -> Settings:
    """``settings`` with command-line values applied; a bad one exits 2."""
    try:
        return settings.with_overrides(**changes)
    except ConfigError as exc:
        fail(str(exc))


def all_sources_alerting(settings: Settings) -> dict[str, Any]:
    """The alert settings with sandbox and replay runs alerting too (``--alerts``)."""
    return settings.alerts.model_copy(update={"all_sources": True}).model_dump()


def exclusive(options: Mapping[str, object], *, required: bool = False) -> None:
    """Exit 2 when more than one of ``options`` (as spelled on the command line -> the
    value given) is set, or, when one is ``required``, when not exactly one is.

    ``exclusive({"--sandbox": sandbox, "--replay": replay})`` refuses both with
    ``--sandbox and --replay exclude each other``; with ``required=True`` it asks
    ``give either --sandbox or --replay`` instead.
    """
    given = sum(1 for value in options.values() if value)
    names = list(options)
    if required and given != 1:
        fail(f"give either {' or '.join(names)}")
    if given > 1:
        listed = ", ".join(names[:-1])
        fail(f"{listed} and {names[-1]} exclude each other")


def source_options(what: str) -> Decorator:
    """The --sandbox / --replay switches of the commands that read a source's results."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        command = click.option(
            "--replay", "replay", is_flag=True, help=f"{what} of cassette replays, not live ones."
        )(command)
        return click.option(
            "--sandbox", is_flag=True, help=f"{what} of the emulators, not live ones."
        )(command)

    return decorate


def source_from(sandbox: bool, replay: bool) -> Source:
    """The source :func:`source_options` chose (live when neither); both exit 2."""
    exclusive({"--sandbox": sandbox, "--replay": replay})
    return chosen_source(sandbox=sandbox, replay=replay)


def target_options(prompt_default: str) -> Decorator:
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


def one_provider_for_a_model(model: str | None, provider_names: Sequence[str]) -> None:
    """Exit 2 when ``-m`` comes without exactly one ``-p``."""
    if model and len(provider_names) != 1:
        fail("-m/--model needs exactly one -p/--provider")


class _Concurrency(click.ParamType):  # type: ignore[type-arg]
    """A number of probes in flight (1-10000), or ``auto``."""

    name = "N|auto"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value == "auto":
            return value
        return click.IntRange(1, 10_000).convert(value, param, ctx)


CONCURRENCY = _Concurrency()


class DurationParam(click.ParamType):  # type: ignore[type-arg]
    """A command-line duration, given to the command as a number of seconds.

    ``at_least`` is the shortest duration accepted, written in the same grammar.
    """

    name = "duration"

    def __init__(self, *, at_least: str) -> None:
        self.at_least = at_least
        self.minimum = parse_duration(at_least)

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        """Seconds, as a float; a usage error naming the grammar or the minimum otherwise."""
        try:
            duration = parse_duration(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        if duration < self.minimum:
            self.fail(f"expected at least {self.at_least}; got {value!r}", param, ctx)
        return duration.total_seconds()


store_option = click.option(
    "--store",
    "store_url",
    envvar=STORE_ENV,
    metavar="URL",
    help="Where results live: a SQLite path, sqlite:///path.db or postgresql://user@host/db "
    f"(default: `store` in harness.toml, else DATA_DIR/harness.db; env ${STORE_ENV}).",
)
vantage_option = click.option(
    "--vantage",
    metavar="NAME",
    help="Name of this probing host, on every result (default: `vantage` in settings, "
    "else the host name).",
)
alerts_option = click.option(
    "--alerts",
    is_flag=True,
    help="Send alerts for sandbox and replay runs too (live runs always send them).",
)


def parse_faults(texts: Sequence[str], endpoints: Sequence[str] = ()) -> dict[str, Any]:
    """``PROVIDER=MODE[:ARG]`` options as provider -> FaultSpec (``PROVIDER`` may be a
    configured endpoint or ``openai``); a bad one exits 2."""
    # Deferred: the emulator package is loaded only by the commands that emulate.
    from harness.emulator import parse_fault

    parsed = {}
    for text in texts:
        try:
            name, spec = parse_fault(text, endpoints)
        except ValueError as exc:
            fail(str(exc))
        parsed[name] = spec
    return parsed
