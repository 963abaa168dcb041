"""One probe: drive one provider stream under deadlines, time it, classify it.

:func:`probe` never raises (apart from cancellation) and never hangs: every wait for
the provider's next item runs under an ``asyncio`` deadline, the response is capped
in size, and the stream is always closed so its aiohttp session is released.

Deadlines (see :class:`Deadlines`), all measured from the probe's start:

* connect: each connection attempt (DNS + TCP + TLS) must finish within ``connect``;
* first chunk: the first text must arrive within ``first_chunk`` of the first
  connection being established (and never later than ``connect + first_chunk``);
* stall: after the first text, each next item must arrive within ``stall``;
* total: the whole stream must end within ``total``;
* size: reading stops once the text exceeds ``max_chars`` characters.

The connection signal comes from an aiohttp ``TraceConfig`` that the probe attaches to
every session the provider opens (``providers.http.session_hooks``); the same trace
gives the phase timings. A provider may make several requests (token, session, chat):
``dns_ms`` and ``connect_ms`` are those of the last connection set up before the first
text (``connect_ms`` spans DNS, TCP and TLS, as aiohttp traces it), and ``ttfb_ms`` is
probe start -> response headers of the last request started before the first text,
i.e. the request whose body carries the stream (``None`` when it never answered).
``http_status`` is the status carried by the exception, else that request's status.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import aiohttp

from providers.base import AsyncGeneratorProvider, AsyncResult
from providers.errors import RateLimitError
from providers.http import session_hooks
from providers.messages import FinishReason, Usage

from . import __version__
from .classify import Expired, Phase, classify, status_of
from .prompts import PromptRun
from .redact import LABEL_LIMIT, clean_error, clean_sample
from .result import FailureKind, ProbeResult, Source, StreamEnd

log = logging.getLogger(__name__)

CLOSE_GRACE_S = 5.0
"""How long a provider may take to clean up after the probe stops reading."""


@dataclass(frozen=True)
class Deadlines:
    """Per-probe limits: seconds for the deadlines, characters for the size cap."""

    connect: float = 10.0
    first_chunk: float = 30.0
    stall: float = 30.0
    total: float = 120.0
    max_chars: int = 1_000_000

    def __post_init__(self) -> None:
        for name in ("connect", "first_chunk", "stall", "total", "max_chars"):
            if getattr(self, name) <= 0:
                raise ValueError(f"deadline {name} must be positive, got {getattr(self, name)}")


DEFAULT_DEADLINES = Deadlines()


class _Watch:
    """The clock, phases, deadline and phase timings of one probe.

    Times are seconds since the probe's start, on ``time.perf_counter``. aiohttp's
    trace signals move the phases and reschedule the pending deadline.
    """

    def __init__(self, deadlines: Deadlines) -> None:
        self.deadlines = deadlines
        self.start = time.perf_counter()
        self._connecting: dict[int, float] = {}
        self.connected_at: float | None = None
        self.responded = False
        self.first_chunk_at: float | None = None
        self.last_item_at: float | None = None
        self.ttfb: float | None = None
        self.dns: float | None = None
        self.connect: float | None = None
        self.status: int | None = None
        self.timer: asyncio.Timeout | None = None

    def now(self) -> float:
        return time.perf_counter() - self.start

    def bound(self) -> tuple[float, Expired]:
        """The earliest deadline in force now, and which one it is."""
        d = self.deadlines
        candidates = [(d.total, Expired.TOTAL)]
        if self.first_chunk_at is None:
            candidates.append((d.connect + d.first_chunk, Expired.FIRST_CHUNK))
            if self.connected_at is not None:
                candidates.append((self.connected_at + d.first_chunk, Expired.FIRST_CHUNK))
            if self._connecting:
                candidates.append((min(self._connecting.values()) + d.connect, Expired.CONNECT))
        else:
            assert self.last_item_at is not None
            candidates.append((self.last_item_at + d.stall, Expired.STALL))
        return min(candidates, key=lambda c: c[0])

    def loop_deadline(self) -> float:
        """:meth:`bound` on the event loop's clock, for ``asyncio.timeout_at``."""
        return asyncio.get_running_loop().time() + (self.bound()[0] - self.now())

    def phase(self) -> Phase:
        if self.first_chunk_at is not None:
            return Phase.STREAMING
        if self._connecting or self.connected_at is None:
            return Phase.CONNECTING
        return Phase.RESPONDED if self.responded else Phase.CONNECTED

    def _moved(self) -> None:
        if self.timer is not None:
            self.timer.reschedule(self.loop_deadline())

    def trace_config(self) -> aiohttp.TraceConfig:
        """A trace config feeding this watch; attach it with ``session_hooks``."""
        config = aiohttp.TraceConfig()
        config.on_dns_resolvehost_start.append(self._traced(self._dns_start))
        config.on_dns_resolvehost_end.append(self._traced(self._dns_end))
        config.on_connection_create_start.append(self._traced(self._connect_start))
        config.on_connection_create_end.append(self._traced(self._connect_end))
        config.on_connection_reuseconn.append(self._traced(self._reused))
        config.on_request_start.append(self._traced(self._request))
        config.on_request_end.append(self._traced(self._headers))
        config.on_request_exception.append(self._traced(self._failed))
        return config

    def _traced(
        self, handler: Callable[[SimpleNamespace, Any], None]
    ) -> Callable[[aiohttp.ClientSession, SimpleNamespace, Any], Awaitable[None]]:
        """An aiohttp trace callback running ``handler(ctx, params)`` until a deadline
        fires: from then on the provider's unwinding must not move the phase that the
        deadline caught it in."""

        async def callback(_: aiohttp.ClientSession, ctx: SimpleNamespace, params: Any) -> None:
            if self.timer is None or not self.timer.expired():
                handler(ctx, params)

        return callback

    def _dns_start(self, ctx: SimpleNamespace, _: object) -> None:
        ctx.dns_start = self.now()

    def _dns_end(self, ctx: SimpleNamespace, _: object) -> None:
        if self.first_chunk_at is None:
            self.dns = self.now() - ctx.dns_start

    def _connect_start(self, ctx: SimpleNamespace, _: object) -> None:
        self._connecting[id(ctx)] = self.now()
        self._moved()

    def _connect_end(self, ctx: SimpleNamespace, _: object) -> None:
        started = self._connecting.pop(id(ctx), None)
        now = self.now()
        if started is not None and self.first_chunk_at is None:
            self.connect = now - started
        if self.connected_at is None:
            self.connected_at = now
        self._moved()

    def _reused(self, _: SimpleNamespace, __: object) -> None:
        if self.connected_at is None:
            self.connected_at = self.now()
            self._moved()

    def _request(self, _: SimpleNamespace, __: object) -> None:
        # Before the first text, a new request becomes the one that will carry the
        # stream: its answer (or silence) is what ttfb, status and phase describe.
        if self.first_chunk_at is None:
            self.responded = False
            self.ttfb = None
            self.status = None

    def _headers(self, _: SimpleNamespace, params: aiohttp.TraceRequestEndParams) -> None:
        if self.first_chunk_at is None:
            self.responded = True
            self.ttfb = self.now()
            self.status = params.response.status

    def _failed(self, ctx: SimpleNamespace, _: object) -> None:
        # A failed attempt is no longer pending; the exception tells the rest.
        if self._connecting.pop(id(ctx), None) is not None:
            self._moved()


@dataclass
class _Read:
    """What reading the stream produced."""

    pieces: list[str] = field(default_factory=list)
    chunks: int = 0
    chars: int = 0
    max_gap: float | None = None
    last_chunk_at: float | None = None
    finish_reason: str | None = None
    usage: Usage | None = None
    clean_end: bool = False
    error: BaseException | None = None
    expired: Expired | None = None
    capped: bool = False
    ended_at: float = 0.0


async def _read(stream: AsyncResult, watch: _Watch, out: _Read) -> None:
    """Pull items until the stream ends, fails, overruns a deadline or the size cap."""
    while True:
        timer = asyncio.timeout_at(watch.loop_deadline())
        try:
            async with timer:
                watch.timer = timer
                item: object = await anext(stream)  # providers are not trusted to type
        except StopAsyncIteration:
            out.clean_end = True
            return
        except TimeoutError as exc:
            if timer.expired():
                out.expired = watch.bound()[1]
            else:
                out.error = exc
            return
        except Exception as exc:
            out.error = exc
            return
        finally:
            watch.timer = None
        now = watch.now()
        if watch.first_chunk_at is not None:
            watch.last_item_at = now  # any item is a sign of life for the stall deadline
        if isinstance(item, FinishReason):
            out.finish_reason = out.finish_reason or item.reason
            continue
        if isinstance(item, Usage):
            out.usage = item  # the last report counts: some upstreams send running totals
            continue
        if not isinstance(item, str):
            out.error = TypeError(f"the stream yielded a {type(item).__name__}, not text")
            return
        if not item:
            continue
        if out.last_chunk_at is None:
            watch.first_chunk_at = watch.last_item_at = now
        else:
            gap = now - out.last_chunk_at
            out.max_gap = gap if out.max_gap is None else max(out.max_gap, gap)
        out.last_chunk_at = now
        out.chunks += 1
        out.chars += len(item)
        out.pieces.append(item)
        if out.chars > watch.deadlines.max_chars:
            out.capped = True
            return


async def _close(stream: AsyncResult) -> None:
    """Close the stream (a no-op when it already ended), bounded in time.

    The outcome is decided by then; a failing cleanup is logged, not reported.
    """
    try:
        async with asyncio.timeout(CLOSE_GRACE_S):
            await stream.aclose()
    except Exception as exc:
        # The message may quote the upstream: logged trimmed and escaped (%r), never raw,
        # so it cannot rewrite the terminal of whoever reads the log.
        log.warning(
            "closing the provider stream failed: %s: %r",
            type(exc).__name__,
            clean_error(str(exc)),
        )


async def _drive(
    provider: type[AsyncGeneratorProvider],
    model: str,
    run: PromptRun,
    watch: _Watch,
    proxy: str | None,
) -> _Read:
    out = _Read()
    try:
        stream = provider.create_async_generator(
            model=model, messages=list(run.messages), proxy=proxy
        )
    except Exception as exc:
        out.error = exc
        out.ended_at = watch.now()
        return out
    try:
        await _read(stream, watch, out)
        out.ended_at = watch.now()
    finally:
        await _close(stream)
    return out


def _describe(out: _Read, kind: FailureKind, run: PromptRun, text: str, d: Deadlines) -> str:
    """The error text of a failed probe (before redaction)."""
    if out.capped:
        return f"the response exceeded the size cap of {d.max_chars} characters; stopped reading"
    if out.expired is Expired.CONNECT:
        return f"no connection within {d.connect:g} s (connect deadline)"
    if out.expired is Expired.FIRST_CHUNK:
        return f"no text within {d.first_chunk:g} s of connecting (first-chunk deadline)"
    if out.expired is Expired.STALL:
        return f"stalled: no chunk for {d.stall:g} s after {out.chunks} chunk(s) (stall deadline)"
    if out.expired is Expired.TOTAL:
        return f"total deadline of {d.total:g} s exceeded after {out.chunks} chunk(s) ({kind})"
    if out.error is not None:
        message = str(out.error)
        described = (
            f"{type(out.error).__name__}: {message}" if message else type(out.error).__name__
        )
        if isinstance(out.error, RateLimitError) and out.error.retry_after is not None:
            described += f" (retry after {out.error.retry_after:g} s)"
        return described
    if kind is FailureKind.EMPTY:
        return "the stream ended without any text"
    return run.explain(text) or kind.value


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


async def probe(
    provider_cls: type[AsyncGeneratorProvider],
    model: str,
    prompt_run: PromptRun,
    *,
    deadlines: Deadlines = DEFAULT_DEADLINES,
    source: Source = Source.LIVE,
    vantage: str = "",
    concurrency: int = 1,
    run_id: str = "",
    proxy: str | None = None,
    secrets: Sequence[str] = (),
) -> ProbeResult:
    """Send ``prompt_run``'s messages to ``provider_cls``/``model`` and judge the streamed answer.

    Returns one :class:`ProbeResult` (``ok`` with ``kind=None``, or exactly one failure
    kind). ``error`` and ``sample`` are redacted (built-in patterns plus ``secrets``)
    and trimmed. Redirection (``providers.upstream``) is taken from the caller's context.
    """
    started_at = datetime.now(UTC)
    watch = _Watch(deadlines)
    with session_hooks(trace_configs=[watch.trace_config()]):
        out = await _drive(provider_cls, model, prompt_run, watch, proxy)
    text = "".join(out.pieces)
    has_text = bool(text.strip())
    status = status_of(out.error) if out.error is not None else None
    if status is None:
        status = watch.status
    kind = classify(
        out.error,
        phase=watch.phase(),
        expired=out.expired,
        has_text=has_text,
        check_passed=has_text and prompt_run.check(text),
        size_capped=out.capped,
        status=status,
    )
    if out.finish_reason is not None:
        end = StreamEnd.FINISH
    else:
        end = StreamEnd.EOF if out.clean_end else StreamEnd.CUT
    error = (
        None
        if kind is None
        else clean_error(_describe(out, kind, prompt_run, text, deadlines), secrets)
    )
    return ProbeResult(
        provider=provider_cls.name(),
        model=model,
        prompt=prompt_run.prompt,
        started_at=started_at,
        ok=kind is None,
        kind=kind,
        http_status=status,
        error=error,
        ttfb_ms=_ms(watch.ttfb),
        ttfc_ms=_ms(watch.first_chunk_at),
        total_ms=_ms(out.ended_at),
        dns_ms=_ms(watch.dns),
        connect_ms=_ms(watch.connect),
        chunks=out.chunks,
        chars=out.chars,
        max_gap_ms=_ms(out.max_gap),
        end=end,
        finish_reason=(
            None
            if out.finish_reason is None
            else clean_error(out.finish_reason, secrets, limit=LABEL_LIMIT)
        ),
        sample=clean_sample(text, secrets),
        source=source,
        vantage=vantage,
        version=__version__,
        concurrency=concurrency,
        run_id=run_id,
        prompt_tokens=out.usage.prompt_tokens if out.usage else None,
        completion_tokens=out.usage.completion_tokens if out.usage else None,
    )
