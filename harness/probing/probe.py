"""One probe: drive one provider stream under deadlines, time it, classify it.

:func:`probe` never raises (apart from cancellation) and never hangs: every wait for
the provider's next item runs under an ``asyncio`` deadline, the response is capped
in size, and the stream is always closed so its aiohttp session is released.

Deadlines (see :class:`Deadlines`), all measured from the probe's start:

* connect: each connection attempt (DNS + TCP + TLS) must finish within ``connect``;
* first chunk: the first token (text or thinking) must arrive within ``first_chunk``
  of the first connection being established (and never later than
  ``connect + first_chunk``);
* stall: after the first token, each next item must arrive within ``stall`` (a model
  streaming its thoughts is alive);
* total: the whole stream must end within ``total``;
* size: reading stops once the text exceeds ``max_chars`` characters.

The connection signal comes from one aiohttp ``TraceConfig`` shared by every probe and
attached to every session the provider opens (``providers.http.session_hooks``); a
context variable tells its callbacks whose probe they serve. The same trace gives the
phase timings. A provider may make several requests (token, session, chat):
``dns_ms`` and ``connect_ms`` are those of the last connection set up before the first
text (``connect_ms`` spans DNS, TCP and TLS, as aiohttp traces it), and ``ttfb_ms`` is
probe start -> response headers of the last request started before the first text,
i.e. the request whose body carries the stream (``None`` when it never answered).
``http_status`` is the status carried by the exception, else that request's status.

``ttft_ms`` is taken the moment the provider hands over its first token of any kind
(:class:`~providers.messages.Thinking` included), ``ttfc_ms`` the moment it hands over
its first answer text
(aiohttp has no earlier signal for a streamed body: its chunk trace fires only for
``read()``), and ``loop_lag_ms`` says how late the event loop was running callbacks
around then (:mod:`harness.probing.looplag`): the part of ``ttfc_ms`` that the harness's own
busy loop may have added.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import aiohttp

from harness import __version__
from harness.policy.prompts import PromptRun
from harness.probing.classify import Expired, Phase, classify, status_of
from harness.probing.looplag import lag_monitor
from harness.redact import LABEL_LIMIT, clean_error, clean_sample, quoted_excerpt
from harness.result import FailureKind, ProbeResult, Source, StreamEnd
from providers.base import AsyncGeneratorProvider, AsyncResult
from providers.errors import ProviderKilledError, RateLimitError, ResponseError
from providers.http import session_hooks
from providers.messages import FinishReason, Thinking, Usage

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
    trace signals (through the shared :data:`_TRACE`) move the phases and tighten the
    pending deadline.
    """

    def __init__(self, deadlines: Deadlines) -> None:
        self.deadlines = deadlines
        self.start = time.perf_counter()
        self._connecting: dict[int, float] = {}
        self.connected_at: float | None = None
        self.responded = False
        self.first_chunk_at: float | None = None
        self.first_token_at: float | None = None
        self.last_item_at: float | None = None
        self.ttfb: float | None = None
        self.dns: float | None = None
        self.connect: float | None = None
        self.status: int | None = None
        self.deadline: _Deadline | None = None
        self.expired = False
        """Set once a deadline fired: from then on the provider's unwinding must not move
        the phase that the deadline caught it in."""

    def now(self) -> float:
        return time.perf_counter() - self.start

    def bound(self) -> tuple[float, Expired]:
        """The earliest deadline in force now, and which one it is."""
        d = self.deadlines
        best, which = d.total, Expired.TOTAL
        if self.first_token_at is None:
            limit = d.connect + d.first_chunk
            if self.connected_at is not None:
                limit = min(limit, self.connected_at + d.first_chunk)
            if limit < best:
                best, which = limit, Expired.FIRST_CHUNK
            if self._connecting:
                limit = min(self._connecting.values()) + d.connect
                if limit < best:
                    best, which = limit, Expired.CONNECT
        else:
            assert self.last_item_at is not None
            limit = self.last_item_at + d.stall
            if limit < best:
                best, which = limit, Expired.STALL
        return best, which

    def phase(self) -> Phase:
        if self.first_chunk_at is not None:
            return Phase.STREAMING
        if self._connecting or self.connected_at is None:
            return Phase.CONNECTING
        return Phase.RESPONDED if self.responded else Phase.CONNECTED

    def _moved(self) -> None:
        if self.deadline is not None:
            self.deadline.tighten()

    def dns_start(self, ctx: SimpleNamespace, _: object) -> None:
        ctx.dns_start = self.now()

    def dns_end(self, ctx: SimpleNamespace, _: object) -> None:
        if self.first_chunk_at is None:
            self.dns = self.now() - ctx.dns_start

    def connect_start(self, ctx: SimpleNamespace, _: object) -> None:
        self._connecting[id(ctx)] = self.now()
        self._moved()

    def connect_end(self, ctx: SimpleNamespace, _: object) -> None:
        started = self._connecting.pop(id(ctx), None)
        now = self.now()
        if started is not None and self.first_chunk_at is None:
            self.connect = now - started
        if self.connected_at is None:
            self.connected_at = now
        self._moved()

    def reused(self, _: SimpleNamespace, __: object) -> None:
        if self.connected_at is None:
            self.connected_at = self.now()
            self._moved()

    def request(self, _: SimpleNamespace, __: object) -> None:
        # Before the first text, a new request becomes the one that will carry the
        # stream: its answer (or silence) is what ttfb, status and phase describe.
        if self.first_chunk_at is None:
            self.responded = False
            self.ttfb = None
            self.status = None

    def headers(self, _: SimpleNamespace, params: aiohttp.TraceRequestEndParams) -> None:
        if self.first_chunk_at is None:
            self.responded = True
            self.ttfb = self.now()
            self.status = params.response.status

    def failed(self, ctx: SimpleNamespace, _: object) -> None:
        # A failed attempt is no longer pending; the exception tells the rest.
        if self._connecting.pop(id(ctx), None) is not None:
            self._moved()


class _Deadline:
    """One timer for a whole read, instead of one per item.

    It is armed at the earliest deadline in force. Items arriving only move deadlines
    later (the stall deadline), which costs nothing: when the timer fires it looks at
    the deadline again and, if that has moved on, re-arms itself for it. Only a
    deadline moving earlier (a connection attempt starting) re-arms it at once. When a
    deadline has truly passed it cancels the probe's task, as ``asyncio.timeout`` does.
    """

    SLACK_S = 0.0005
    """A timer may run a hair before the moment it was due (the loop's clock resolution)."""

    def __init__(self, watch: _Watch) -> None:
        self._watch = watch
        self._loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None, "a probe runs inside a task"
        self.task = task
        self._handle: asyncio.TimerHandle | None = None
        self._due = math.inf
        self.fired = False

    def _when(self) -> float:
        """The deadline in force, on the loop's clock."""
        return self._loop.time() + (self._watch.bound()[0] - self._watch.now())

    def _arm(self, when: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._due = when
        self._handle = self._loop.call_at(when, self._check)

    def tighten(self) -> None:
        """Re-arm now if the deadline in force is earlier than the timer."""
        if not self.fired:
            when = self._when()
            if when < self._due:
                self._arm(when)

    def _check(self) -> None:
        self._handle = None
        when = self._when()
        if when > self._loop.time() + self.SLACK_S:
            self._arm(when)
            return
        self.fired = self._watch.expired = True
        self.task.cancel()

    def disarm(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


def _traced(
    handler: Callable[[_Watch, SimpleNamespace, Any], None],
) -> Callable[[aiohttp.ClientSession, SimpleNamespace, Any], Awaitable[None]]:
    """An aiohttp trace callback running ``handler(watch, ctx, params)`` for the probe of
    the current context, until a deadline has fired on it."""

    async def callback(_: aiohttp.ClientSession, ctx: SimpleNamespace, params: Any) -> None:
        watch = _current_watch.get()
        if watch is not None and not watch.expired:
            handler(watch, ctx, params)

    return callback


_current_watch: ContextVar[_Watch | None] = ContextVar("harness_probe_watch", default=None)
"""The probe whose trace signals the shared trace config is hearing: set by
:func:`probe` in its task (and inherited by any task the provider starts)."""


def _trace_config() -> aiohttp.TraceConfig:
    config = aiohttp.TraceConfig()
    config.on_dns_resolvehost_start.append(_traced(_Watch.dns_start))
    config.on_dns_resolvehost_end.append(_traced(_Watch.dns_end))
    config.on_connection_create_start.append(_traced(_Watch.connect_start))
    config.on_connection_create_end.append(_traced(_Watch.connect_end))
    config.on_connection_reuseconn.append(_traced(_Watch.reused))
    config.on_request_start.append(_traced(_Watch.request))
    config.on_request_end.append(_traced(_Watch.headers))
    config.on_request_exception.append(_traced(_Watch.failed))
    config.freeze()
    return config


_TRACE = _trace_config()
"""One trace config for every probe (building one per probe cost a sixth of the
harness's CPU): its callbacks find their probe through :data:`_current_watch`."""


@dataclass
class _Read:
    """What reading the stream produced."""

    pieces: list[str] = field(default_factory=list)
    chunks: int = 0
    chars: int = 0
    thought_chars: int = 0
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
    deadline = watch.deadline = _Deadline(watch)
    task = deadline.task
    items = aiter(stream)
    cancelling = task.cancelling()
    deadline.tighten()
    try:
        while True:
            try:
                item: object = await anext(items)  # providers are not trusted to type
            except StopAsyncIteration:
                out.clean_end = True
                return
            except asyncio.CancelledError:
                if deadline.fired and task.uncancel() <= cancelling:
                    out.expired = watch.bound()[1]
                    return
                raise
            except Exception as exc:
                fired = deadline.fired and task.uncancel() <= cancelling
                if not fired and task.cancelling() > cancelling:
                    # Someone else cancelled the probe, and the provider turned that into
                    # an exception: the cancellation is theirs, not to be swallowed here.
                    raise asyncio.CancelledError from exc
                if fired and not isinstance(exc, ProviderKilledError):
                    out.expired = watch.bound()[1]  # the provider turned our cancel into this
                else:
                    # A provider that had to be killed because it would not stop when the
                    # deadline came is a bug of the provider, whichever deadline it was.
                    out.error = exc
                return
            if deadline.fired:  # the provider swallowed our cancel
                task.uncancel()
                out.expired = watch.bound()[1]
                return
            now = watch.now()
            if watch.first_token_at is not None:
                watch.last_item_at = now  # any item is a sign of life for the stall deadline
            if isinstance(item, Thinking):
                if item.text and watch.first_token_at is None:
                    watch.first_token_at = watch.last_item_at = now
                    deadline.tighten()  # from now on the stall deadline holds
                out.thought_chars += len(item.text)
                if out.chars + out.thought_chars > watch.deadlines.max_chars:
                    out.capped = True
                    return
                continue
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
                if watch.first_token_at is None:
                    watch.first_token_at = now
            else:
                gap = now - out.last_chunk_at
                out.max_gap = gap if out.max_gap is None else max(out.max_gap, gap)
            out.last_chunk_at = now
            out.chunks += 1
            out.chars += len(item)
            out.pieces.append(item)
            if out.chars + out.thought_chars > watch.deadlines.max_chars:
                out.capped = True
                return
    finally:
        deadline.disarm()
        watch.deadline = None


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
        if not out.clean_end:  # an ended generator has nothing to close
            await _close(stream)
    return out


def _describe(
    out: _Read,
    kind: FailureKind,
    run: PromptRun,
    text: str,
    d: Deadlines,
    secrets: Sequence[str] = (),
) -> str:
    """The error text of a failed probe, saying what came back where that helps."""
    said = _what_came_back(out, kind, text)
    reason = _reason(out, kind, run, text, d)
    return reason if said is None else f"{reason}, got: {quoted_excerpt(said, secrets)}"


def _what_came_back(out: _Read, kind: FailureKind, text: str) -> str | None:
    """The upstream's own words for a wrong or unusable answer: the text it streamed,
    or the body an error carries; ``None`` when there is nothing to show."""
    if kind in (FailureKind.WRONG_ANSWER, FailureKind.EMPTY) and text:
        return text
    if isinstance(out.error, ResponseError):
        return out.error.body
    return None


def _reason(out: _Read, kind: FailureKind, run: PromptRun, text: str, d: Deadlines) -> str:
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
    token = _current_watch.set(watch)
    try:
        with lag_monitor() as monitor, session_hooks(trace_configs=[_TRACE]):
            out = await _drive(provider_cls, model, prompt_run, watch, proxy)
            lag = (
                None
                if watch.first_chunk_at is None
                else monitor.worst(watch.start + watch.first_chunk_at)
            )
    finally:
        _current_watch.reset(token)
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
        else clean_error(_describe(out, kind, prompt_run, text, deadlines, secrets), secrets)
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
        loop_lag_ms=_ms(lag),
        ttft_ms=_ms(watch.first_token_at),
        reasoning_tokens=out.usage.reasoning_tokens if out.usage else None,
    )
