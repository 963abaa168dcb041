"""The HTML page: one self-contained file, the same template for the report and the live page.

Jinja2 autoescapes everything, so provider-supplied text (errors, names, reasons)
can never become markup. The only inline style and scripts are our own files,
allowed by their SHA-256 hashes in the Content-Security-Policy; nothing else runs
and nothing is fetched, except the live page's refresh from its own origin.
Both pages carry the overview's filter-and-sort script; the live page adds its refresh.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from importlib.resources import files

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from harness.policy.status import State
from harness.report.bars import history_rects, strip_rects
from harness.report.format import (
    absolute,
    duration_ms,
    iso,
    money,
    percent,
    rate,
    relative,
    span,
    whole,
)
from harness.report.view import HISTORY_LENGTH, INCIDENT_WINDOW, OVERVIEW_UPTIME, StatusPage

FRAGMENT_TEMPLATE = "status.html.j2"
PAGE_TEMPLATE = "page.html.j2"


@cache
def environment() -> Environment:
    """The template environment: autoescape on for every template, undefined names fail."""
    env = Environment(
        loader=PackageLoader("harness.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(ms=duration_ms, pct=percent, rate=rate, span=span, money=money, whole=whole)
    env.globals.update(
        iso=iso,
        absolute=absolute,
        history_rects=history_rects,
        strip_rects=strip_rects,
        relative=relative,
        states=list(State),
        history_length=HISTORY_LENGTH,
        overview_uptime=OVERVIEW_UPTIME,
        incident_window=f"{INCIDENT_WINDOW[1].days} days",
    )
    return env


def _asset(name: str) -> str:
    return files("harness.report").joinpath("templates", name).read_text(encoding="utf-8")


def _hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


@cache
def stylesheet() -> str:
    """The page's inline CSS."""
    return _asset("page.css")


@cache
def controls_script() -> str:
    """Both pages' inline script: filter and sort the provider overview."""
    return _asset("controls.js")


@cache
def refresh_script() -> str:
    """The live page's inline script: fetch the fragment, swap it in, every N seconds."""
    return _asset("refresh.js")


def content_security_policy(*, live: bool) -> str:
    """The CSP of the page: only our inline style and script (and, live, the refresh
    script and its fetches).

    ``frame-ancestors`` is left to the HTTP header, as browsers ignore it in a meta tag.
    """
    parts = [
        "default-src 'none'",
        f"style-src {_hash(stylesheet())}",
        "img-src 'self' data:" if live else "img-src data:",
        f"script-src {' '.join(_hash(s) for s in _scripts(live=live))}",
        "base-uri 'none'",
        "form-action 'none'",
    ]
    if live:
        parts.append("connect-src 'self'")
    return "; ".join(parts)


def _scripts(*, live: bool) -> list[str]:
    return [controls_script(), refresh_script()] if live else [controls_script()]


def render_page(
    page: StatusPage, *, refresh_s: float | None = None, fragment_url: str = "fragment"
) -> str:
    """The whole page. With ``refresh_s`` it is the live page (served with
    :func:`content_security_policy` ``(live=True)`` as a header), refreshing its
    content from ``fragment_url``; without, a static file carrying its CSP in a meta tag."""
    live = refresh_s is not None
    return (
        environment()
        .get_template(PAGE_TEMPLATE)
        .render(
            page=page,
            now=page.generated_at,
            css=Markup(stylesheet()),  # our own file; escaping would corrupt it
            scripts=[Markup(s) for s in _scripts(live=live)],  # our own files, as css
            refresh=f"{refresh_s:g}" if live else None,
            fragment_url=fragment_url,
            csp_meta=None if live else content_security_policy(live=False),
        )
    )


def render_fragment(page: StatusPage) -> str:
    """Only the page's ``<main id="status">``: what the live page swaps in on refresh."""
    return environment().get_template(FRAGMENT_TEMPLATE).render(page=page, now=page.generated_at)
