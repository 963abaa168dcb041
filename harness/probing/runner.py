"""Run many probes at once: plan the targets, bound the concurrency, retry blips.

:func:`plan` expands providers x models x prompts into :class:`Target` values (pure);
it is the one expansion, :func:`harness.pipeline.run.plan_targets` feeds it the settings.
:func:`run` probes them concurrently under a global and a per-provider limit, gives
each transport failure one retry after a short backoff, and returns a
:class:`RunOutcome`: the results in target order, and whether the harness's own host
was offline.

Offline handling: before probing, :class:`~harness.probing.connectivity.ConnectivityCheck`
resolves the hosts of the targets that need the internet and a few well-known names.
When none resolves, none of those targets is probed (they could only fail, slowly on
a blackholed resolver): each gets an inconclusive result right away
(``kind=harness_offline``, ``attempts=0``), and the outcome says ``offline=True`` with
the reason. Targets on this machine or a private network (a local Ollama, a LAN vLLM;
see ``connectivity.needs_internet``) are probed and counted all the same.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal

from harness import __version__
from harness.errors import ConfigError
from harness.policy.prompts import PROMPTS, chosen_for
from harness.probing.adaptive import AdaptiveLimit, adaptive_limit
from harness.probing.classify import is_retryable
from harness.probing.connectivity import ConnectivityCheck, needs_internet, target_hosts
from harness.probing.looplag import DEFAULT_BUDGET_MS
from harness.probing.probe import DEFAULT_DEADLINES, Deadlines, probe
from harness.result import FailureKind, ProbeResult, Source
from providers.base import AsyncGeneratorProvider
from providers.errors import ModelNotSupportedError

AUTO: Final = "auto"
"""``concurrency=AUTO``: adapt the probes in flight to keep the loop's lag in budget."""


@dataclass(frozen=True)
class Target:
    """One probe to make: a provider, one of its models, one prompt id."""

    provider: type[AsyncGeneratorProvider]
    model: str
    prompt: str


@dataclass(frozen=True)
class RunOutcome:
    """What :func:`run` returns: the results (in target order) and the host's state.

    ``offline`` is True when the connectivity check found no working name resolution;
    the results are then all inconclusive and ``reason`` says why.
    """

    results: list[ProbeResult]
    offline: bool = False
    reason: str | None = None
    run_id: str = ""


def plan(
    providers: Iterable[type[AsyncGeneratorProvider]],
    models: Sequence[str] | None = None,
    prompts: Sequence[str] | Literal["all"] = ("ping",),
) -> list[Target]:
    """provider x model x applicable prompt.

    ``models`` (names or aliases, resolved per provider) defaults to each provider's
    models; ``prompts`` is a list of prompt ids, or ``"all"`` (also accepted inside
    the list) for every prompt. A prompt a provider cannot answer (capabilities) is
    skipped for it; ``ping`` stands for a media provider's own prompt. Unknown prompt
    or model names raise :class:`ConfigError`.
    """
    chosen = prompt_ids(prompts)
    targets: list[Target] = []
    for provider in providers:
        try:
            names = [provider.resolve_model(m) for m in (models or provider.all_models())]
        except ModelNotSupportedError as exc:
            raise ConfigError(str(exc)) from None
        picked = chosen_for(provider, chosen)
        for model in dict.fromkeys(names):
            targets.extend(Target(provider, model, p) for p in picked)
    return targets


def prompt_ids(prompts: Sequence[str] | Literal["all"]) -> list[str]:
    """The prompt ids ``prompts`` names, ``all`` (alone or in the list) standing for every
    prompt; an unknown id raises :class:`ConfigError`."""
    chosen = list(PROMPTS) if prompts == "all" or "all" in prompts else list(prompts)
    unknown = [p for p in chosen if p not in PROMPTS]
    if unknown:
        raise ConfigError(f"unknown prompt(s) {unknown}; known: {', '.join(PROMPTS)}, all")
    return chosen


def offline_result(
    target: Target,
    reason: str,
    *,
    source: Source,
    vantage: str,
    concurrency: int,
    run_id: str,
) -> ProbeResult:
    """The inconclusive result recorded for a target not probed because the host is offline."""
    return ProbeResult(
        provider=target.provider.name(),
        model=target.model,
        prompt=target.prompt,
        started_at=datetime.now(UTC),
        ok=False,
        kind=FailureKind.HARNESS_OFFLINE,
        error=reason,
        source=source,
        vantage=vantage,
        version=__version__,
        concurrency=concurrency,
        attempts=0,
        run_id=run_id,
    )


async def run(
    targets: Sequence[Target],
    *,
    deadlines: Deadlines = DEFAULT_DEADLINES,
    concurrency: int | Literal["auto"] = 16,
    per_provider: int = 4,
    retry_backoff: float = 0.5,
    source: Source = Source.LIVE,
    vantage: str | None = None,
    connectivity: ConnectivityCheck | None = None,
    on_result: Callable[[ProbeResult], None] | None = None,
    secrets: Sequence[str] = (),
    proxies: Mapping[str, str] | None = None,
    lag_budget_ms: float = DEFAULT_BUDGET_MS,
    auto_ceiling: int | None = None,
) -> RunOutcome:
    """Probe every target concurrently and return the results in target order.

    At most ``concurrency`` probes run at once, at most ``per_provider`` per provider.
    With ``concurrency="auto"`` the number in flight adapts (:mod:`harness.probing.adaptive`)
    so that the event loop's lag stays under ``lag_budget_ms``, never past
    ``auto_ceiling`` (default: all the targets at once); each result then records the
    limit in force when it started.
    A transport failure (``is_retryable``) is probed once more after ``retry_backoff``
    seconds, and that second result (``attempts=2``) is kept. ``on_result`` sees each
    final result as soon as it is known. ``vantage`` defaults to this host's name;
    ``proxies`` maps provider names to proxy URLs; ``secrets`` are redacted from
    errors and samples. Redirection is taken from the caller's context.
    """
    ceiling = max(1, min(len(targets), auto_ceiling or len(targets)))
    with adaptive_limit(ceiling, lag_budget_ms) if concurrency == AUTO else nullcontext() as shared:
        return await _run(
            targets,
            adaptive=shared,
            concurrency=1 if concurrency == AUTO else int(concurrency),
            deadlines=deadlines,
            per_provider=per_provider,
            retry_backoff=retry_backoff,
            source=source,
            vantage=vantage,
            connectivity=connectivity,
            on_result=on_result,
            secrets=secrets,
            proxies=proxies,
        )


async def _run(
    targets: Sequence[Target],
    *,
    adaptive: AdaptiveLimit | None,
    concurrency: int,
    deadlines: Deadlines,
    per_provider: int,
    retry_backoff: float,
    source: Source,
    vantage: str | None,
    connectivity: ConnectivityCheck | None,
    on_result: Callable[[ProbeResult], None] | None,
    secrets: Sequence[str],
    proxies: Mapping[str, str] | None,
) -> RunOutcome:
    run_id = uuid.uuid4().hex
    where = vantage or socket.gethostname()
    fixed = adaptive.limit if adaptive is not None else concurrency
    offline: dict[int, ProbeResult] = {}
    reason: str | None = None
    if connectivity is not None and connectivity.enabled and targets:
        remote = [
            p for p in dict.fromkeys(t.provider for t in targets) if needs_internet(p, proxies)
        ]
        state = await connectivity.assess(target_hosts(remote, proxies)) if remote else None
        if state is not None and not state.online:
            reason = state.reason
            for index, target in enumerate(targets):
                if target.provider in remote:
                    offline[index] = offline_result(
                        target,
                        state.reason,
                        source=source,
                        vantage=where,
                        concurrency=fixed,
                        run_id=run_id,
                    )
            for result in offline.values():
                if on_result is not None:
                    on_result(result)
            if len(offline) == len(targets):
                return RunOutcome(
                    list(offline.values()), offline=True, reason=reason, run_id=run_id
                )

    overall = asyncio.Semaphore(fixed)
    by_provider = {t.provider.name(): asyncio.Semaphore(per_provider) for t in targets}

    async def one(target: Target, in_flight: int) -> ProbeResult:
        return await probe(
            target.provider,
            target.model,
            PROMPTS[target.prompt].build(),
            deadlines=deadlines,
            source=source,
            vantage=where,
            concurrency=in_flight,
            run_id=run_id,
            proxy=(proxies or {}).get(target.provider.name()),
            secrets=secrets,
        )

    async def attempt(target: Target) -> ProbeResult:
        # The provider's own limit first, so its queued probes hold no global slot.
        async with by_provider[target.provider.name()]:
            if adaptive is None:
                async with overall:
                    return await one(target, fixed)
            async with adaptive as limit:
                return await one(target, limit)

    async def probe_target(target: Target) -> ProbeResult:
        result = await attempt(target)
        if is_retryable(result.kind):
            await asyncio.sleep(retry_backoff)
            result = dataclasses.replace(await attempt(target), attempts=2)
        if on_result is not None:
            on_result(result)
        return result

    async with asyncio.TaskGroup() as group:
        tasks = {
            i: group.create_task(probe_target(t)) for i, t in enumerate(targets) if i not in offline
        }
    results = [offline[i] if i in offline else tasks[i].result() for i in range(len(targets))]
    return RunOutcome(results, offline=reason is not None, reason=reason, run_id=run_id)
