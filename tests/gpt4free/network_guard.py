"""gpt4free's providers kept off the network: name resolution and connections reach this
machine only, as on a host without network. Used by the ``no_network`` fixture in the
test process and, as the worker pool's setup hook (:func:`in_worker`), in every
gpt4free worker process, where the calls run."""

from __future__ import annotations

import importlib
import ipaddress
import os
import socket
from collections.abc import Callable
from typing import Any

REFUSED_LOG_ENV = "HARNESS_TEST_REFUSED_LOG"
"""The file where workers write what they refused, one line each."""


def this_machine(host: str) -> bool:
    """True for ``localhost`` and loopback addresses."""
    host = host.strip("[]").split("%")[0].rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refuse_network(patch: Callable[[Any, str, Any], None], record: Callable[[str], None]) -> None:
    """Patch (with ``patch(owner, name, value)``) resolution and connections so that only
    this machine is reached; ``record`` hears each refusal (``resolve NAME``, ``connect ADDR``)."""
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name is None or this_machine(str(name)):
            return real_getaddrinfo(host, *args, **kwargs)
        record(f"resolve {name}")
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (network absent)")

    def allowed(address: Any) -> bool:
        return not isinstance(address, tuple) or this_machine(str(address[0]))

    def connect(self: socket.socket, address: Any) -> None:
        if not allowed(address):
            record(f"connect {address}")
            raise OSError(101, "Network is unreachable (network absent)")
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not allowed(address):
            record(f"connect {address}")
            return 101
        return real_connect_ex(self, address)

    # Some providers drive a browser: gpt4free starts Chromium (or adopts one with a
    # debugging port) as a process of its own, out of reach of the socket patches.
    # With none found, those providers fail instead of reaching out.
    cdp = importlib.import_module("g4f.requests.cdp")
    for finder in ("find_chrome_path", "find_lightpanda_path", "find_running_cdp_port"):
        patch(cdp, finder, lambda *args, **kwargs: None)
    patch(socket, "getaddrinfo", getaddrinfo)
    patch(socket.socket, "connect", connect)
    patch(socket.socket, "connect_ex", connect_ex)


def in_worker() -> None:
    """The worker pool's setup hook: the network refused for good, each refusal appended
    to the file ``$HARNESS_TEST_REFUSED_LOG`` names, working in that file's folder
    (gpt4free writes ./generated_media and the like)."""
    log = os.environ.get(REFUSED_LOG_ENV)
    if log:
        os.chdir(os.path.dirname(log))

    def record(what: str) -> None:
        if log:
            with open(log, "a", encoding="utf-8") as out:
                out.write(what + "\n")

    refuse_network(setattr, record)
