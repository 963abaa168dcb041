"""``harness serve``: the live status page, its JSON API, badges and metrics.

Routes::

    GET  /                         the live page: the overview of every provider (the
                                   report's template, refreshing itself)
    GET  /fragment                 the page's <main>, which the live page swaps in: with
                                   If-None-Match, 304 when nothing changed, else only
                                   the provider rows that did
    GET  /provider/<provider>      one provider's page, every model in full (no script)
    GET  /provider/<provider>/details  its details, fetched when its row is opened
    GET  /api/status               the page as JSON (the report's status.json), kept
                                   between requests; with If-None-Match, 304 when
                                   nothing changed
    GET  /api/results              ?provider=&model=&limit= newest results, as JSON
    GET  /api/incidents            ?provider=&open=1&limit= incidents, newest first
    GET  /api/history              ?provider=&model=&days= probes, uptime, ttfc per UTC day
    GET  /feed.atom                every provider's incidents as an Atom feed
    GET  /feed/<provider>.atom     one provider's
    GET  /badge/<provider>.svg     a shields-style badge
    GET  /metrics                  Prometheus metrics
    GET  /healthz                  liveness
    *    /mcp                      the MCP server (streamable HTTP; see harness.web.mcp_server)
    POST /api/probe                run providers now (?provider=NAME, repeatable)
    POST /api/sandbox/fault        with --sandbox: {"fault": "PROVIDER=MODE[:ARG]"} sets an
                                   emulator fault at run time (MODE ``none`` clears it)

The POST routes exist only when HARNESS_ADMIN_TOKEN is set, and need
``Authorization: Bearer <token>`` (compared in constant time).

Every answer of a kilobyte or more is gzip-compressed for clients that accept it.

When the store's database cannot be reached, every route that reads it answers 503
with a page (or JSON) that says so, instead of an error; probing goes on, its results
waiting in the spool.

The store, the sandbox emulators and the prober live in ``cleanup_ctx``, so they
start with the app and stop, in reverse order, when it stops. The prober (the probe
scheduler, with a store of its own, and the sandbox's emulators when it probes them)
runs in a process of its own under ``harness serve`` (:mod:`harness.pipeline.prober_process`),
else on an event loop in a thread of its own (:mod:`harness.pipeline.prober`): a
request to this app never holds up a probe's callbacks.
"""

from __future__ import annotations

import asyncio
import gzip
import hmac
import html
import json
import logging
import os
import signal
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import hdrs, web

from harness.emulator import Emulator, FaultSpec, parse_fault
from harness.errors import ConfigError, StoreUnavailable
from harness.pipeline.costs import prices_of
from harness.pipeline.prober import Prober, ProberStopped
from harness.pipeline.prober_process import ProberLost, ProberProcess
from harness.pipeline.run import objectives_of
from harness.pipeline.serving import Probing, ProbingSpec, open_probing
from harness.policy.rollup import hour_of
from harness.policy.usage import daily_usage
from harness.probing import eventloop
from harness.report import (
    LiveOverview,
    LiveStatus,
    Overview,
    ProviderView,
    StatusPage,
    StatusText,
    badge_svg,
    content_security_policy,
    incident_document,
    provider_badge_state,
    read_page,
    render_details,
    render_fragment,
    render_live_page,
    render_page,
    with_overruns,
)
from harness.report.feed import FEED_INCIDENTS, incident_feed
from harness.report.history import history_days, history_document, read_history
from harness.report.view import USAGE_WINDOW
from harness.report.working import TargetRow, page_rows
from harness.settings.config import Settings
from harness.store import make_store
from harness.store.base import Store
from harness.targets.endpoints import install_endpoints
from harness.targets.sources import chosen_source, source_store_url
from harness.web.compression import PartsGzip
from harness.web.mcp_server import build_mcp, mount_mcp
from harness.web.metrics import CONTENT_TYPE, Metrics, Scrapes
from providers import PROVIDERS

log = logging.getLogger(__name__)

ADMIN_TOKEN_ENV = "HARNESS_ADMIN_TOKEN"
RESULTS_LIMIT_DEFAULT = 50
RESULTS_LIMIT_MAX = 1000
INCIDENTS_LIMIT_DEFAULT = 50
INCIDENTS_LIMIT_MAX = 1000
HISTORY_DAYS_DEFAULT = 90
COMPRESS_FROM_BYTES = 1024
"""Smaller answers go uncompressed: gzip would barely shrink them."""
PAGES_REMEMBERED = 64
"""How many of the pages it sent the server remembers the rows of (for a refresh
sending only the rows that changed since); an older one is sent whole."""
WEB_NICENESS = 10
"""How much lower than its prober's the priority of ``harness serve``'s web process is:
on a busy machine the page's requests wait, never the probes' callbacks."""
SHUTDOWN_GRACE_S = 10.0
"""How long in-flight probes may finish at shutdown before they are cancelled."""

_BASE_CSP = "default-src 'none'; frame-ancestors 'none'"


@dataclass(frozen=True)
class ServeOptions:
    """How one app serves and probes."""

    settings: Settings
    store_url: str
    interval: float
    refresh: float
    sandbox: bool
    admin_token: str | None
    schedule: bool
    faults: Mapping[str, FaultSpec]
    shutdown_grace: float
    prober_process: bool


OPTIONS = web.AppKey("options", ServeOptions)
STORE = web.AppKey("store", Store)
METRICS = web.AppKey("metrics", Metrics)
SCRAPES = web.AppKey("scrapes", Scrapes)
HOUR = timedelta(hours=1)
WARM_AFTER_S = 1.0
"""How long after the hour turns the overview is read in full again."""
PROBER: web.AppKey[Prober | ProberProcess] = web.AppKey("prober")
EMULATOR = web.AppKey("emulator", Emulator)
OVERVIEW = web.AppKey("overview", LiveOverview)


@dataclass
class _LivePage:
    """The live page sent last, with the overview it was made of."""

    overview: Overview | None = None
    etag: str = ""
    rows: Mapping[str, str] = field(default_factory=dict)
    html: bytes = b""
    gzipped: bytes = b""


LIVE_PAGE = web.AppKey("live_page", _LivePage)
SENT = web.AppKey("sent", OrderedDict[str, Mapping[str, str]])
"""The row versions of the pages sent lately, by etag, oldest first."""
STATUS = web.AppKey("status", LiveStatus)
STATUS_GZIP = web.AppKey("status_gzip", PartsGzip)
"""The status document sent last, gzip-compressed, with its parts' deflate kept."""


def refresh_period(interval: float) -> float:
    """How often the live page refreshes: half the probing interval, within 2-60 s."""
    return max(2.0, min(60.0, interval / 2))


def build_app(
    settings: Settings,
    store_url: str,
    *,
    interval: float,
    sandbox: bool,
    admin_token: str | None,
    schedule: bool = True,
    faults: Mapping[str, FaultSpec] | None = None,
    refresh: float | None = None,
    shutdown_grace: float = SHUTDOWN_GRACE_S,
    host: str = "127.0.0.1",
    prober_process: bool = False,
) -> web.Application:
    """The app of ``harness serve``.

    ``sandbox`` starts the emulators in-process (with ``faults``, provider -> FaultSpec)
    and probes them instead of the real hosts. ``admin_token`` enables ``POST
    /api/probe``. ``schedule=False`` serves the store without probing (tests, a
    read-only replica). ``refresh`` is the live page's period (default from ``interval``);
    ``shutdown_grace`` how long in-flight probes may finish when the app stops;
    ``host`` the address it is served on (the MCP transport guards loopback ones);
    ``prober_process`` runs the prober in a process of its own, as ``harness serve``
    does (else in a thread of this one, sharing the interpreter lock with the requests).
    """
    if interval <= 0:
        raise ValueError(f"interval must be positive, not {interval}")
    if interval != settings.serve.interval:
        settings = settings.every(interval)  # the default tier's period
    install_endpoints(settings)
    app = web.Application(middlewares=[_store_unreachable, _compressed])
    app[OPTIONS] = ServeOptions(
        settings=settings,
        store_url=store_url,
        interval=interval,
        refresh=refresh if refresh is not None else refresh_period(interval),
        sandbox=sandbox,
        admin_token=admin_token or None,
        schedule=schedule,
        faults=dict(faults or {}),
        shutdown_grace=shutdown_grace,
        prober_process=prober_process,
    )
    app[METRICS] = Metrics()
    app[SCRAPES] = Scrapes(app[METRICS])
    app[SENT] = OrderedDict()
    app[LIVE_PAGE] = _LivePage()
    app[OVERVIEW] = LiveOverview(settings, chosen_source(sandbox=sandbox))
    app[STATUS] = LiveStatus(settings, chosen_source(sandbox=sandbox))
    app[STATUS_GZIP] = PartsGzip()
    app.cleanup_ctx.append(_store_context)
    app.cleanup_ctx.append(_overview_warmth)
    if schedule:
        # The emulators answer the probes: they run on the prober's loop, with them.
        app.cleanup_ctx.append(_prober_context)
    elif sandbox:
        app.cleanup_ctx.append(_sandbox_context)
    app.on_response_prepare.append(_security_headers)
    app.router.add_get("/", index)
    app.router.add_get("/fragment", fragment)
    app.router.add_get("/provider/{provider}", provider_page)
    app.router.add_get("/provider/{provider}/details", provider_details)
    app.router.add_get("/api/status", api_status)
    app.router.add_get("/api/results", api_results)
    app.router.add_get("/api/incidents", api_incidents)
    app.router.add_get("/api/history", api_history)
    app.router.add_get("/feed.atom", feed)
    app.router.add_get("/feed/{provider}.atom", feed)
    app.router.add_get("/badge/{provider}.svg", badge)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)

    async def rows() -> list[TargetRow]:
        return page_rows((await _read_status_of(app)).page, settings)

    mount_mcp(app, build_mcp(lambda: app[STORE], settings, rows_of=rows), host=host)
    if app[OPTIONS].admin_token:
        app.router.add_post("/api/probe", api_probe)
        if sandbox:
            app.router.add_post("/api/sandbox/fault", api_sandbox_fault)
    return app


# --- lifecycle -------------------------------------------------------------------------


async def _store_context(app: web.Application) -> AsyncIterator[None]:
    store = make_store(app[OPTIONS].store_url)
    await store.open()
    try:
        app[STORE] = store
        objectives = objectives_of(app[OPTIONS].settings)
        try:
            app[METRICS].set_statuses((await store.statuses()).values(), objectives)
            app[METRICS].set_vantages((await store.vantage_statuses()).values())
        except StoreUnavailable as exc:  # the gauges fill in with the first stored run
            log.warning("%s", exc)
        yield
    finally:
        await store.close()


async def _overview_warmth(app: web.Application) -> AsyncIterator[None]:
    """Keep the live page's overview and the status document warm: read in full once
    the server starts and again as each hour turns (when their windows move), so that
    no viewer waits for a read of every provider; each request then reads again only
    the providers that changed."""

    async def warm() -> None:
        while True:
            try:
                await _read_overview_of(app)
                _gzipped(app, await _read_status_of(app))
            except StoreUnavailable as exc:  # the page says so itself; tried next hour
                log.warning("live page not warmed: %s", exc)
            now = datetime.now(UTC)
            await asyncio.sleep((hour_of(now) + HOUR - now).total_seconds() + WARM_AFTER_S)

    warming = asyncio.create_task(warm())
    try:
        yield
    finally:
        warming.cancel()
        await asyncio.gather(warming, return_exceptions=True)


async def _sandbox_context(app: web.Application) -> AsyncIterator[None]:
    options = app[OPTIONS]
    endpoints = list(options.settings.endpoints)
    async with Emulator(
        host="127.0.0.1", port=0, faults=options.faults, endpoints=endpoints
    ) as emulator:
        app[EMULATOR] = emulator
        yield


async def _prober_context(app: web.Application) -> AsyncIterator[None]:
    options = app[OPTIONS]
    spec = ProbingSpec(
        options.settings, options.store_url, sandbox=options.sandbox, faults=options.faults
    )
    prober: Prober | ProberProcess
    if options.prober_process:
        prober = ProberProcess(spec, app[METRICS], grace=options.shutdown_grace)
    else:

        async def setup(stack: AsyncExitStack) -> Probing:
            return await open_probing(stack, spec, app[METRICS])

        prober = Prober(setup, grace=options.shutdown_grace)
    await prober.start()
    app[PROBER] = prober
    try:
        yield
    finally:
        await prober.stop()


# --- an unreachable store ----------------------------------------------------------------


@web.middleware
async def _store_unreachable(
    request: web.Request, handler: Callable[[web.Request], Any]
) -> web.StreamResponse:
    """A store that cannot be reached is said so, with 503, on every route that reads it."""
    try:
        response: web.StreamResponse = await handler(request)
    except StoreUnavailable as exc:
        log.warning("%s %s: %s", request.method, request.path, exc)
        message = f"The result store is unreachable: {exc}. Probing goes on; results are kept"
        message += " locally and stored when the database is back."
        if request.path.startswith("/api/"):
            return _json_error(503, message)
        return web.Response(status=503, text=_unreachable_page(message), content_type="text/html")
    return response


@web.middleware
async def _compressed(
    request: web.Request, handler: Callable[[web.Request], Any]
) -> web.StreamResponse:
    """gzip (or deflate) for every whole answer of :data:`COMPRESS_FROM_BYTES` or more,
    when the client accepts it; streamed answers (MCP) and those a handler compressed
    itself (``/api/status``, from its cache) are left as they are."""
    response: web.StreamResponse = await handler(request)
    big = (response.content_length or 0) >= COMPRESS_FROM_BYTES
    encoded = hdrs.CONTENT_ENCODING in response.headers
    if isinstance(response, web.Response) and big and not encoded:
        response.enable_compression()
    return response


def _unreachable_page(message: str) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Provider status · store unreachable</title></head><body>"
        '<h1>Provider status</h1><main id="status"><p class="error" role="alert">'
        f"{html.escape(message)}</p></main></body></html>"
    )


# --- headers ---------------------------------------------------------------------------


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", _BASE_CSP)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "no-referrer"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    headers.setdefault("Cache-Control", "no-store")


def _json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


# --- pages -----------------------------------------------------------------------------


async def _read_page(request: web.Request, only: str | None = None) -> StatusPage:
    options = request.app[OPTIONS]
    source = chosen_source(sandbox=options.sandbox)
    page = await read_page(request.app[STORE], options.settings, source=source, only=only)
    return with_overruns(page, await _overruns(request.app))


async def _overruns(app: web.Application) -> dict[str, int]:
    """Each scheduled provider's overruns so far (none when no schedule runs)."""
    prober = app.get(PROBER)
    if prober is None:
        return {}
    try:
        return await prober.overruns()
    except ProberStopped:
        return {}


async def _read_overview(request: web.Request) -> Overview:
    return await _read_overview_of(request.app)


async def _read_overview_of(app: web.Application) -> Overview:
    overruns = await _overruns(app)
    return await app[OVERVIEW].read(app[STORE], overruns=overruns)


def _remember(app: web.Application, etag: str, rows: Mapping[str, str]) -> None:
    sent = app[SENT]
    sent[etag] = rows
    sent.move_to_end(etag)
    while len(sent) > PAGES_REMEMBERED:
        sent.popitem(last=False)


def _quoted(etag: str) -> str:
    return f'"{etag}"'


async def index(request: web.Request) -> web.Response:
    """The live page: every provider's one-row overview; its details come when opened.
    The page made of an overview is kept with its gzip: people whose requests shared
    one update of the overview share its page too."""
    app = request.app
    overview = await _read_overview(request)
    sent = app[LIVE_PAGE]
    if sent.overview is not overview:
        refresh = app[OPTIONS].refresh
        live = render_live_page(
            overview.page, refresh_s=refresh, fragment_url="fragment", rows=overview.rows
        )
        body = live.html.encode()
        zipped = await asyncio.to_thread(gzip.compress, body, 6, mtime=0)
        sent.overview, sent.etag, sent.rows = overview, live.etag, live.rows
        sent.html, sent.gzipped = body, zipped
    _remember(app, sent.etag, sent.rows)
    headers = {
        hdrs.CONTENT_TYPE: "text/html; charset=utf-8",
        "Content-Security-Policy": f"{content_security_policy(live=True)}; frame-ancestors 'none'",
        "Vary": "Accept-Encoding",
    }
    if not _accepts_gzip(request):
        return web.Response(body=sent.html, headers=headers)
    headers[hdrs.CONTENT_ENCODING] = "gzip"
    return web.Response(body=sent.gzipped, headers=headers)


async def fragment(request: web.Request) -> web.Response:
    """The page's content alone, for the live page's refresh. With ``If-None-Match``
    naming a page sent before: 304 when nothing changed, else the rows that changed in
    full and the others as stand-ins the page fills from its own copy."""
    overview = await _read_overview(request)
    had = request.headers.get("If-None-Match", "").strip().strip('"')
    fresh = render_fragment(overview.page, request.app[SENT].get(had), overview.rows)
    _remember(request.app, fresh.etag, fresh.rows)
    if had == fresh.etag:
        return web.Response(status=304, headers={"ETag": _quoted(fresh.etag)})
    return web.Response(
        text=fresh.html, content_type="text/html", headers={"ETag": _quoted(fresh.etag)}
    )


async def _provider(request: web.Request) -> tuple[StatusPage, ProviderView]:
    name = request.match_info["provider"]
    page = await _read_page(request, only=name)
    provider = page.provider(name)
    if provider is None:
        raise web.HTTPNotFound(text=f"no provider {name!r}")
    return page, provider


async def provider_page(request: web.Request) -> web.Response:
    """One provider's page, every model in full: where its row's link leads without a
    script."""
    page, _ = await _provider(request)
    response = web.Response(text=render_page(page, back_url="../"), content_type="text/html")
    response.headers["Content-Security-Policy"] = (
        f"{content_security_policy(live=False)}; frame-ancestors 'none'"
    )
    return response


async def provider_details(request: web.Request) -> web.Response:
    """One provider's details, which the live page fetches when its row is opened."""
    page, provider = await _provider(request)
    return web.Response(text=render_details(page, provider), content_type="text/html")


async def api_status(request: web.Request) -> web.Response:
    """Everything the page shows, as JSON: kept between requests and read again only
    where the store changed (:class:`LiveStatus`). With ``If-None-Match`` naming the
    document, 304; gzip-compressed once per document for clients that accept it."""
    text = await _read_status_of(request.app)
    zipped = _accepts_gzip(request) and len(text.body) >= COMPRESS_FROM_BYTES
    # Each encoding is its own representation, so its own strong validator.
    etag = f"{text.etag}-gzip" if zipped else text.etag
    headers = {"ETag": _quoted(etag), "Vary": "Accept-Encoding", "Cache-Control": "no-cache"}
    if text.etag in _named_etags(request):
        return web.Response(status=304, headers=headers)
    if not zipped:
        return web.Response(
            body=text.body, content_type="application/json", charset="utf-8", headers=headers
        )
    headers[hdrs.CONTENT_ENCODING] = "gzip"
    return web.Response(
        body=_gzipped(request.app, text),
        content_type="application/json",
        charset="utf-8",
        headers=headers,
    )


async def _read_status_of(app: web.Application) -> StatusText:
    overruns = await _overruns(app)
    return await app[STATUS].read(app[STORE], overruns=overruns)


def _accepts_gzip(request: web.Request) -> bool:
    # The same test aiohttp's own compression makes of the header.
    return "gzip" in request.headers.get(hdrs.ACCEPT_ENCODING, "").lower()


def _named_etags(request: web.Request) -> set[str]:
    """The document versions ``If-None-Match`` names, whichever encoding each was of."""
    named = set()
    for tag in request.headers.get(hdrs.IF_NONE_MATCH, "").split(","):
        tag = tag.strip().removeprefix("W/").strip('"')
        named.add(tag.removesuffix("-gzip"))
    return named - {""}


def _gzipped(app: web.Application, text: StatusText) -> bytes:
    """``text`` gzip-compressed: once per document, and only its new parts."""
    return app[STATUS_GZIP].of(text.etag, text.parts)


def _dumps(value: Any) -> str:
    return json.dumps(value, indent=2)


async def api_results(request: web.Request) -> web.Response:
    """The newest results, optionally of one provider (and model); ``limit`` 1-1000."""
    query = request.query
    provider = query.get("provider") or None
    model = query.get("model") or None
    if provider is not None and provider not in PROVIDERS:
        return _json_error(400, f"unknown provider {provider!r}; known: {', '.join(PROVIDERS)}")
    if model is not None and provider is None:
        return _json_error(400, "model needs provider")
    raw_limit = query.get("limit", str(RESULTS_LIMIT_DEFAULT))
    try:
        limit = int(raw_limit)
    except ValueError:
        return _json_error(400, f"limit must be an integer, not {raw_limit!r}")
    if not 1 <= limit <= RESULTS_LIMIT_MAX:
        return _json_error(400, f"limit must be within 1-{RESULTS_LIMIT_MAX}, not {limit}")
    results = await request.app[STORE].results(provider=provider, model=model, limit=limit)
    return web.json_response({"results": [r.to_dict() for r in results]}, dumps=_dumps)


def _limit(raw: str, default: int, most: int) -> int | str:
    """``raw`` as a limit from 1 to ``most`` (``default`` when empty), or the error."""
    if not raw:
        return default
    try:
        limit = int(raw)
    except ValueError:
        return f"limit must be an integer, not {raw!r}"
    if not 1 <= limit <= most:
        return f"limit must be within 1-{most}, not {limit}"
    return limit


async def api_incidents(request: web.Request) -> web.Response:
    """Incidents, newest first: ``provider``, ``open=1`` for open ones only, ``limit``."""
    query = request.query
    provider = query.get("provider") or None
    if provider is not None and provider not in PROVIDERS:
        return _json_error(400, f"unknown provider {provider!r}; known: {', '.join(PROVIDERS)}")
    flag = query.get("open", "0")
    if flag not in ("0", "1", "true", "false"):
        return _json_error(400, f"open must be 1 or 0, not {flag!r}")
    limit = _limit(query.get("limit", ""), INCIDENTS_LIMIT_DEFAULT, INCIDENTS_LIMIT_MAX)
    if isinstance(limit, str):
        return _json_error(400, limit)
    incidents = await request.app[STORE].incidents(
        provider=provider, open_only=flag in ("1", "true"), limit=limit
    )
    now = datetime.now(UTC)
    return web.json_response(
        {"incidents": [incident_document(i, now) for i in incidents]}, dumps=_dumps
    )


async def api_history(request: web.Request) -> web.Response:
    """Probes, passes, uptime and ttfc percentiles per UTC day of one provider (or model)."""
    query = request.query
    provider = query.get("provider")
    if not provider:
        return _json_error(400, "provider is required: /api/history?provider=NAME&days=N")
    model = query.get("model") or None
    try:
        days = history_days(query.get("days", str(HISTORY_DAYS_DEFAULT)))
        history = await read_history(
            request.app[STORE], provider, model, days, now=datetime.now(UTC)
        )
    except ConfigError as exc:
        return _json_error(400, str(exc))
    return web.json_response(history_document(provider, model, history), dumps=_dumps)


async def feed(request: web.Request) -> web.Response:
    """The incidents' Atom feed: every provider's, or ``/feed/<provider>.atom``'s."""
    provider = request.match_info.get("provider")
    if provider is not None and provider not in PROVIDERS:
        raise web.HTTPNotFound(text=f"no provider {provider!r}")
    incidents = await request.app[STORE].incidents(provider=provider, limit=FEED_INCIDENTS)
    page_url = f"{request.url.origin()}/"
    body = incident_feed(incidents, page_url=page_url, now=datetime.now(UTC), provider=provider)
    response = web.Response(body=body, content_type="application/atom+xml", charset="utf-8")
    response.headers["Cache-Control"] = "no-cache"
    return response


async def badge(request: web.Request) -> web.Response:
    """``/badge/<provider>.svg``: 404 for anything but a known provider's name."""
    name = request.match_info["provider"]
    if name not in PROVIDERS:
        raise web.HTTPNotFound(text=f"no provider {name!r}")
    state = await provider_badge_state(request.app[STORE], request.app[OPTIONS].settings, name)
    response = web.Response(text=badge_svg(name, state), content_type="image/svg+xml")
    response.headers["Cache-Control"] = "no-cache"
    return response


async def metrics(request: web.Request) -> web.Response:
    """Prometheus metrics of this app, written at most once a second
    (:data:`~harness.web.metrics.SCRAPE_FRESH_S`); each target's tokens of the last day
    read at each writing."""
    app = request.app

    async def read_usage() -> None:
        settings = app[OPTIONS].settings
        since = datetime.now(UTC) - USAGE_WINDOW[1]
        try:
            usage = await app[STORE].usage(since)
        except StoreUnavailable as exc:  # the other metrics are this process's own: still served
            log.warning("tokens per day not refreshed: %s", exc)
        else:
            app[METRICS].set_usage(daily_usage(usage, prices_of(settings)))

    exposition = await app[SCRAPES].latest(read_usage)
    headers = {hdrs.CONTENT_TYPE: CONTENT_TYPE, "Vary": "Accept-Encoding"}
    if not _accepts_gzip(request):
        return web.Response(body=exposition.text, headers=headers)
    headers[hdrs.CONTENT_ENCODING] = "gzip"
    return web.Response(body=exposition.gzipped, headers=headers)


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the app answers; which providers are being probed right now."""
    prober = request.app.get(PROBER)
    probing = sorted(await prober.running()) if prober is not None else []
    return web.json_response({"status": "ok", "probing": probing})


def _refused(request: web.Request) -> web.Response | None:
    """None when the request carries the admin token, else the error response to send."""
    token = request.app[OPTIONS].admin_token
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if token is None or scheme.lower() != "bearer" or not given:
        response = _json_error(401, "an admin token is required: Authorization: Bearer <token>")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        return _json_error(403, "wrong admin token")
    return None


async def api_probe(request: web.Request) -> web.Response:
    """Start runs now (``?provider=NAME``, repeatable; default all), with the admin token."""
    if (refusal := _refused(request)) is not None:
        return refusal
    prober = request.app.get(PROBER)
    if prober is None:
        return _json_error(409, "probing is not scheduled in this server")
    names = request.query.getall("provider", [])
    unknown = [n for n in names if n not in prober.providers]
    if unknown:
        return _json_error(400, f"not probed here: {unknown}; probed: {list(prober.providers)}")
    return web.json_response({"runs": await prober.trigger(names or None)}, status=202)


async def api_sandbox_fault(request: web.Request) -> web.Response:
    """Set a fault of the in-process emulators: ``{"fault": "AutonomousAI=http_500"}``."""
    if (refusal := _refused(request)) is not None:
        return refusal
    try:
        body = await request.json()
    except ValueError:
        return _json_error(400, 'expected a JSON body: {"fault": "PROVIDER=MODE[:ARG]"}')
    text = body.get("fault") if isinstance(body, dict) else None
    if not isinstance(text, str):
        return _json_error(400, 'expected a JSON body: {"fault": "PROVIDER=MODE[:ARG]"}')
    try:
        provider, spec = parse_fault(text, request.app[OPTIONS].settings.endpoints)
    except ValueError as exc:
        return _json_error(400, str(exc))
    prober = request.app.get(PROBER)
    if prober is None:
        request.app[EMULATOR].set_fault(provider, spec)
    else:  # the emulators run with the prober: set it there
        await prober.set_fault(provider, spec)
    return web.json_response({"provider": provider, "fault": spec.mode.value})


# --- running ---------------------------------------------------------------------------


def serve(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    interval: float | None = None,
    sandbox: bool = False,
    faults: Mapping[str, FaultSpec] | None = None,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the live page until SIGINT or SIGTERM, then stop gracefully.

    ``interval`` defaults to ``serve.interval`` of the settings (300 s). The admin token
    comes from ``$HARNESS_ADMIN_TOKEN``. ``faults`` (provider -> FaultSpec) start the
    sandbox emulators faulty. ``ready`` is called with the page's URL once listening
    (default: print it). The prober runs in a process of its own; should that end
    unexpectedly, the server stops too and :class:`ProberLost` is raised.
    """
    app = build_app(
        settings,
        source_store_url(settings, chosen_source(sandbox=sandbox)),
        interval=interval if interval is not None else settings.serve.interval,
        sandbox=sandbox,
        admin_token=os.environ.get(ADMIN_TOKEN_ENV) or None,
        faults=faults,
        host=host,
        prober_process=True,
    )
    eventloop.run(_serve(app, host, port, ready or _print_url))


def _print_url(url: str) -> None:
    print(f"status page at {url}  (Ctrl-C to stop)", flush=True)


async def _serve(app: web.Application, host: str, port: int, ready: Callable[[str], None]) -> None:
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        prober = app.get(PROBER)
        lost = prober.lost if isinstance(prober, ProberProcess) else None
        if lost is not None:
            # Started with this process's priority, the prober keeps it; this one,
            # serving people, yields the CPU to it when both want it.
            os.nice(WEB_NICENESS)
        ready(_url(runner.addresses[0]))
        await _until_stopped(lost)
    finally:
        await runner.cleanup()
    if lost is not None and lost.done():
        raise lost.result()


def _url(address: Any) -> str:
    host, port = address[0], address[1]
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


async def _until_stopped(lost: asyncio.Future[ProberLost] | None) -> None:
    """Until SIGINT or SIGTERM, or the prober's process is ``lost``."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    if lost is not None:
        lost.add_done_callback(lambda _: stop.set())
    try:
        await stop.wait()
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
