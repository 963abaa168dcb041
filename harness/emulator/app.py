"""One aiohttp application answering every upstream path of the four providers, the
OpenAI-compatible and Anthropic routes (``/v1/...`` and ``/NAME/v1/...``) and the
Gemini routes (``/v1beta/...`` and ``/NAME/v1beta/...``).

Their paths do not collide, so a single server stands in for all their hosts.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from aiohttp import web

from harness.emulator import (
    aichatonline,
    anthropic,
    autonomousai,
    codelinkava,
    gemini,
    openai,
    robocoders,
)
from harness.emulator.faults import FaultBoard, FaultSpec
from harness.emulator.pacing import ServerStopping
from harness.emulator.state import STATE, EmulatorState, Handler

PROVIDER_MODULES = (
    robocoders,
    aichatonline,
    autonomousai,
    codelinkava,
    openai,
    anthropic,
    gemini,
)
"""In route order: the seed providers' fixed paths come before ``/{endpoint}/v1/...``."""


@web.middleware
async def bookkeeping(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count requests per (provider, path); close the connection of a handler that the
    server's shutdown or the client's departure interrupted."""
    state = request.app[STATE]
    provider = state.owners.get(request.path)
    if provider is not None:
        state.requests[(provider, request.path)] += 1
    try:
        return await handler(request)
    except (ServerStopping, ConnectionError):
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=503)  # never reaches the client: the socket is closed


async def _signal_stop(app: web.Application) -> None:
    app[STATE].stopping.set()


def build_app(
    faults: Mapping[str, FaultSpec] | None = None,
    *,
    continue_timeout: float = 30.0,
    endpoints: Collection[str] = (),
) -> web.Application:
    """The emulator application, with ``faults`` in force (provider name -> spec);
    ``endpoints`` are endpoint names that faults may address (in every protocol)."""
    app = web.Application(middlewares=[bookkeeping])
    app[STATE] = EmulatorState(FaultBoard(faults, endpoints), continue_timeout=continue_timeout)
    for module in PROVIDER_MODULES:
        module.setup(app)
    app.on_shutdown.append(_signal_stop)
    return app
