"""Where probes go, and where their results are kept, per source of answers.

Three sources answer probes (:class:`~harness.result.Source`): the real hosts
(``live``), the in-process emulators (``sandbox``) and recorded cassettes
(``replay``). Their results never meet: each source has its own data directory,
hence its own store and flags file, so status, flips and the ``working`` flags of
the live providers can only ever come from live answers.

    <data_dir>/              live: harness.db (or ``store`` from the settings), flags.json
    <data_dir>/sandbox/      sandbox: harness.db, flags.json
    <data_dir>/replay/       replay: harness.db, flags.json

Only the live flags file is read by ``providers`` at import; an explicit ``store``
in the settings is the live store, and sandbox and replay keep their SQLite files
under the data directory all the same.

:func:`probe_source` sets the redirection (``providers.upstream``) for the duration
of a block and says which :class:`~harness.result.Source` the results carry.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from harness.result import Source
from harness.settings.config import Settings
from harness.targets.flags import flags_file
from providers import upstream

STORE_FILE_NAME = "harness.db"

SOURCE_NOTES = {
    Source.LIVE: None,
    Source.SANDBOX: "emulated upstreams, not the real providers",
    Source.REPLAY: "recorded cassettes, not the real providers",
}
"""What a page or listing of each source must say about itself (live says nothing)."""


def source_dir(settings: Settings, source: Source) -> Path:
    """The data directory of ``source``: the data dir itself for live, a subdirectory
    named after the source otherwise."""
    return settings.data_dir if source is Source.LIVE else settings.data_dir / source.value


def source_store_url(settings: Settings, source: Source) -> str:
    """The store of ``source``: for live ``store`` from the settings if set; otherwise
    (and always for sandbox and replay) ``harness.db`` in :func:`source_dir`."""
    if source is Source.LIVE and settings.store:
        return settings.store
    return str(source_dir(settings, source) / STORE_FILE_NAME)


def source_flags_file(settings: Settings, source: Source) -> Path:
    """The flags file of ``source``; only the live one feeds ``providers.X.working``."""
    return flags_file(source_dir(settings, source))


def chosen_source(*, sandbox: bool = False, replay: bool = False) -> Source:
    """The source that ``--sandbox`` / ``--replay`` select (live when neither is given)."""
    if sandbox and replay:
        raise ValueError("sandbox and replay exclude each other")
    if sandbox:
        return Source.SANDBOX
    return Source.REPLAY if replay else Source.LIVE


def sandbox_bases(settings: Settings, emulator_url: str) -> dict[str, str]:
    """Per-provider bases that send each configured endpoint to the emulator's
    ``/NAME/v1`` routes, ``/NAME/v1beta`` for Gemini (where faults named after the
    endpoint apply)."""
    from harness.emulator import gemini, openai

    return {
        name: (gemini.base_url if e.protocol == "gemini" else openai.base_url)(emulator_url, name)
        for name, e in settings.endpoints.items()
    }


@asynccontextmanager
async def probe_source(settings: Settings, *, sandbox: bool = False) -> AsyncIterator[Source]:
    """Redirect providers for the block: to fresh emulators (``sandbox``, configured
    endpoints included) or to the configured upstream and per-provider base URLs;
    yields the results' source."""
    per_provider = {
        name: p.base_url for name, p in settings.providers.items() if p.base_url is not None
    }
    if sandbox:
        from harness.emulator import Emulator

        async with Emulator(host="127.0.0.1", port=0, endpoints=list(settings.endpoints)) as emu:
            with upstream.redirect(emu.url, sandbox_bases(settings, emu.url)):
                yield Source.SANDBOX
        return
    with upstream.redirect(settings.upstream, per_provider):
        yield Source.LIVE
