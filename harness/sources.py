"""Where probes go: the real hosts, a configured upstream, or the in-process emulators.

:func:`probe_source` sets the redirection (``providers.upstream``) for the duration
of a block and says which :class:`~harness.result.Source` the results carry.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from providers import upstream

from .config import Settings
from .result import Source


def sandbox_bases(settings: Settings, emulator_url: str) -> dict[str, str]:
    """Per-provider bases that send each configured endpoint to the emulator's
    ``/NAME/v1`` routes (where faults named after the endpoint apply)."""
    from .emulator.openai import base_url

    return {name: base_url(emulator_url, name) for name in settings.endpoints}


@asynccontextmanager
async def probe_source(settings: Settings, *, sandbox: bool = False) -> AsyncIterator[Source]:
    """Redirect providers for the block: to fresh emulators (``sandbox``, configured
    endpoints included) or to the configured upstream and per-provider base URLs;
    yields the results' source."""
    per_provider = {
        name: p.base_url for name, p in settings.providers.items() if p.base_url is not None
    }
    if sandbox:
        from .emulator import Emulator

        async with Emulator(host="127.0.0.1", port=0, endpoints=list(settings.endpoints)) as emu:
            with upstream.redirect(emu.url, sandbox_bases(settings, emu.url)):
                yield Source.SANDBOX
        return
    with upstream.redirect(settings.upstream, per_provider):
        yield Source.LIVE
