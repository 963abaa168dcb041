"""Where provider requests go: the real hosts, or a base URL standing in for them.

Every provider builds its URLs against the real upstream hosts and passes them
through :func:`resolve`. When a redirection is in force, the scheme, host and port
(and an optional path prefix) are replaced by the redirection's base; path and
query are kept, so an emulator, a proxy or a mirror serving the real paths answers.

Sources, most specific first:
1. a per-provider base set with :func:`redirect` / :func:`use` (``per_provider``);
2. ``HARNESS_UPSTREAM_<PROVIDER>`` in the environment (provider name upper-cased);
3. a global base set with :func:`redirect` / :func:`use`;
4. ``HARNESS_UPSTREAM`` in the environment.

Settings live in a :class:`contextvars.ContextVar`, so concurrent tasks may each
probe a different upstream without sharing mutable state.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, field

from yarl import URL

ENV_UPSTREAM = "HARNESS_UPSTREAM"


@dataclass(frozen=True)
class Redirection:
    """A global base URL and per-provider base URLs; ``None`` means the real host."""

    base: str | None = None
    per_provider: Mapping[str, str] = field(default_factory=dict)


_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")
"""One label of a host name (underscores allowed: some internal names carry them)."""


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        labels = host.removesuffix(".").split(".")
        return all(_LABEL.fullmatch(label) for label in labels)


_current: ContextVar[Redirection] = ContextVar("harness_upstream", default=Redirection())


def validate_base(base: str) -> URL:
    """Parse a base URL, raising ``ValueError`` with a clear message when it is unusable."""
    url = URL(base)
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"upstream base must be an http(s) URL with a host, got {base!r}")
    # yarl keeps whatever sits between "//" and the port ("127.0.0.1;8765", "a b"):
    # refuse it here rather than let every probe fail as if the host were offline.
    if not _valid_host(url.raw_host or ""):
        raise ValueError(f"upstream base has an invalid host name {url.raw_host!r}: {base!r}")
    if url.query_string or url.fragment:
        raise ValueError(f"upstream base must not carry a query or fragment: {base!r}")
    return url


def use(
    base: str | None = None, per_provider: Mapping[str, str] | None = None
) -> Token[Redirection]:
    """Set the redirection for this context (and tasks created from it) until reset."""
    for value in [base, *(per_provider or {}).values()]:
        if value is not None:
            validate_base(value)
    return _current.set(Redirection(base, dict(per_provider or {})))


def reset(token: Token[Redirection]) -> None:
    """Undo a :func:`use`."""
    _current.reset(token)


@contextmanager
def redirect(
    base: str | None = None, per_provider: Mapping[str, str] | None = None
) -> Iterator[None]:
    """Redirect provider requests inside the ``with`` block."""
    token = use(base, per_provider)
    try:
        yield
    finally:
        reset(token)


def base_for(provider: str) -> str | None:
    """The base URL standing in for ``provider``'s hosts, or ``None`` for the real ones."""
    specific = own_base(provider)
    if specific:
        return specific
    current = _current.get()
    if current.base:
        return current.base
    return os.environ.get(ENV_UPSTREAM) or None


def own_base(provider: str) -> str | None:
    """The base URL set for ``provider`` by name (sources 1 and 2 above), ignoring the
    global ones: for providers whose whole base URL a redirection replaces."""
    current = _current.get()
    if provider in current.per_provider:
        return current.per_provider[provider]
    return os.environ.get(f"{ENV_UPSTREAM}_{provider.upper()}") or None


def rebase(url: str, base: str) -> str:
    """``url`` with its scheme, host and port taken from ``base`` (path prefix added)."""
    target = validate_base(base)
    original = URL(url)
    prefix = target.path.rstrip("/")
    return str(target.with_path(prefix + original.path, encoded=False).with_query(original.query))


def resolve(provider: str, url: str) -> str:
    """The URL to request for ``provider``'s real ``url`` under the current redirection."""
    base = base_for(provider)
    return rebase(url, base) if base else url
