"""The HTML page: one self-contained file, the same template for the report and the live page.

Jinja2 autoescapes everything, so provider-supplied text (errors, names, reasons)
can never become markup. The only inline style and scripts are our own files,
allowed by their SHA-256 hashes in the Content-Security-Policy; nothing else runs
and nothing is fetched, except the live page's refresh from its own origin.
Both pages carry the overview's filter-and-sort script; the live page adds its refresh.

The provider rows are rendered one by one, each with a version (a digest of its
markup), so that the live page's refresh can send only the rows that changed: the
others go as empty stand-ins that its script replaces with the rows it has.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

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
from harness.report.view import (
    HISTORY_LENGTH,
    INCIDENT_WINDOW,
    OVERVIEW_UPTIME,
    ProviderView,
    StatusPage,
)

FRAGMENT_TEMPLATE = "status.html.j2"
PAGE_TEMPLATE = "page.html.j2"
ROW_TEMPLATE = "row.html.j2"
DETAILS_TEMPLATE = "details.html.j2"


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


@dataclass(frozen=True)
class Fragment:
    """The page's ``<main id="status">`` as the live page's refresh gets it."""

    html: str
    etag: str
    """A digest of what the fragment shows, but not of when it was made: equal for
    equal content, so that an unchanged page is answered with nothing."""
    rows: Mapping[str, str]
    """Each provider row's version, by provider name."""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Row:
    """One provider's row (``<details>``) as markup, with its version."""

    markup: Markup
    version: str
    """A digest of the markup: equal for an unchanged row."""


def render_rows(page: StatusPage) -> dict[str, Row]:
    """Each provider's row, by provider name, in page order."""
    template = environment().get_template(ROW_TEMPLATE)
    rows = {}
    for provider in page.providers:
        markup = Markup(template.render(page=page, provider=provider, now=page.generated_at))
        rows[provider.name] = Row(markup, _digest(markup))
    return rows


def _kept(name: str) -> Markup:
    """The stand-in of a row the reader already has."""
    return Markup(
        f'<details class="provider" id="provider-{escape(name)}" data-provider="{escape(name)}"'
        " data-kept></details>\n"
    )


def _content(
    page: StatusPage, known: Mapping[str, str], rows: Mapping[str, Row] | None
) -> tuple[list[Markup], dict[str, str], str]:
    """The rows to send (those at a version in ``known`` as stand-ins), every row's
    version, and the etag of the whole; ``rows`` rendered already, or None."""
    rows = rows if rows is not None else render_rows(page)
    versions = {name: row.version for name, row in rows.items()}
    sent = [
        _kept(name) if known.get(name) == row.version else row.markup for name, row in rows.items()
    ]
    # Relative times ("5 minutes ago") change by themselves; what the page is about
    # changes only with its rows, incidents, flips and counts.
    rest = repr(
        (
            page.incidents,
            page.flips,
            page.model_counts,
            page.provider_counts,
            page.vantages,
            page.version,
            page.source,
        )
    )
    return sent, versions, _digest(" ".join([*versions.values(), rest]))


def render_page(
    page: StatusPage,
    *,
    refresh_s: float | None = None,
    fragment_url: str = "fragment",
    back_url: str | None = None,
) -> str:
    """The whole page. With ``refresh_s`` it is the live page (served with
    :func:`content_security_policy` ``(live=True)`` as a header), refreshing its
    content from ``fragment_url``; without, a static file carrying its CSP in a meta tag
    (served, with a link ``back_url`` to every provider's overview)."""
    return render_live_page(
        page, refresh_s=refresh_s, fragment_url=fragment_url, back_url=back_url
    ).html


def render_live_page(
    page: StatusPage,
    *,
    refresh_s: float | None = None,
    fragment_url: str = "fragment",
    back_url: str | None = None,
    rows: Mapping[str, Row] | None = None,
) -> Fragment:
    """:func:`render_page`, with the etag and row versions of its content; ``rows`` are
    the providers' rows if rendered already (see :func:`render_rows`)."""
    live = refresh_s is not None
    sent, versions, etag = _content(page, {}, rows)
    html = (
        environment()
        .get_template(PAGE_TEMPLATE)
        .render(
            page=page,
            now=page.generated_at,
            rows=sent,
            etag=etag,
            css=Markup(stylesheet()),  # our own file; escaping would corrupt it
            scripts=[Markup(s) for s in _scripts(live=live)],  # our own files, as css
            refresh=f"{refresh_s:g}" if live else None,
            fragment_url=fragment_url,
            back_url=back_url,
            csp_meta=None if live else content_security_policy(live=False),
        )
    )
    return Fragment(html=html, etag=etag, rows=versions)


def render_fragment(
    page: StatusPage,
    known: Mapping[str, str] | None = None,
    rows: Mapping[str, Row] | None = None,
) -> Fragment:
    """Only the page's ``<main id="status">``, what the live page swaps in on refresh,
    for a reader who has the rows ``known`` (provider -> version): those unchanged go as
    empty stand-ins marked ``data-kept``, which the page's script fills from its own.
    ``rows``: the providers' rows if rendered already."""
    sent, versions, etag = _content(page, known or {}, rows)
    html = (
        environment()
        .get_template(FRAGMENT_TEMPLATE)
        .render(page=page, now=page.generated_at, rows=sent, etag=etag)
    )
    return Fragment(html=html, etag=etag, rows=versions)


def render_details(page: StatusPage, provider: ProviderView) -> str:
    """A provider's details (its daily strip and every model in full), which the live
    page fetches when the provider is opened."""
    return (
        environment()
        .get_template(DETAILS_TEMPLATE)
        .render(page=page, provider=provider, now=page.generated_at)
    )
