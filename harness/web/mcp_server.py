"""The MCP server: what the harness knows, as read-only tools for AI agents.

Built on the official ``mcp`` SDK's :class:`MCPServer`; ``harness mcp`` runs it over
stdio and ``harness serve`` answers it at ``/mcp`` (streamable HTTP, see
:func:`mount_mcp`). The tools read the store (never probe):

* ``list_targets``: every target with its protocol, working flag and state;
* ``working_now``: the working targets, fastest p50 first, with p50/p95 and uptime;
* ``get_status``: one provider (its models) or one target, with reason and since when;
* ``get_history``: probes, passes, uptime and ttfc percentiles per UTC day;
* ``list_incidents``: open incidents, or the newest ones.

A tool never raises: a bad argument or a store that cannot be read comes back as
``{"error": "..."}``. Every string of every answer goes through
:func:`harness.redact.redact` with the keys, tokens and alert URLs in force, so none of
them can leak through a stored error or reason.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from aiohttp_asgi import ASGIResource
from mcp.server.mcpserver import MCPServer

from harness import __version__
from harness.errors import ConfigError, HarnessError
from harness.redact import redact
from harness.report.document import incident_document
from harness.report.history import history_document, read_history
from harness.report.view import provider_state
from harness.report.working import TargetRow, fastest_first, read_targets
from harness.settings.alerts import alert_urls
from harness.settings.config import Settings
from harness.store import open_store
from harness.store.base import Store
from harness.targets.endpoints import secrets_of

MCP_PATH = "/mcp"
INCIDENTS_DEFAULT = 20
INCIDENTS_MOST = 500

StoreOf = Callable[[], Store]
"""How a tool reaches the store: the server is built before the store is open."""


def _secrets(settings: Settings) -> list[str]:
    """Every literal an answer must never hold: keys, tokens and alert URLs."""
    return [*secrets_of(settings), *alert_urls(settings.alerts, os.environ)]


def _scrubbed(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {k: _scrubbed(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, secrets) for v in value]
    return value


def _target(row: TargetRow) -> dict[str, Any]:
    return {
        "provider": row.provider,
        "model": row.model,
        "protocol": row.protocol,
        "working": row.working,
        "state": row.state.value,
    }


def _working(row: TargetRow) -> dict[str, Any]:
    full = row.to_dict()
    return {k: full[k] for k in ("provider", "model", "kind", "protocol", "state")} | {
        "ttfc_p50_ms": row.ttfc_p50_ms,
        "ttfc_p95_ms": row.ttfc_p95_ms,
        "uptime": full["uptime"],
    }


def _status(row: TargetRow) -> dict[str, Any]:
    full = row.to_dict()
    return {k: full[k] for k in ("model", "state", "working", "since", "reason")}


RowsOf = Callable[[], Awaitable[list[TargetRow]]]
"""How the tools get every target's row, when not read afresh from the store."""


def build_mcp(store_of: StoreOf, settings: Settings, *, rows_of: RowsOf | None = None) -> MCPServer:
    """The harness's MCP server, reading the store ``store_of`` gives; ``rows_of``, when
    given, gives the targets' rows instead (``harness serve``: from its kept status
    document, rather than every target's rollups read again per call)."""
    server = MCPServer(
        "harness",
        version=__version__,
        # The SDK configures the root logger once (when nothing has); at WARNING it
        # prints what the harness would print anyway, and no chatter besides.
        log_level="WARNING",
        instructions=(
            "Health of free LLM chat providers as the harness last measured it: which "
            "targets work now and how fast, their status, daily history and incidents."
        ),
    )
    secrets = _secrets(settings)

    async def answer(work: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        try:
            found = await work()
        except (HarnessError, ValueError) as exc:
            found = {"error": str(exc)}
        scrubbed: dict[str, Any] = _scrubbed(found, secrets)
        return scrubbed

    async def rows() -> list[TargetRow]:
        if rows_of is not None:
            return await rows_of()
        return await read_targets(store_of(), settings)

    @server.tool()
    async def list_targets() -> dict[str, Any]:
        """Every target (provider x model) the harness knows: its protocol, whether it
        works now, and its state (up, degraded, throttled, down, flapping, unknown)."""

        async def work() -> dict[str, Any]:
            return {"targets": [_target(r) for r in await rows()]}

        return await answer(work)

    @server.tool()
    async def working_now(
        provider: str | None = None, model: str | None = None, protocol: str | None = None
    ) -> dict[str, Any]:
        """The targets working now, fastest p50 time to first chunk first, with their
        p50/p95 (7 days, ms) and uptime (24 h). Optional filters: ``provider`` (its exact
        name), ``model`` (text the model's name contains, any case) and ``protocol``
        (openai, gpt4free, seed)."""

        async def work() -> dict[str, Any]:
            found = fastest_first(await rows())
            if provider:
                found = [r for r in found if r.provider == provider]
            if model:
                found = [r for r in found if model.lower() in r.model.lower()]
            if protocol:
                found = [r for r in found if r.protocol == protocol]
            return {"working": [_working(r) for r in found]}

        return await answer(work)

    @server.tool()
    async def get_status(provider: str, model: str | None = None) -> dict[str, Any]:
        """The status of one provider (its state and each model's) or, with ``model``,
        of one target: its state, why, and since when."""

        async def work() -> dict[str, Any]:
            mine = [r for r in await rows() if r.provider == provider]
            if not mine:
                raise ConfigError(f"unknown provider {provider!r}")
            if model is not None:
                row = next((r for r in mine if r.model == model), None)
                if row is None:
                    raise ConfigError(f"unknown model {model!r} of {provider}")
                return {"provider": provider, **_status(row)}
            return {
                "provider": provider,
                "state": provider_state(r.state for r in mine).value,
                "working": any(r.working for r in mine),
                "models": [_status(r) for r in mine],
            }

        return await answer(work)

    @server.tool()
    async def get_history(
        provider: str, model: str | None = None, days: int = 30
    ) -> dict[str, Any]:
        """Per UTC day (oldest first): probes, passes, uptime and p50/p95 time to first
        chunk of one provider (its models pooled) or of one of its models; ``days`` from
        1 to 90."""

        async def work() -> dict[str, Any]:
            history = await read_history(store_of(), provider, model, days, now=datetime.now(UTC))
            return history_document(provider, model, history)

        return await answer(work)

    @server.tool()
    async def list_incidents(
        open_only: bool = False, limit: int = INCIDENTS_DEFAULT, provider: str | None = None
    ) -> dict[str, Any]:
        """Incidents, newest first: only the open ones with ``open_only``, else the last
        ``limit`` (1-500), optionally of one ``provider``. An incident groups the models
        of a provider that stopped working while it was open; it resolves when all of
        them work again."""

        async def work() -> dict[str, Any]:
            if not 1 <= limit <= INCIDENTS_MOST:
                raise ConfigError(f"limit must be within 1-{INCIDENTS_MOST}, not {limit}")
            found = await store_of().incidents(provider=provider, open_only=open_only, limit=limit)
            now = datetime.now(UTC)
            return {"incidents": [incident_document(i, now) for i in found]}

        return await answer(work)

    return server


async def serve_stdio(settings: Settings, store_url: str) -> None:
    """``harness mcp``: the server over stdin/stdout, on the store at ``store_url``,
    until the client closes the stream."""
    async with open_store(store_url) as store:
        await build_mcp(lambda: store, settings).run_stdio_async()


def mount_mcp(app: web.Application, server: MCPServer, *, host: str) -> None:
    """Answer ``server`` at :data:`MCP_PATH` of the aiohttp ``app``, in its process.

    The SDK's streamable HTTP transport is an ASGI (Starlette) app, and ``harness
    serve`` is aiohttp. Rather than a second server on another port (two processes'
    worth of lifecycle for one read-only endpoint) or a hand-written transport, the
    Starlette app is mounted through aiohttp-asgi, which turns each aiohttp request
    into an ASGI call and runs the app's lifespan (the SDK's session manager) with the
    aiohttp app's start and stop. The transport runs stateless with JSON responses:
    the tools are read-only and the server sends nothing unasked, so no session needs
    keeping between requests. ``host`` is what the page is served on; on a loopback
    address the SDK's protection against DNS rebinding stays on.
    """
    asgi = server.streamable_http_app(
        streamable_http_path=MCP_PATH, stateless_http=True, json_response=True, host=host
    )

    async def at_root(scope: Any, receive: Any, send: Any) -> None:
        # aiohttp-asgi names the mount point as the scope's root_path, and Starlette
        # would then route the path less that prefix; the transport's route is the
        # whole path, so the app is told it sits at the root.
        if scope["type"] == "http":
            scope = {**scope, "root_path": ""}
        await asgi(scope, receive, send)

    resource = ASGIResource(at_root, root_path=MCP_PATH)
    app.router.register_resource(resource)
    resource.lifespan_mount(app)


__all__ = ["MCP_PATH", "build_mcp", "mount_mcp", "serve_stdio"]
