"""Which gpt4free providers to probe, wrapped as ``g4f.NAME`` and registered.

:func:`choose` is pure: from the loaded providers and the ``[g4f]`` settings it picks
the providers to probe and says why each other one was left out. By default it takes
those gpt4free marks ``working`` and not ``needs_auth``, never its base classes
(templates) nor providers of a kind the harness has no probe for (search, video),
whose flags therefore never change; ``every`` adds the ones marked
not working and those that failed to load (each probed, so its failure is recorded
with a kind); ``include_auth`` adds the ones needing credentials; explicit names (the
``include`` setting, or ``--g4f-provider``) take exactly those providers, whatever
gpt4free's flags say. ``exclude`` always wins.

:func:`install` loads gpt4free's providers (off the event loop, under deadlines),
chooses, wraps and registers them in ``providers.PROVIDERS``, so the runner, store,
status policy, page, badges and metrics treat them like every other provider. Told the
runner's concurrency, it grows the pool of gpt4free worker processes to the calls that
can be in flight at once (:func:`worker_count`) and waits for them to be ready, so no
probe's time to first chunk holds a worker's start.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from harness.errors import ConfigError
from harness.settings.g4f import G4FSettings
from providers import register
from providers.errors import MissingRequirementsError
from providers.gpt4free import (
    CHECKED,
    TEMPLATE,
    G4FInfo,
    G4FProvider,
    LoadFailure,
    load_all,
    provider_names,
    require,
    workers,
    wrap,
)

WARM_UP_S = 30.0
"""How long :func:`install` waits for new workers to have gpt4free imported."""

MAX_WORKERS = 32
"""The most gpt4free worker processes (each holds gpt4free, some 60 MB): beyond it, calls
wait for a worker, and that wait counts against their deadlines."""


@dataclass(frozen=True)
class Choice:
    """The providers to probe (gpt4free names, in gpt4free's order) and why others are not."""

    chosen: list[str]
    left_out: dict[str, str]


def choose(
    loaded: Mapping[str, G4FInfo | LoadFailure],
    settings: G4FSettings,
    *,
    names: Sequence[str] = (),
    every: bool = False,
    include_auth: bool = False,
) -> Choice:
    """Pick providers (see the module docstring); names are those :func:`check_names`
    accepted, in any letter case."""
    by_key = {name.lower(): name for name in loaded}
    explicit = list(names) or list(settings.include)
    wanted = {by_key[n.lower()] for n in explicit if n.lower() in by_key}
    excluded = {by_key[n.lower()] for n in settings.exclude if n.lower() in by_key}
    with_auth = include_auth or settings.include_auth
    chosen: list[str] = []
    left_out: dict[str, str] = {}
    for name, entry in loaded.items():
        if name in excluded:
            left_out[name] = "excluded"
        elif isinstance(entry, G4FInfo) and entry.capability == TEMPLATE:
            left_out[name] = "a base class, not a provider"
        elif isinstance(entry, G4FInfo) and entry.capability not in CHECKED:
            left_out[name] = f"{entry.capability} provider, no probe for it"
        elif wanted:
            if name in wanted:
                chosen.append(name)
            else:
                left_out[name] = "not named"
        elif isinstance(entry, LoadFailure):
            if every:
                chosen.append(name)
            else:
                left_out[name] = f"not loaded ({type(entry.error).__name__})"
        elif entry.needs_auth and not with_auth:
            left_out[name] = "needs auth"
        elif not entry.working and not every:
            left_out[name] = "marked not working"
        else:
            chosen.append(name)
    return Choice(chosen, left_out)


def check_names(known: Sequence[str], settings: G4FSettings, names: Sequence[str] = ()) -> None:
    """:class:`ConfigError` for a name (argument or setting) gpt4free does not have."""
    keys = {name.lower() for name in known}
    given = [*names, *settings.include, *settings.exclude, *settings.providers]
    unknown = sorted({n for n in given if n.lower() not in keys})
    if unknown:
        raise ConfigError(f"unknown g4f provider(s) {unknown}; known: {', '.join(known)}")


def wrapped(
    loaded: Mapping[str, G4FInfo | LoadFailure], chosen: Sequence[str], settings: G4FSettings
) -> list[type[G4FProvider]]:
    """The ``g4f.NAME`` provider classes of ``chosen``, configured from ``settings``."""
    classes = []
    for name in chosen:
        configured = settings.provider(name)
        try:
            classes.append(
                wrap(
                    loaded[name],
                    models=configured.models or (),
                    base_url=configured.base_url,
                    api_key_env=configured.api_key_env,
                )
            )
        except ValueError as exc:
            raise ConfigError(f"g4f.providers.{name}: {exc}") from None
    return classes


@dataclass(frozen=True)
class Installed:
    """What :func:`install` did: the registered providers and the left-out names."""

    providers: list[type[G4FProvider]]
    left_out: dict[str, str]

    @property
    def names(self) -> list[str]:
        """The registered providers' harness names (``g4f.NAME``)."""
        return [p.name() for p in self.providers]

    def summary(self) -> str:
        """One line: how many providers are probed, and why the others are not."""
        line = f"gpt4free {require()}: {len(self.providers)} provider(s) chosen"
        return line + (f"; left out: {_why(self.left_out)}" if self.left_out else "")


def require_g4f() -> str:
    """The installed gpt4free's version; :class:`ConfigError` (exit 2) with the install
    command when it is missing."""
    try:
        return require()
    except MissingRequirementsError as exc:
        raise ConfigError(str(exc)) from None


async def known_names(settings: G4FSettings) -> list[str]:
    """The provider names of the installed gpt4free; :class:`ConfigError` (exit 2) with
    the install command when gpt4free is missing."""
    require_g4f()
    try:
        return await provider_names(settings.load_timeout)
    except (ImportError, TimeoutError) as exc:
        raise ConfigError(f"cannot list gpt4free's providers: {exc}") from None


def worker_count(concurrency: int | Literal["auto"], per_provider: int, providers: int) -> int:
    """The gpt4free calls the runner can have in flight at once (``concurrency`` in all,
    ``per_provider`` each, over ``providers`` providers), within :data:`MAX_WORKERS`."""
    calls = per_provider * providers
    if concurrency != "auto":
        calls = min(calls, concurrency)
    return max(1, min(calls, MAX_WORKERS))


async def install(
    settings: G4FSettings,
    *,
    names: Sequence[str] = (),
    every: bool = False,
    include_auth: bool = False,
    concurrency: int | Literal["auto"] | None = None,
    per_provider: int = 1,
) -> Installed:
    """Load, choose, wrap and register gpt4free's providers (see the module docstring).

    With names given (``names`` or the ``include`` setting), only those are loaded: a
    module that calls out when imported is not imported unless asked for. With the
    runner's ``concurrency`` (and ``per_provider`` limit), the worker pool grows to it.
    """
    known = await known_names(settings)
    check_names(known, settings, names)
    explicit = {n.lower() for n in (names or settings.include)}
    wanted = [n for n in known if n.lower() in explicit] if explicit else known
    loaded = await load_all(wanted, settings.load_timeout)
    choice = choose(loaded, settings, names=names, every=every, include_auth=include_auth)
    if not choice.chosen:
        raise ConfigError("no g4f provider chosen: " + _why(choice.left_out))
    classes = wrapped(loaded, choice.chosen, settings)
    register(*classes)
    if concurrency is not None:
        pool = workers()
        pool.grow(worker_count(concurrency, per_provider, len(classes)))
        await pool.until_ready(WARM_UP_S)
    return Installed(classes, choice.left_out)


def _why(left_out: Mapping[str, str]) -> str:
    counts = Counter(left_out.values())
    return ", ".join(f"{n} {reason}" for reason, n in sorted(counts.items())) or "none found"
