"""The OpenAI-compatible provider against the emulator's /v1, and every fault mode."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator

import pytest
from aiohttp import web

from harness.emulator import Emulator, Fault, FaultSpec
from harness.policy.prompts import PROMPTS, applicable
from harness.probing.probe import Deadlines, probe
from harness.result import FailureKind, StreamEnd
from providers import MissingRequirementsError, openai_compatible
from providers.messages import FinishReason, Thinking, Usage
from providers.openai_compatible import OpenAICompatibleProvider
from providers.upstream import redirect

PING = [{"role": "user", "content": "Reply with the single word pong."}]
LIMITS = Deadlines(connect=2.0, first_chunk=0.5, stall=0.5, total=5.0, max_chars=500)
SLACK_S = 2.0

EXPECTED: dict[Fault, FailureKind | None] = {
    Fault.none: None,
    Fault.first_chunk_delay: None,
    Fault.chunk_delay: None,
    Fault.hang_headers: FailureKind.TIMEOUT_FIRST_CHUNK,
    Fault.hang_mid_stream: FailureKind.TIMEOUT_TOTAL,
    Fault.reset_mid_stream: FailureKind.STREAM_CUT,
    Fault.http_429: FailureKind.RATE_LIMITED,
    Fault.http_500: FailureKind.HTTP_SERVER,
    Fault.http_502: FailureKind.HTTP_SERVER,
    Fault.http_503: FailureKind.HTTP_SERVER,
    Fault.cloudflare_403: FailureKind.CLOUDFLARE,
    Fault.http_401: FailureKind.HTTP_AUTH,
    Fault.garbage: FailureKind.PROTOCOL,
    Fault.empty_200: FailureKind.EMPTY,
    Fault.invalid_utf8: FailureKind.PROTOCOL,
    Fault.endless: FailureKind.TOO_LARGE,
    Fault.wrong_answer: FailureKind.WRONG_ANSWER,
    Fault.huge_line: FailureKind.TOO_LARGE,
    Fault.changed_framing: FailureKind.PROTOCOL,
    Fault.stream_error: FailureKind.HTTP_SERVER,
    Fault.overloaded: FailureKind.OVERLOADED,
    Fault.safety_block: FailureKind.CONTENT_FILTER,
}
NOT_OURS = {Fault.resource_limit}
"""Modes of another provider's protocol: the OpenAI routes cannot be given them."""


def test_the_matrix_covers_every_fault_mode() -> None:
    assert set(EXPECTED) | NOT_OURS == set(Fault)


def endpoint(emu: Emulator, **options: object) -> type[OpenAICompatibleProvider]:
    return openai_compatible("local", emu.openai_url(), models=["emulated-chat"], **options)  # type: ignore[arg-type]


async def collect(stream: AsyncGenerator[object, None] | object) -> list[object]:
    return [item async for item in stream]  # type: ignore[attr-defined]


async def test_a_stream_yields_text_then_finish_then_usage(emulator: Emulator) -> None:
    provider = endpoint(emulator)
    items = await collect(provider.create_async_generator("", PING))
    texts = [i for i in items if isinstance(i, str)]
    assert "".join(texts) == "pong"
    assert len(texts) > 1
    assert items[len(texts)] == FinishReason("stop")
    assert items[-1] == Usage(prompt_tokens=6, completion_tokens=len(texts))


async def test_every_calling_form_works(emulator: Emulator) -> None:
    provider = endpoint(emulator)
    awaited = await provider.create_async_generator(model="emulated-chat", messages=PING)
    assert "pong" in "".join([i async for i in awaited if isinstance(i, str)])
    instance = provider(model="emulated-chat")
    direct = instance.create_async_generator(messages=PING)
    assert "pong" in "".join([i async for i in direct if isinstance(i, str)])


AWKWARD_STREAM = (
    b": keep-alive\r\n\r\n"
    b": OPENROUTER PROCESSING\n\n"
    b'data: {"choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null}]}\n\n'
    b'data: {"choices":[{"index":0,"delta":{"content":null},"finish_reason":null}]}\n\n'
    b'data: {"choices":[{"index":0,"delta":{"reasoning_content":"hmm"},"finish_reason":null}]}\n\n'
    b'data: {"choices":[{"index":0,"delta":{"content":"po"},"finish_reason":null}]}\n\n'
    b'data:{"choices":[{"index":0,"delta":{"content":"ng"},"finish_reason":null}]}\n\n'
    b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}\n\n'
    b'data: {"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2}}\n\n'
    b"data: [DONE]\n\n"
)


@pytest.mark.parametrize(
    ("cut", "content_type"),
    [
        (1, "text/event-stream"),
        (7, "text/event-stream; charset=utf-8"),
        (40, "text/event-stream"),
        (100, "text/plain"),
        (333, "text/event-stream"),
        (len(AWKWARD_STREAM) - 3, "application/octet-stream"),
    ],
)
async def test_an_awkward_stream_split_anywhere_reads_the_same(
    aiohttp_server: object, cut: int, content_type: str
) -> None:
    seen: dict[str, str] = {}

    async def handler(request: web.Request) -> web.StreamResponse:
        seen.update(request.headers)
        response = web.StreamResponse(headers={"Content-Type": content_type})
        await response.prepare(request)
        await response.write(AWKWARD_STREAM[:cut])
        await response.write(AWKWARD_STREAM[cut:])
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handler)
    server = await aiohttp_server(app)  # type: ignore[operator]
    provider = openai_compatible(
        "awkward",
        f"http://127.0.0.1:{server.port}/v1",
        api_key="sk-awkward",
        headers={"X-Title": "harness"},
    )
    items = await collect(provider.create_async_generator("m", PING))
    assert items == [Thinking("hmm"), "po", "ng", FinishReason("length"), Usage(9, 2)]
    assert seen["Authorization"] == "Bearer sk-awkward"
    assert seen["X-Title"] == "harness"


async def test_the_body_asks_for_usage_and_caps_the_answer(emulator: Emulator) -> None:
    provider = endpoint(emulator, max_tokens=32)
    await collect(provider.create_async_generator("", PING))
    body = emulator.bodies[("openai", "/v1/chat/completions")]
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["max_tokens"] == 32
    assert body["model"] == "emulated-chat"
    await collect(provider.create_async_generator("", PING, max_tokens=5))
    assert emulator.bodies[("openai", "/v1/chat/completions")]["max_tokens"] == 5


async def test_without_streaming_the_whole_completion_is_read(emulator: Emulator) -> None:
    provider = endpoint(emulator)
    items = await collect(provider.create_async_generator("", PING, stream=False))
    assert items[0] == "pong"
    assert FinishReason("stop") in items
    body = emulator.bodies[("openai", "/v1/chat/completions")]
    assert body["stream"] is False
    assert "stream_options" not in body


async def test_reasoning_deltas_are_not_answer_text(emulator: Emulator) -> None:
    provider = openai_compatible("thinker", emulator.openai_url(), models=["emulated-reasoning"])
    items = await collect(provider.create_async_generator("", PING))
    assert "".join(i for i in items if isinstance(i, str)) == "pong"
    assert items[0] == Thinking("Thinking it over.")


async def test_a_reasoning_model_is_timed_from_its_first_thought(emulator: Emulator) -> None:
    provider = openai_compatible("thinker", emulator.openai_url(), models=["emulated-reasoning"])
    result = await probe(provider, "emulated-reasoning", PROMPTS["ping"].build())
    assert result.ok
    assert result.ttft_ms is not None
    assert result.ttfc_ms is not None
    assert result.ttft_ms <= result.ttfc_ms
    assert result.reasoning_tokens == 6  # completion_tokens_details.reasoning_tokens


async def test_the_models_are_listed(emulator: Emulator) -> None:
    provider = endpoint(emulator)
    assert await provider.list_models() == ["emulated-chat", "emulated-mini", "emulated-reasoning"]


async def test_a_missing_key_variable_fails_before_any_request(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HARNESS_TEST_ABSENT_KEY", raising=False)
    provider = openai_compatible(
        "keyless", emulator.openai_url(), api_key_env="HARNESS_TEST_ABSENT_KEY"
    )
    with pytest.raises(MissingRequirementsError, match="HARNESS_TEST_ABSENT_KEY"):
        await collect(provider.create_async_generator("m", PING))
    assert sum(emulator.requests.values()) == 0


async def test_a_redirection_by_name_replaces_the_whole_base_url(emulator: Emulator) -> None:
    provider = openai_compatible("groq", "https://api.groq.com/openai/v1", models=["llama"])
    with redirect(None, {"groq": emulator.openai_url("groq")}):
        items = await collect(provider.create_async_generator("", PING))
    assert "pong" in "".join(i for i in items if isinstance(i, str))
    assert emulator.requests[("openai", "/v1/chat/completions")] == 1


def spec(mode: Fault) -> FaultSpec:
    if mode is Fault.huge_line:
        return FaultSpec(mode, size=5 * 1024 * 1024)
    if "delay" in mode:
        return FaultSpec(mode, first_chunk_delay=0.2, chunk_delay=0.05)
    return FaultSpec(mode)


@pytest.mark.parametrize("mode", list(EXPECTED), ids=str)
async def test_each_fault_gives_its_kind(emulator: Emulator, mode: Fault) -> None:
    provider = endpoint(emulator)
    emulator.set_fault("openai", spec(mode))
    started = time.perf_counter()
    result = await probe(provider, "emulated-chat", PROMPTS["ping"].build(), deadlines=LIMITS)
    assert time.perf_counter() - started < LIMITS.total + SLACK_S
    assert result.kind is EXPECTED[mode], result.error
    assert result.ok is (EXPECTED[mode] is None)
    if mode is Fault.stream_error:
        assert result.http_status == 200
        assert "error inside the stream" in (result.error or "")
    if mode is Fault.http_429:
        assert "retry after 30 s" in (result.error or "")


async def test_a_pass_records_usage_and_tokens_per_second(emulator: Emulator) -> None:
    provider = endpoint(emulator)
    emulator.set_fault("openai", FaultSpec(chunk_delay=0.02))
    result = await probe(provider, "emulated-chat", PROMPTS["ping"].build(), deadlines=LIMITS)
    assert result.ok
    assert result.end is StreamEnd.FINISH
    assert result.finish_reason == "stop"
    assert result.prompt_tokens is not None
    assert result.completion_tokens == result.chunks
    assert result.tokens_per_s is not None
    assert result.tokens_per_s > 0


@pytest.mark.parametrize("prompt", applicable(OpenAICompatibleProvider))
async def test_every_canned_prompt_passes(emulator: Emulator, prompt: str) -> None:
    result = await probe(endpoint(emulator), "emulated-chat", PROMPTS[prompt].build())
    assert result.ok, result.error
