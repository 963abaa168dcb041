"""Making one provider call self-contained, for recording and for replay.

- A fresh credentials cache: RobocodersAPI keeps its token and session id in a
  cache file and skips the auth and create-session requests when it finds them.
  A recording must contain those requests, and a replay must make them (and must
  never leave a scrubbed placeholder token in the user's real cache).
- Real hosts: a replay must request the URLs the cassette holds, whatever
  ``HARNESS_UPSTREAM`` says in the environment.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from providers import upstream
from providers.base import AsyncGeneratorProvider
from providers.endpoint import EndpointProvider
from providers.RobocodersAPI import CACHE_DIR_ENV


@contextmanager
def fresh_provider_cache() -> Iterator[str]:
    """Point the providers' credentials cache at an empty directory for the block.

    This sets an environment variable, so blocks must not overlap: recording and
    replay run one cassette at a time.
    """
    previous = os.environ.get(CACHE_DIR_ENV)
    with tempfile.TemporaryDirectory(prefix="harness-cassette-cache-") as folder:
        os.environ[CACHE_DIR_ENV] = folder
        try:
            yield folder
        finally:
            if previous is None:
                os.environ.pop(CACHE_DIR_ENV, None)
            else:
                os.environ[CACHE_DIR_ENV] = previous


@contextmanager
def real_hosts(provider: type[AsyncGeneratorProvider]) -> Iterator[None]:
    """Send ``provider``'s requests to its real hosts inside the block, overriding any
    redirection from the environment (a provider with one host is pinned to it; an
    configured endpoint to its base URL)."""
    hosts = provider.upstream_hosts
    if issubclass(provider, EndpointProvider):
        pinned = {provider.name(): provider.base_url}
    else:
        pinned = {provider.name(): f"https://{hosts[0]}"} if len(hosts) == 1 else {}
    with upstream.redirect(None, pinned):
        yield
