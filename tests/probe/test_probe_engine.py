"""The probe engine: timings, deadlines, the size cap and cleanup, on scripted providers
and small local servers."""

import asyncio
import dataclasses
import gc
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from probe_doubles import ANSWER, QUICK, Forever, Raise, ScriptedResolver, Sleep, scripted

from harness import __version__
from harness.policy.prompts import PROMPTS, PromptRun
from harness.probing.probe import Deadlines, probe
from harness.result import FailureKind, Source, StreamEnd
from providers import CodeLinkAva
from providers.base import AsyncGeneratorProvider
from providers.errors import ProtocolError, ProviderKilledError, RateLimitError
from providers.messages import FinishReason, Messages, Thinking, Usage
from providers.upstream import redirect

MakeServer = Callable[[web.Application], Awaitable[TestServer]]


def ping() -> PromptRun:
    return PROMPTS["ping"].build({"nonce": "a1b2c3"})


async def test_a_correct_answer_passes_with_its_timings() -> None:
    provider, _ = scripted(Sleep(0.05), "PONG-", Sleep(0.1), "a1b2c3", FinishReason("stop"))
    result = await probe(provider, "m", ping(), deadlines=QUICK)
    assert result.ok
    assert result.kind is None
    assert result.error is None
    assert result.ttfc_ms is not None
    assert result.ttfc_ms >= 50
    assert result.max_gap_ms is not None
    assert result.max_gap_ms >= 100
    assert result.total_ms is not None
    assert result.total_ms >= result.ttfc_ms + result.max_gap_ms
    assert (result.chunks, result.chars, result.sample) == (2, 11, "PONG-a1b2c3")
    assert (result.end, result.finish_reason) == (StreamEnd.FINISH, "stop")


async def test_a_stream_ending_without_a_finish_reason_ends_at_eof() -> None:
    provider, _ = scripted(ANSWER)
    result = await probe(provider, "m", ping(), deadlines=QUICK)
    assert result.ok
    assert result.end is StreamEnd.EOF
    assert result.max_gap_ms is None  # one chunk: no gap between chunks


async def test_the_result_carries_the_run_context() -> None:
    provider, _ = scripted(ANSWER, name="Echo")
    result = await probe(
        provider,
        "model-x",
        ping(),
        deadlines=QUICK,
        source=Source.SANDBOX,
        vantage="ci-runner",
        concurrency=8,
        run_id="r1",
    )
    assert (result.provider, result.model, result.prompt) == ("Echo", "model-x", "ping")
    assert (result.source, result.vantage, result.concurrency, result.run_id) == (
        Source.SANDBOX,
        "ci-runner",
        8,
        "r1",
    )
    assert result.version == __version__
    assert result.attempts == 1
    assert result.started_at.tzinfo is not None


async def test_the_prompts_messages_reach_the_provider() -> None:
    provider, log = scripted(ANSWER)
    await probe(provider, "m", ping(), deadlines=QUICK)
    assert log.messages == [[{"role": "user", "content": "Reply with exactly: PONG-a1b2c3"}]]


async def test_a_wrong_answer_says_what_was_expected() -> None:
    provider, _ = scripted("PONG-zzzzzz")
    result = await probe(provider, "m", ping(), deadlines=QUICK)
    assert result.kind is FailureKind.WRONG_ANSWER
    assert result.error == "expected 'PONG-a1b2c3' (any case), got: \"PONG-zzzzzz\""
    assert result.sample == "PONG-zzzzzz"


@pytest.mark.parametrize("steps", [(), ("", "  \n"), (FinishReason("stop"),)], ids=repr)
async def test_no_text_is_empty(steps: tuple[object, ...]) -> None:
    provider, _ = scripted(*steps)
    result = await probe(provider, "m", ping(), deadlines=QUICK)
    assert result.kind is FailureKind.EMPTY
    said = ', got: " \\n"' if "  \n" in steps else ""  # blanks are shown, escaped
    assert result.error == f"the stream ended without any text{said}"


async def test_the_size_cap_stops_reading_and_closes_the_stream() -> None:
    provider, log = scripted(Forever("x" * 100))
    capped = dataclasses.replace(QUICK, max_chars=1000)
    result = await probe(provider, "m", ping(), deadlines=capped)
    assert result.kind is FailureKind.TOO_LARGE
    assert result.chars == 1100
    assert result.end is StreamEnd.CUT
    assert "size cap of 1000 characters" in (result.error or "")
    assert log.closed == 1


async def test_a_stall_between_chunks_ends_the_probe_as_timeout_total() -> None:
    provider, log = scripted("PONG-", Sleep(3600), "a1b2c3")
    started = time.perf_counter()
    result = await probe(provider, "m", ping(), deadlines=QUICK)
    assert time.perf_counter() - started < QUICK.stall + 2
    assert result.kind is FailureKind.TIMEOUT_TOTAL
    assert "stalled" in (result.error or "")
    assert (result.chunks, result.sample) == (1, "PONG-")
    assert log.closed == 1


async def test_the_total_deadline_ends_a_slow_drip() -> None:
    provider, _ = scripted(Forever("x", every=0.05))
    limits = Deadlines(connect=1, first_chunk=1, stall=1, total=0.5)
    started = time.perf_counter()
    result = await probe(provider, "m", ping(), deadlines=limits)
    assert time.perf_counter() - started < limits.total + 2
    assert result.kind is FailureKind.TIMEOUT_TOTAL
    assert "total deadline of 0.5 s" in (result.error or "")
    assert result.chunks > 1


async def test_silence_before_any_connection_is_a_first_chunk_timeout() -> None:
    provider, _ = scripted(Sleep(3600), ANSWER)
    limits = Deadlines(connect=0.2, first_chunk=0.3, stall=5, total=5)
    started = time.perf_counter()
    result = await probe(provider, "m", ping(), deadlines=limits)
    assert time.perf_counter() - started < limits.connect + limits.first_chunk + 2
    assert result.kind is FailureKind.TIMEOUT_FIRST_CHUNK
    assert result.ttfc_ms is None


async def test_an_unexpected_exception_is_a_provider_bug_with_its_message() -> None:
    provider, _ = scripted("PONG", Raise(KeyError("choices")))
    result = await probe(provider, "m", ping(), deadlines=QUICK)
    assert result.kind is FailureKind.PROVIDER_BUG
    assert result.error == "KeyError: 'choices'"
    assert result.end is StreamEnd.CUT


class KilledAtTheDeadline(AsyncGeneratorProvider):
    """Waits forever; cancelled, raises what an isolating provider raises when it had to
    kill the code that would not stop."""

    @classmethod
    async def _stream(
        cls,
        model: str,
        messages: Messages,
        *,
        proxy: str | None,
        stream: bool,
        timeout: float | None,
    ) -> AsyncIterator[str]:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            raise ProviderKilledError("killed the worker: it outlived its deadline") from None
        yield "never"


async def test_a_provider_killed_for_not_stopping_at_a_deadline_is_a_provider_bug() -> None:
    result = await probe(KilledAtTheDeadline, "m", ping(), deadlines=QUICK)
    assert result.kind is FailureKind.PROVIDER_BUG
    assert result.error == "ProviderKilledError: killed the worker: it outlived its deadline"


async def test_an_outside_cancellation_turned_into_an_error_still_cancels_the_probe() -> None:
    patient = Deadlines(connect=60, first_chunk=60, stall=60, total=120)
    task = asyncio.create_task(probe(KilledAtTheDeadline, "m", ping(), deadlines=patient))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_stream_yielding_something_other_than_text_is_a_provider_bug() -> None:
    provider, log = scripted({"content": "PONG"})
    result = await probe(provider, "m", ping(), deadlines=QUICK)
    assert result.kind is FailureKind.PROVIDER_BUG
    assert "yielded a dict" in (result.error or "")
    assert log.closed == 1


async def test_an_unknown_model_is_refused_before_any_request() -> None:
    result = await probe(CodeLinkAva, "gpt-9", ping(), deadlines=QUICK)
    assert result.kind is FailureKind.UNSUPPORTED_MODEL
    assert "gpt-9" in (result.error or "")


async def test_the_status_and_retry_after_come_from_the_exception() -> None:
    provider, _ = scripted(Raise(RateLimitError("Rate limit (429)", 429, 3.0)))
    result = await probe(provider, "m", ping(), deadlines=QUICK)
    assert result.kind is FailureKind.RATE_LIMITED
    assert result.http_status == 429
    assert result.error == "RateLimitError: Rate limit (429) (retry after 3 s)"


async def test_errors_and_samples_are_redacted() -> None:
    provider, _ = scripted(
        "my key is s3cr3t-value ", Raise(ProtocolError("refused Bearer abc.def for sid=77"))
    )
    result = await probe(provider, "m", ping(), deadlines=QUICK, secrets=["s3cr3t-value"])
    assert "abc.def" not in (result.error or "")
    assert "77" not in (result.error or "")
    assert "s3cr3t-value" not in result.sample


async def test_cancelling_a_probe_cancels_it_and_closes_the_stream() -> None:
    provider, log = scripted("PONG-", Sleep(3600))
    task = asyncio.create_task(probe(provider, "m", ping(), deadlines=QUICK))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert log.closed == 1


# --- over the network, against small servers on 127.0.0.1 --------------------------


def sse(*pieces: str) -> bytes:
    events = [json.dumps({"choices": [{"delta": {"content": p}}]}) for p in pieces]
    return "".join(f"data: {e}\n\n" for e in events).encode()


@pytest.fixture
async def upstream() -> AsyncIterator[Callable[[web.Application], Awaitable[str]]]:
    """Serve an app on 127.0.0.1 and redirect every provider to it."""
    servers: list[TestServer] = []

    async def serve(app: web.Application) -> str:
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return str(server.make_url("/"))

    yield serve
    for server in servers:
        await server.close()


async def test_phase_timings_come_from_the_connection_trace(
    upstream: Callable[[web.Application], Awaitable[str]],
) -> None:
    async def chat(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await asyncio.sleep(0.1)
        await response.write(sse("PONG-a1b2c3") + b"data: [DONE]\n\n")
        return response

    app = web.Application()
    app.router.add_post("/api/chat", chat)
    with redirect(await upstream(app)):
        result = await probe(CodeLinkAva, "gpt-3.5-turbo", ping(), deadlines=QUICK)
    assert result.ok
    assert result.http_status == 200
    assert result.connect_ms is not None
    assert result.ttfb_ms is not None
    assert result.ttfc_ms is not None
    assert result.connect_ms <= result.ttfb_ms <= result.ttfc_ms
    # The first chunk waits out the server's 100 ms; a busy client may see the headers
    # late, never the chunk early.
    assert result.ttfc_ms >= 100
    assert result.dns_ms is None  # an IP literal is never resolved


async def test_the_size_cap_leaves_no_session_or_connection_open(
    upstream: Callable[[web.Application], Awaitable[str]],
) -> None:
    disconnected = asyncio.Event()

    async def chat(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        try:
            while True:
                await response.write(sse("x" * 500))
                await asyncio.sleep(0.01)
        except (ConnectionResetError, asyncio.CancelledError):
            disconnected.set()
            raise

    app = web.Application()
    app.router.add_post("/api/chat", chat)
    with redirect(await upstream(app)):
        result = await probe(
            CodeLinkAva,
            "gpt-3.5-turbo",
            ping(),
            deadlines=dataclasses.replace(QUICK, max_chars=5000),
        )
    assert result.kind is FailureKind.TOO_LARGE
    await asyncio.wait_for(disconnected.wait(), 2)
    gc.collect()  # an unclosed session would warn here, and warnings are errors


async def test_a_closed_port_is_a_connect_failure(closed_port: int) -> None:
    with redirect(f"http://127.0.0.1:{closed_port}"):
        result = await probe(CodeLinkAva, "gpt-3.5-turbo", ping(), deadlines=QUICK)
    assert result.kind is FailureKind.CONNECT
    assert result.http_status is None
    assert "Cannot connect" in (result.error or "")


async def test_a_name_that_does_not_resolve_is_a_dns_failure(resolver: ScriptedResolver) -> None:
    resolver.fail = True
    with redirect("http://upstream.test"):
        result = await probe(CodeLinkAva, "gpt-3.5-turbo", ping(), deadlines=QUICK)
    assert resolver.asked == ["upstream.test"]
    assert result.kind is FailureKind.DNS


async def test_a_connection_that_never_completes_hits_the_connect_deadline(
    resolver: ScriptedResolver,
) -> None:
    resolver.hang = True
    limits = Deadlines(connect=0.3, first_chunk=5, stall=5, total=10)
    started = time.perf_counter()
    with redirect("http://upstream.test"):
        result = await probe(CodeLinkAva, "gpt-3.5-turbo", ping(), deadlines=limits)
    assert time.perf_counter() - started < limits.connect + 2
    assert result.kind is FailureKind.TIMEOUT_CONNECT
    assert result.error == "no connection within 0.3 s (connect deadline)"


@pytest.mark.parametrize("field", ["connect", "first_chunk", "stall", "total", "max_chars"])
def test_deadlines_must_be_positive(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        Deadlines(**{field: 0})


async def test_thinking_sets_ttft_and_never_counts_as_the_answer() -> None:
    provider, _ = scripted(Thinking("hmm, "), Thinking("a ping"), Sleep(0.05), ANSWER)
    result = await probe(provider, "m", ping(), deadlines=QUICK)
    assert result.ok, result.error
    assert result.ttft_ms is not None
    assert result.ttfc_ms is not None
    assert result.ttft_ms < result.ttfc_ms
    assert result.sample == "PONG-a1b2c3"
    assert (result.chunks, result.chars) == (1, len("PONG-a1b2c3"))


async def test_without_thinking_ttft_is_ttfc() -> None:
    provider, _ = scripted(Sleep(0.01), ANSWER)
    result = await probe(provider, "m", ping(), deadlines=QUICK)
    assert result.ttft_ms == result.ttfc_ms


async def test_a_model_thinking_past_the_first_chunk_deadline_is_alive() -> None:
    limits = Deadlines(connect=1, first_chunk=0.3, stall=5, total=10)
    provider, _ = scripted(Thinking("thinking"), Sleep(0.6), ANSWER)
    result = await probe(provider, "m", ping(), deadlines=limits)
    assert result.ok, result.error


async def test_thinking_alone_is_an_empty_answer() -> None:
    provider, _ = scripted(Thinking("only thinking"), FinishReason("stop"))
    result = await probe(provider, "m", ping(), deadlines=QUICK)
    assert result.kind is FailureKind.EMPTY
    assert result.ttft_ms is not None
    assert result.ttfc_ms is None


async def test_reasoning_tokens_come_from_the_usage() -> None:
    provider, _ = scripted(ANSWER, Usage(5, 30, 24))
    result = await probe(provider, "m", ping(), deadlines=QUICK)
    assert (result.completion_tokens, result.reasoning_tokens) == (30, 24)
