"""Fixtures for the probe engine's tests: a resolver that sends nothing, a closed port."""

from __future__ import annotations

import socket

import aiohttp
import pytest
from probe_doubles import ScriptedResolver


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> ScriptedResolver:
    """Replace aiohttp's resolver for sessions made in the test (set ``hang``/``fail``)."""
    fake = ScriptedResolver()
    monkeypatch.setattr(aiohttp.connector, "DefaultResolver", fake)
    return fake


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
