"""One message to one destination, through Apprise; and the checks of a destination URL.

Apprise URLs often hold tokens (a Discord webhook's, a Slack hook's, an ntfy topic), so a
:class:`Destination` keeps its URL out of every ``repr``, and what is stored or shown is a
digest (``key``) and a label with only the scheme and a masked host. The Apprise and
urllib3 loggers get a filter that masks URLs and request paths, so a debug log does not
print a token either.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import warnings
from collections.abc import Iterable
from urllib.parse import urlsplit

from harness.redact import MASK, clean_error

from .config import Destination
from .records import NotifyType

with warnings.catch_warnings():
    # Apprise's e-mail plugin imports imghdr, deprecated since Python 3.11; its plugins load
    # lazily, so they are loaded here, once, where that warning can be silenced.
    warnings.filterwarnings("ignore", "'imghdr' is deprecated", DeprecationWarning)
    import apprise
    from apprise.plugins import N_MGR

    N_MGR.load_modules()  # type: ignore[no-untyped-call]

_URL = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^\s'\"]+")
_REQUEST_PATH = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE) /[^\s'\"]*")
_ERROR_LIMIT = 300


def mask_urls(text: str) -> str:
    """``text`` with every URL's part after the scheme, and every request path, masked."""
    return _REQUEST_PATH.sub(rf"\1 /{MASK}", _URL.sub(rf"\1{MASK}", text))


class _MaskURLs(logging.Filter):
    """Rewrites a log record so that no URL or request path in it survives."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_urls(record.getMessage())
        record.args = None
        return True


for _name in ("apprise", "urllib3.connectionpool"):
    logging.getLogger(_name).addFilter(_MaskURLs())


def check_url(url: str, *, where: str) -> None:
    """``ValueError`` naming ``where`` (never the URL) when Apprise cannot send to ``url``."""
    scheme = url.partition("://")[0] if "://" in url else ""
    if not scheme:
        raise ValueError(f"{where}: not an Apprise URL (expected SCHEME://...)")
    if apprise.Apprise.instantiate(url) is None:
        raise ValueError(
            f"{where}: not a valid Apprise URL for the scheme {scheme!r} "
            "(see https://github.com/caronc/apprise/wiki)"
        )


def destination(url: str) -> Destination:
    """The destination for an Apprise URL (checked with :func:`check_url` beforehand)."""
    key = hashlib.sha256(url.encode()).hexdigest()[:16]
    plugin = apprise.Apprise.instantiate(url)
    private = plugin.url(privacy=True) if plugin is not None else url  # type: ignore[no-untyped-call]
    parts = urlsplit(private)
    host = parts.netloc.rpartition("@")[2]
    return Destination(key=key, label=f"{parts.scheme}://{host or MASK}", url=url)


def destinations(urls: Iterable[str]) -> list[Destination]:
    """A destination per URL, in order."""
    return [destination(url) for url in urls]


async def send(
    target: Destination, *, title: str, body: str, notify_type: NotifyType, timeout: float
) -> str | None:
    """Send one message; None when delivered, else why not (scrubbed, one line).

    Apprise's own call limit (``timeout``) ends a hanging send; the outer limit is a
    safety net in case Apprise itself stalls.
    """
    plugin = apprise.Apprise.instantiate(target.url)
    if plugin is None:
        return "the URL is no longer valid"
    sender = apprise.Apprise()
    sender.add(plugin)
    try:
        async with asyncio.timeout(timeout + 5.0):
            result = await sender.async_notify(
                body=body, title=title, notify_type=notify_type.value, timeout=timeout
            )
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    if result:
        return None
    problems = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR", "CRITICAL")]
    why = "; ".join(problems) or f"not delivered ({result.status})"
    return clean_error(mask_urls(why), (target.url,), _ERROR_LIMIT)
