"""The state of one emulator application: faults, request counts, the stop signal.

Everything lives on the ``web.Application`` (under :data:`STATE`), never in module
globals, so that several emulators can run side by side in one process.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from harness.emulator.faults import FaultBoard

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class EmulatorState:
    """What the handlers of one emulator share."""

    faults: FaultBoard
    continue_timeout: float = 30.0
    """How long a Robocoders resource-limit pause waits for its ``continue``."""
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(provider, path) -> requests received, for tests."""
    bodies: dict[tuple[str, str], Any] = field(default_factory=dict)
    """(provider, path) -> the last JSON body received, for tests."""
    owners: dict[str, str] = field(default_factory=dict)
    """path -> the provider that serves it."""
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the server shuts down: every wait in a handler ends."""


STATE = web.AppKey("emulator_state", EmulatorState)

INVALID_JSON = object()
"""What :func:`json_body` returns for a body that is not JSON."""


def add_route(
    app: web.Application, provider: str, method: str, path: str, handler: Handler
) -> None:
    """Serve ``path`` for ``provider`` (whose requests to it are then counted)."""
    app.router.add_route(method, path, handler)
    app[STATE].owners[path] = provider


async def json_body(request: web.Request) -> Any:
    """The request's JSON body (remembered for tests), or :data:`INVALID_JSON`."""
    raw = await request.read()
    try:
        body = json.loads(raw)
    except ValueError:
        return INVALID_JSON
    state = request.app[STATE]
    state.bodies[(state.owners.get(request.path, ""), request.path)] = body
    return body
