"""Is the harness's own host offline? Decided by name resolution alone.

A failed probe says nothing about a provider when the machine running the harness
has no network. Before probing, the runner asks whether any of these names resolve:
the hosts the targets would talk to (their real upstream hosts, or the host of the
redirection in force, or their proxy) and a short list of well-known names. Nothing
but name resolution is sent, so no traffic reaches anything that is not a probe
target. When none resolves, the host is offline. A target on ``localhost`` or an IP
literal needs no resolution and so always counts as reachable.

An answer that points nowhere real does not count: loopback, the unspecified address
(a DNS sinkhole's answer) and the documentation ranges (192.0.2.0/24,
198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32), which sandboxes hand out for the
few names they let through. Package-registry names are left out of the default list
for the same reason: build sandboxes often resolve those and nothing else.

The verdict is per target: a target whose hosts are all on this machine or a private
network (``localhost``, loopback, private and link-local addresses, ``.local`` /
``.lan`` / ``.internal`` / ``.home.arpa`` names: a local Ollama, a LAN vLLM) needs no
internet, so it is probed and counted even when the host is offline; only the
targets that need the internet become inconclusive (see ``harness.probing.runner``).

Limits: a caching resolver may still answer while the link is down (the probes then
fail as usual), and a resolver that blackholes queries costs ``timeout`` seconds.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass

from yarl import URL

from providers import upstream
from providers.base import AsyncGeneratorProvider

DEFAULT_NAMES = ("google.com", "cloudflare.com", "github.com", "wikipedia.org")

_NOWHERE = tuple(
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)

Resolver = Callable[[str], Awaitable[bool]]
"""Resolves one name: True when it resolves, False (or ``OSError``) when it does not."""


def points_somewhere(address: str) -> bool:
    """True for an address a real host could have (see the module docstring)."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if ip.is_loopback or ip.is_unspecified:
        return False
    return not any(ip in network for network in _NOWHERE)


async def resolves(name: str) -> bool:
    """Whether ``name`` resolves, through the system resolver, to a real address."""
    try:
        answers = await asyncio.get_running_loop().getaddrinfo(name, None, type=socket.SOCK_STREAM)
    except OSError:  # socket.gaierror and friends
        return False
    return any(points_somewhere(str(sockaddr[0])) for *_, sockaddr in answers)


def needs_no_lookup(host: str) -> bool:
    """True for ``localhost`` names and IP literals: they count as resolving."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


LOCAL_SUFFIXES = (".localhost", ".local", ".lan", ".internal", ".home.arpa")
"""Name suffixes reserved for this machine or the local network."""


def is_local_host(host: str) -> bool:
    """True for a host on this machine or a private network (no internet needed). Pure."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(LOCAL_SUFFIXES):
        return True
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    return ip.is_loopback or ip.is_private or ip.is_link_local


def needs_internet(
    provider: type[AsyncGeneratorProvider], proxies: Mapping[str, str] | None = None
) -> bool:
    """Whether probing ``provider`` (under the current redirection) needs the internet:
    False only when every host it would talk to is local (:func:`is_local_host`)."""
    hosts = target_hosts([provider], proxies)
    return not hosts or not all(is_local_host(h) for h in hosts)


def target_hosts(
    providers: Iterable[type[AsyncGeneratorProvider]], proxies: Mapping[str, str] | None = None
) -> list[str]:
    """The hosts the providers would resolve first, under the current redirection.

    A proxy stands in for the upstream (the proxy resolves the upstream's name);
    a redirection base stands in for all of a provider's upstream hosts.
    """
    hosts: list[str] = []
    for provider in providers:
        name = provider.name()
        proxy = (proxies or {}).get(name)
        base = upstream.base_for(name)
        if proxy:
            hosts.append(URL(proxy).host or "")
        elif base:
            hosts.append(URL(base).host or "")
        else:
            hosts.extend(provider.upstream_hosts)
    return list(dict.fromkeys(h for h in hosts if h))


@dataclass(frozen=True)
class Connectivity:
    """The verdict: ``online``, and in words why."""

    online: bool
    reason: str


@dataclass(frozen=True)
class ConnectivityCheck:
    """How to decide that the host is offline; ``resolver`` is injectable for tests."""

    enabled: bool = True
    names: tuple[str, ...] = DEFAULT_NAMES
    timeout: float = 2.0
    resolver: Resolver | None = None

    async def assess(self, hosts: Iterable[str] = ()) -> Connectivity:
        """Resolve ``hosts`` and :attr:`names` concurrently; online as soon as one does.

        Takes at most about :attr:`timeout` seconds.
        """
        names = list(dict.fromkeys([*hosts, *self.names]))
        if not self.enabled:
            return Connectivity(True, "connectivity check disabled")
        if not names:
            return Connectivity(True, "no names to check")
        local = next((n for n in names if needs_no_lookup(n)), None)
        if local is not None:
            return Connectivity(True, f"{local} needs no name resolution")
        resolver = self.resolver or resolves

        async def attempt(name: str) -> str | None:
            try:
                async with asyncio.timeout(self.timeout):
                    return name if await resolver(name) else None
            except (OSError, TimeoutError):
                return None

        tasks = [asyncio.create_task(attempt(name)) for name in names]
        try:
            for finished in asyncio.as_completed(tasks):
                resolved = await finished
                if resolved is not None:
                    return Connectivity(True, f"{resolved} resolves")
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return Connectivity(
            False, f"this host appears offline: no name resolved ({', '.join(names)})"
        )
