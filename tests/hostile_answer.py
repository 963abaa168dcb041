"""An upstream whose answer is built to attack whoever shows it: markup for the page,
escape sequences for the terminal. It speaks CodeLinkAva's wire format (OpenAI-style
SSE on ``/api/chat``), so the real provider client and probe read it."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from harness.emulator.sse import ChatCompletionEvents
from harness.pipeline.run import RunSummary, plan_targets, probe_and_record
from harness.settings.config import Settings
from harness.store import open_store
from harness.targets.sources import probe_source

MARKUP = "<script>alert(1)</script><img src=x onerror=alert(2)>"
TERMINAL = "\x1b[2J\x1b]0;pwned\x07\x9b31m"
"""Clear the screen, retitle the window, and a one-byte CSI (0x9b) turning text red."""
HOSTILE_ANSWER = f"{MARKUP}{TERMINAL} I cannot help with that"
SHOWN = (
    'got: "<script>alert(1)</script><img src=x onerror=alert(2)>'
    '\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m I cannot help with that"'
)
"""How the answer reads in an error: quoted, every control character escaped."""


def hostile_app() -> web.Application:
    """An app answering every chat on CodeLinkAva's path with :data:`HOSTILE_ANSWER`,
    streamed in several pieces."""

    async def chat(request: web.Request) -> web.StreamResponse:
        framing = ChatCompletionEvents("gpt-3.5-turbo")
        response = web.StreamResponse(headers={"Content-Type": framing.content_type})
        await response.prepare(request)
        for piece in (MARKUP, TERMINAL, " I cannot help with that"):
            await response.write(framing.record(piece))
        await response.write(framing.end())
        return response

    app = web.Application()
    app.router.add_post("/api/chat", chat)
    return app


def hostile_settings(data_dir: Path, upstream_url: str) -> Settings:
    """Live settings sending CodeLinkAva to ``upstream_url`` (no connectivity check: the
    test host has no network to check)."""
    return Settings(
        data_dir=data_dir,
        upstream=upstream_url,
        connectivity={"enabled": False},
        providers={name: {"enabled": name == "CodeLinkAva"} for name in ("CodeLinkAva",)},
    )


async def probe_hostile(settings: Settings) -> RunSummary:
    """Probe CodeLinkAva against the hostile upstream once, recording into the live store."""
    targets = plan_targets(settings, ["CodeLinkAva"])
    async with open_store(settings.store_url) as store, probe_source(settings) as source:
        return await probe_and_record(settings, store, targets, source=source)
