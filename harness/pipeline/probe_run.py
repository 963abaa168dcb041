"""One run as ``harness probe`` asks for it, from the request to the gate's exit code.

:func:`probe_once` installs the chosen gpt4free providers (``--g4f``), checks the
provider names before any store is touched, opens the store of the run's source (when
its database server cannot be reached the run goes on and its results wait in the
spool), probes the targets live or in the sandbox or plays recorded cassettes back
(``--replay``), and judges the run by its gate (:mod:`harness.pipeline.gate`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, AsyncExitStack, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from harness.errors import StoreUnavailable
from harness.pipeline.gate import FailOn, gate_exit_code
from harness.pipeline.prune import prune_expired
from harness.pipeline.run import (
    RunSummary,
    chosen_providers,
    plan_run,
    probe_and_record,
    record,
    spool_of,
    thresholds_of,
)
from harness.result import ProbeResult, Source
from harness.settings.config import Settings
from harness.store import open_store
from harness.store.base import Store
from harness.targets.g4f import install
from harness.targets.sources import chosen_source, probe_source, source_store_url

log = logging.getLogger(__name__)

Progress = Callable[[int], AbstractContextManager[Callable[[ProbeResult], None]]]
"""Given the number of targets, a context that yields the callback seeing each result."""


class Replayer(Protocol):
    """Plays the cassettes under a directory back: :func:`harness.cassettes.replay`,
    handed in by the caller (cassettes sit above the pipeline)."""

    async def __call__(
        self, cassette_dir: Path, *, speed: float | None, settings: Settings
    ) -> list[ProbeResult]: ...


@dataclass(frozen=True)
class G4FChoice:
    """Which providers of the installed gpt4free to probe (see
    :func:`harness.targets.g4f.install`)."""

    names: tuple[str, ...] = ()
    every: bool = False
    include_auth: bool = False


@dataclass(frozen=True, kw_only=True)
class ProbeRequest:
    """What to probe, where, and what to keep; the options of ``harness probe``."""

    providers: Sequence[str] | None = None
    """Provider names; None: every enabled provider (or the gpt4free ones chosen)."""
    model: str | None = None
    prompts: Sequence[str] | None = None
    sandbox: bool = False
    replay_dir: Path | None = None
    """Play the cassettes under this directory back instead of probing."""
    keep: bool = True
    """Store the results and fold them into statuses and flags (``--no-store``: False)."""
    fail_on: FailOn = FailOn.FAILED
    g4f: G4FChoice | None = None

    @property
    def source(self) -> Source:
        """Whose answers the run gets: each source has its own store and flags."""
        return chosen_source(sandbox=self.sandbox, replay=self.replay_dir is not None)


@dataclass(frozen=True)
class ProbeRun:
    """What :func:`probe_once` did: the run's summary and the exit code of its gate."""

    summary: RunSummary
    exit_code: int


async def probe_once(
    settings: Settings,
    request: ProbeRequest,
    *,
    replayer: Replayer,
    progress: Progress | None = None,
    announce: Callable[[str], None] | None = None,
) -> ProbeRun:
    """Carry ``request`` out (see the module docstring); ``announce`` hears which gpt4free
    providers were chosen before they are probed, ``progress`` sees every result."""
    providers = request.providers
    if request.g4f is not None:
        installed = await install(
            settings.g4f,
            names=request.g4f.names,
            every=request.g4f.every,
            include_auth=request.g4f.include_auth,
            concurrency=settings.concurrency,
            per_provider=settings.per_provider,
        )
        providers = installed.names
        if announce is not None:
            announce(installed.summary())
    # Names are checked before the store is touched: a typo costs nothing.
    if request.replay_dir is None:
        chosen_providers(settings, providers)
    source = request.source
    url = source_store_url(settings, source)
    unreachable: StoreUnavailable | None = None

    async def open_kept(stack: AsyncExitStack) -> Store | None:
        nonlocal unreachable
        if not request.keep:
            return None
        try:
            return await stack.enter_async_context(open_store(url))
        except StoreUnavailable as exc:  # probe anyway; the results wait in the spool
            unreachable = exc
            return None

    async with AsyncExitStack() as stack:
        if request.replay_dir is not None:
            store = await open_kept(stack)
            results = await replayer(request.replay_dir, speed=1.0, settings=settings)
            summary = await record(settings, store, results, source=Source.REPLAY)
        else:
            await stack.enter_async_context(probe_source(settings, sandbox=request.sandbox))
            # Planned under the source's redirection: endpoints discover their models there.
            targets = await plan_run(settings, providers, request.model, request.prompts)
            store = await open_kept(stack)
            seeing = progress(len(targets)) if progress is not None else nullcontext(None)
            with seeing as on_result:
                summary = await probe_and_record(
                    settings, store, targets, source=source, on_result=on_result
                )
        if store is not None and summary.spooled == 0:
            # After the run's commit, in short batches (see harness.pipeline.prune).
            try:
                await prune_expired(store, settings.kept)
            except StoreUnavailable as exc:  # the run is stored; pruning waits for the next
                log.warning("pruning skipped: %s", exc)
    spool = spool_of(settings, source)
    if unreachable is not None:
        await asyncio.to_thread(spool.put, summary.results)
        summary = replace(summary, spooled=len(summary.results), store_error=str(unreachable))
    if held := spool.held():
        # This process ends here: what the spool's disk could not take goes with it.
        summary = replace(
            summary,
            spooled=max(summary.spooled - held, 0),
            store_error=f"{summary.store_error}; the spool cannot be written either, "
            f"so {held} results are not kept",
        )
    code = gate_exit_code(summary, request.fail_on, thresholds_of(settings))
    return ProbeRun(summary, code)
