"""Wire compatibility: the official ``openai`` Python client against the emulator's /v1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from openai import APIError, AsyncOpenAI, RateLimitError

from harness.emulator import Emulator, Fault, FaultSpec

PING = [{"role": "user", "content": "Reply with the single word pong."}]


@pytest.fixture
async def client(emulator: Emulator) -> AsyncIterator[AsyncOpenAI]:
    async with AsyncOpenAI(
        base_url=emulator.openai_url(), api_key="sk-emulator", max_retries=0
    ) as opened:
        yield opened


async def test_the_streaming_chat_call_gets_answer_usage_and_finish_reason(
    client: AsyncOpenAI,
) -> None:
    stream = await client.chat.completions.create(
        model="emulated-chat",
        messages=PING,  # type: ignore[arg-type]
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces: list[str] = []
    finish: list[str] = []
    usage = None
    async for chunk in stream:
        if chunk.choices:
            delta = chunk.choices[0].delta
            if delta.content:
                pieces.append(delta.content)
            if chunk.choices[0].finish_reason:
                finish.append(chunk.choices[0].finish_reason)
        if chunk.usage is not None:
            usage = chunk.usage
    assert "".join(pieces) == "pong"
    assert len(pieces) > 1
    assert finish == ["stop"]
    assert usage is not None
    assert usage.completion_tokens == len(pieces)
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


async def test_the_whole_chat_call_gets_one_message(client: AsyncOpenAI) -> None:
    completion = await client.chat.completions.create(
        model="anything/at:all",
        messages=PING,  # type: ignore[arg-type]
    )
    assert completion.choices[0].message.content == "pong"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None


async def test_the_model_list_reads(client: AsyncOpenAI) -> None:
    page = await client.models.list()
    assert [m.id for m in page.data] == ["emulated-chat", "emulated-mini", "emulated-reasoning"]


async def test_the_client_sees_a_rate_limit_as_its_own_error(
    client: AsyncOpenAI, emulator: Emulator
) -> None:
    emulator.set_fault("openai", FaultSpec(Fault.http_429, retry_after=3))
    with pytest.raises(RateLimitError) as caught:
        await client.chat.completions.create(model="m", messages=PING)  # type: ignore[arg-type]
    assert caught.value.response.headers["retry-after"] == "3"
    assert caught.value.code == "rate_limit_exceeded"


async def test_the_client_raises_on_an_error_inside_the_stream(
    client: AsyncOpenAI, emulator: Emulator
) -> None:
    emulator.set_fault("openai", FaultSpec(Fault.stream_error))
    stream = await client.chat.completions.create(
        model="m",
        messages=PING,  # type: ignore[arg-type]
        stream=True,
    )
    with pytest.raises(APIError, match="server had an error"):
        async for _ in stream:
            pass
