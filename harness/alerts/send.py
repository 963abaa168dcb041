"""One message to one destination, through Apprise.

Apprise URLs often hold tokens (a Discord webhook's, a Slack hook's, an ntfy topic), so a
:class:`Destination` keeps its URL out of every ``repr``, and what is stored or shown is a
digest (``key``) and a label with only the scheme and a masked host. Apprise is loaded
(with its loggers masked) by :func:`harness.settings.alerts.load_apprise`, only once there
is a URL to check or a message to send.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable
from urllib.parse import urlsplit

from harness.policy.deliveries import NotifyType
from harness.redact import MASK, clean_error, mask_urls
from harness.settings.alerts import Destination, load_apprise

_ERROR_LIMIT = 300


def destination(url: str) -> Destination:
    """The destination for an Apprise URL (checked beforehand with
    :func:`harness.settings.alerts.check_url`)."""
    key = hashlib.sha256(url.encode()).hexdigest()[:16]
    plugin = load_apprise().Apprise.instantiate(url)
    private = plugin.url(privacy=True) if plugin is not None else url
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
    apprise = load_apprise()
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
