"""Fixtures for the gpt4free adapter's tests: the network made absent, the real g4f."""

from __future__ import annotations

import gc
import importlib
import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("g4f", reason="the g4f extra is not installed: pip install -e '.[g4f]'")


def this_machine(host: str) -> bool:
    """True for ``localhost`` and loopback addresses."""
    host = host.strip("[]").split("%")[0].rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[str]]:
    """Name resolution and connections reach this machine only, from every thread, as on
    a host without network; yields what was refused (``resolve NAME``, ``connect ADDR``).
    At the end, the provider threads still winding down get a few seconds to end before
    the network comes back."""
    monkeypatch.chdir(tmp_path)  # gpt4free writes ./generated_media and the like
    refused: list[str] = []
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name is None or this_machine(str(name)):
            return real_getaddrinfo(host, *args, **kwargs)
        refused.append(f"resolve {name}")
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (network absent)")

    def allowed(address: Any) -> bool:
        return not isinstance(address, tuple) or this_machine(str(address[0]))

    def connect(self: socket.socket, address: Any) -> None:
        if not allowed(address):
            refused.append(f"connect {address}")
            raise OSError(101, "Network is unreachable (network absent)")
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not allowed(address):
            refused.append(f"connect {address}")
            return 101
        return real_connect_ex(self, address)

    # Some providers drive a browser: gpt4free starts Chromium (or adopts one with a
    # debugging port) as a process of its own, out of reach of the socket patches.
    # With none found, those providers fail instead of reaching out.
    cdp = importlib.import_module("g4f.requests.cdp")
    for finder in ("find_chrome_path", "find_lightpanda_path", "find_running_cdp_port"):
        monkeypatch.setattr(cdp, finder, lambda *args, **kwargs: None)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield refused
    deadline = time.monotonic() + 10
    for thread in threading.enumerate():
        if thread.name.startswith(("provider g4f.", "load ")):
            thread.join(max(0.0, deadline - time.monotonic()))
    gc.collect()  # what gpt4free's code left unclosed is reported here, not in a later test
