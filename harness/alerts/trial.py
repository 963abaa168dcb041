"""``harness alert --test``: a trial message to every configured alert destination."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass

from harness import __version__
from harness.alerts.message import trial_message
from harness.alerts.send import destinations, send
from harness.errors import ConfigError
from harness.settings.alerts import alert_urls
from harness.settings.config import Settings


@dataclass(frozen=True)
class TrialDelivery:
    """One destination (by its label, never its URL) and why the message did not reach
    it (None: it did)."""

    destination: str
    error: str | None

    @property
    def sent(self) -> bool:
        """Whether the trial message reached the destination."""
        return self.error is None


async def send_trial(
    settings: Settings, environ: Mapping[str, str] = os.environ
) -> list[TrialDelivery]:
    """Send the trial message to every destination at once, in the settings' order;
    :class:`ConfigError` when none is configured."""
    urls = alert_urls(settings.alerts, environ)
    if not urls:
        raise ConfigError(
            f"no alert destinations: set ${settings.alerts.urls_env} or [alerts] urls "
            "to Apprise URLs"
        )
    targets = destinations(urls)
    message = trial_message(__version__)
    errors = await asyncio.gather(
        *(
            send(
                target,
                title=message.title,
                body=message.body,
                notify_type=message.notify_type,
                timeout=settings.alerts.send_timeout,
            )
            for target in targets
        )
    )
    return [
        TrialDelivery(target.label, error) for target, error in zip(targets, errors, strict=True)
    ]
