"""The Anthropic Messages and Gemini providers against the emulator, and every fault mode."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Any

import pytest

from harness.emulator import Emulator, Fault, FaultSpec
from harness.policy.prompts import PROMPTS
from harness.probing.probe import Deadlines, probe
from harness.result import FailureKind, StreamEnd
from providers import anthropic_messages, gemini
from providers.endpoint import EndpointProvider
from providers.messages import FinishReason, Thinking, Usage
from providers.upstream import redirect

PING = [{"role": "user", "content": "Reply with the single word pong."}]
CAPITAL = [{"role": "user", "content": "What is the capital of France?"}]
# Roomy first-chunk and stall deadlines for a busy machine; a small size cap, which
# token-sized pieces of an endless stream reach well within the total.
LIMITS = Deadlines(connect=2.0, first_chunk=1.0, stall=1.0, total=5.0, max_chars=200)
PROTOCOLS = ("anthropic", "gemini")

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
    Fault.cloudflare_403: FailureKind.CLOUDFLARE,
    Fault.http_401: FailureKind.HTTP_AUTH,
    Fault.garbage: FailureKind.PROTOCOL,
    Fault.empty_200: FailureKind.EMPTY,
    Fault.invalid_utf8: FailureKind.PROTOCOL,
    Fault.endless: FailureKind.TOO_LARGE,
    Fault.wrong_answer: FailureKind.WRONG_ANSWER,
    Fault.huge_line: FailureKind.TOO_LARGE,
    Fault.changed_framing: FailureKind.PROTOCOL,
    Fault.overloaded: FailureKind.OVERLOADED,
    Fault.safety_block: FailureKind.CONTENT_FILTER,
}
"""What each fault gives in both protocols; the two below differ by protocol."""
BY_PROTOCOL: dict[tuple[str, Fault], FailureKind] = {
    ("anthropic", Fault.http_503): FailureKind.HTTP_SERVER,
    ("gemini", Fault.http_503): FailureKind.OVERLOADED,  # Gemini's 503 is UNAVAILABLE
    ("anthropic", Fault.stream_error): FailureKind.OVERLOADED,  # an overloaded_error event
    ("gemini", Fault.stream_error): FailureKind.HTTP_SERVER,
}
NOT_OURS = {Fault.resource_limit}


def test_the_matrix_covers_every_fault_mode() -> None:
    covered = set(EXPECTED) | {mode for _, mode in BY_PROTOCOL} | NOT_OURS
    assert covered == set(Fault)


Build = Callable[..., type[EndpointProvider]]


def endpoint(
    emu: Emulator, protocol: str, model: str = "", **options: Any
) -> type[EndpointProvider]:
    if protocol == "anthropic":
        return anthropic_messages(
            "claude", emu.anthropic_url(), models=[model or "emulated-claude"], **options
        )
    return gemini("gem", emu.gemini_url(), models=[model or "emulated-gemini"], **options)


async def collect(stream: AsyncGenerator[object, None] | object) -> list[object]:
    return [item async for item in stream]  # type: ignore[attr-defined]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_stream_yields_token_sized_text_then_finish_and_usage(
    emulator: Emulator, protocol: str
) -> None:
    items = await collect(endpoint(emulator, protocol).create_async_generator("", CAPITAL))
    texts = [i for i in items if isinstance(i, str)]
    assert "".join(texts) == "Paris is the capital of France."
    assert len(texts) > 1
    finish = [i for i in items if isinstance(i, FinishReason)]
    assert finish == [FinishReason("end_turn" if protocol == "anthropic" else "STOP")]
    usage = [i for i in items if isinstance(i, Usage)][-1]
    assert usage.prompt_tokens == 6  # words asked
    assert usage.completion_tokens == len(texts)


async def test_the_anthropic_request_carries_its_headers_and_body(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_TEST_CLAUDE_KEY", "sk-ant-test")
    provider = endpoint(emulator, "anthropic", api_key_env="HARNESS_TEST_CLAUDE_KEY")
    system = [{"role": "system", "content": "Be brief."}, *PING]
    await collect(provider.create_async_generator("", system))
    body = emulator.bodies[("anthropic", "/v1/messages")]
    assert body["system"] == "Be brief."
    assert body["messages"] == PING
    assert body["max_tokens"] == 1024
    assert body["stream"] is True


async def test_the_gemini_request_asks_for_thoughts_only_when_configured(
    emulator: Emulator,
) -> None:
    path = ("gemini", "/v1beta/models/{model}:streamGenerateContent")
    await collect(endpoint(emulator, "gemini").create_async_generator("", PING))
    assert "generationConfig" not in emulator.bodies[path]
    asking = endpoint(emulator, "gemini", include_thoughts=True, max_tokens=64)
    await collect(asking.create_async_generator("", PING))
    config = emulator.bodies[path]["generationConfig"]
    assert config == {"maxOutputTokens": 64, "thinkingConfig": {"includeThoughts": True}}


@pytest.mark.parametrize(
    ("protocol", "model", "options"),
    [
        ("anthropic", "emulated-claude-thinking", {}),
        ("gemini", "emulated-gemini-thinking", {"include_thoughts": True}),
    ],
)
async def test_a_thinking_model_thinks_first_and_thinking_is_never_the_answer(
    emulator: Emulator, protocol: str, model: str, options: dict[str, Any]
) -> None:
    provider = endpoint(emulator, protocol, model, **options)
    items = await collect(provider.create_async_generator("", PING))
    assert isinstance(items[1 if protocol == "anthropic" else 0], Thinking)
    assert "".join(i for i in items if isinstance(i, str)) == "pong"
    result = await probe(provider, model, PROMPTS["ping"].build())
    assert result.ok, result.error
    assert result.ttft_ms is not None
    assert result.ttfc_ms is not None
    assert result.ttft_ms <= result.ttfc_ms


async def test_gemini_reports_its_thoughts_tokens(emulator: Emulator) -> None:
    provider = endpoint(emulator, "gemini", "emulated-gemini-thinking")
    result = await probe(provider, "emulated-gemini-thinking", PROMPTS["ping"].build())
    assert result.ok, result.error
    assert result.reasoning_tokens is not None
    assert result.reasoning_tokens > 0
    assert result.completion_tokens == result.chunks + result.reasoning_tokens


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_without_streaming_the_whole_answer_is_read(
    emulator: Emulator, protocol: str
) -> None:
    items = await collect(
        endpoint(emulator, protocol).create_async_generator("", PING, stream=False)
    )
    assert "".join(i for i in items if isinstance(i, str)) == "pong"
    assert any(isinstance(i, Usage) for i in items)


async def test_anthropic_models_are_listed_in_its_shape(emulator: Emulator) -> None:
    provider = endpoint(emulator, "anthropic")
    assert await provider.list_models() == ["emulated-claude", "emulated-claude-thinking"]


async def test_gemini_lists_only_the_models_that_generate(emulator: Emulator) -> None:
    provider = endpoint(emulator, "gemini")
    assert await provider.list_models() == ["emulated-gemini", "emulated-gemini-thinking"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_redirection_by_name_replaces_the_whole_base_url(
    emulator: Emulator, protocol: str
) -> None:
    real = {
        "anthropic": "https://api.anthropic.com/v1",
        "gemini": "https://generativelanguage.googleapis.com/v1beta",
    }[protocol]
    build = anthropic_messages if protocol == "anthropic" else gemini
    provider = build("named", real, models=["m"])
    local = (
        emulator.anthropic_url("named") if protocol == "anthropic" else emulator.gemini_url("named")
    )
    with redirect(None, {"named": local}):
        items = await collect(provider.create_async_generator("", PING))
    assert "pong" in "".join(i for i in items if isinstance(i, str))


def spec(mode: Fault) -> FaultSpec:
    if mode is Fault.huge_line:
        return FaultSpec(mode, size=5 * 1024 * 1024)
    if "delay" in mode:
        return FaultSpec(mode, first_chunk_delay=0.2, chunk_delay=0.05)
    return FaultSpec(mode)


CASES = [
    (protocol, mode, kind)
    for protocol in PROTOCOLS
    for mode, kind in [
        *EXPECTED.items(),
        *((m, k) for (p, m), k in BY_PROTOCOL.items() if p == protocol),
    ]
]


@pytest.mark.parametrize(("protocol", "mode", "kind"), CASES, ids=lambda v: str(v))
async def test_each_fault_gives_its_kind(
    emulator: Emulator, protocol: str, mode: Fault, kind: FailureKind | None
) -> None:
    emulator.set_fault(protocol, spec(mode))
    model = "emulated-claude" if protocol == "anthropic" else "emulated-gemini"
    result = await probe(
        endpoint(emulator, protocol), model, PROMPTS["ping"].build(), deadlines=LIMITS
    )
    assert result.kind is kind, result.error
    assert result.ok is (kind is None)
    if mode is Fault.safety_block:
        assert "got:" in (result.error or "")  # what the upstream said, quoted
    if mode is Fault.http_429:
        assert "retry after 30 s" in (result.error or "")
    if kind is None:
        assert result.end is StreamEnd.FINISH
