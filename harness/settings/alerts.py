"""The ``[alerts]`` settings: where messages go, on which states, how often to remind.

    [alerts]
    urls_env = "HARNESS_ALERT_URLS"   # Apprise URLs, space-separated, from the environment
    urls = []                         # or inline (no secrets in files you commit)
    on = ["down", "up", "throttled", "flapping"]
    remind_every = "0"                # while still down, e.g. "6h"; "0" never
    public_url = "https://status.example.org"

Every URL is checked when the settings are loaded, so a typo is refused before a run
(the error names the field or the variable, never the URL: it may hold a token). Apprise
is imported only then, when there is a URL: a harness without alerts never loads it.
"""

from __future__ import annotations

import functools
import logging
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import ModuleType
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.durations import Duration, Seconds
from harness.policy.status import State
from harness.redact import mask_urls

DEFAULT_URLS_ENV = "HARNESS_ALERT_URLS"


class _MaskURLs(logging.Filter):
    """Rewrites a log record so that no URL or request path in it survives."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_urls(record.getMessage())
        record.args = None
        return True


@functools.cache
def load_apprise() -> ModuleType:
    """Apprise, imported on first use with its plugins loaded and its loggers masked.

    Importing it costs a third of a second and a few hundred modules, which a harness
    with no alert URL never needs to pay.
    """
    with warnings.catch_warnings():
        # Apprise's e-mail plugin imports imghdr, which warns on Python 3.11 and 3.12 (3.13
        # removed it; Apprise then shims it, silently); its plugins load lazily, so they
        # are loaded here, once, where that warning can be silenced.
        warnings.filterwarnings("ignore", "'imghdr' is deprecated", DeprecationWarning)
        import apprise
        from apprise.plugins import N_MGR

        N_MGR.load_modules()  # type: ignore[no-untyped-call]
    for name in ("apprise", "urllib3.connectionpool"):
        logging.getLogger(name).addFilter(_MaskURLs())
    return apprise


def check_url(url: str, *, where: str) -> None:
    """``ValueError`` naming ``where`` (never the URL) when Apprise cannot send to ``url``."""
    scheme = url.partition("://")[0] if "://" in url else ""
    if not scheme:
        raise ValueError(f"{where}: not an Apprise URL (expected SCHEME://...)")
    if load_apprise().Apprise.instantiate(url) is None:
        raise ValueError(
            f"{where}: not a valid Apprise URL for the scheme {scheme!r} "
            "(see https://github.com/caronc/apprise/wiki)"
        )


class AlertSettings(BaseModel):
    """Alert destinations and rules (see the module docstring)."""

    # The default instance is validated too, so a bad URL in the environment is refused
    # even when the file has no [alerts] section.
    model_config = ConfigDict(extra="forbid", frozen=True, revalidate_instances="always")

    urls_env: str = DEFAULT_URLS_ENV
    urls: tuple[str, ...] = Field((), repr=False)
    on: tuple[State, ...] = (State.DOWN, State.UP, State.THROTTLED, State.FLAPPING)
    remind_every: Duration = timedelta(0)
    public_url: str | None = None
    all_sources: bool = False
    """Alert on sandbox and replay runs too (``--alerts``); live runs always alert."""
    send_timeout: Seconds = Field(10.0, gt=0)
    """Seconds one delivery attempt may take before it counts as failed."""

    @field_validator("on")
    @classmethod
    def _known_states(cls, value: tuple[State, ...]) -> tuple[State, ...]:
        if State.UNKNOWN in value:
            raise ValueError("unknown is never a new state: no alert can follow it")
        return value

    @field_validator("public_url")
    @classmethod
    def _page_url(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"expected an http(s) URL, got {value!r}")
        return value

    @field_validator("urls")
    @classmethod
    def _check_urls(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for index, url in enumerate(value):
            check_url(url, where=f"entry {index + 1}")
        return value

    @model_validator(mode="after")
    def _check_env_urls(self) -> AlertSettings:
        for index, url in enumerate(env_urls(self, os.environ)):
            check_url(url, where=f"${self.urls_env} (URL {index + 1})")
        return self


def env_urls(settings: AlertSettings, environ: Mapping[str, str]) -> list[str]:
    """The URLs the environment variable ``settings.urls_env`` holds, space-separated."""
    return environ.get(settings.urls_env, "").split() if settings.urls_env else []


def alert_urls(settings: AlertSettings, environ: Mapping[str, str]) -> list[str]:
    """Every destination URL: the inline ones, then the environment's, without repeats."""
    return list(dict.fromkeys([*settings.urls, *env_urls(settings, environ)]))


@dataclass(frozen=True)
class Destination:
    """Where messages go: ``key`` (a digest of the URL) identifies it in the store and
    ``label`` (scheme and masked host) names it for people; ``url`` is never shown."""

    key: str
    label: str
    url: str = field(repr=False)
