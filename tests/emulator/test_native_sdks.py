"""Wire compatibility: the official ``anthropic`` and ``google-genai`` clients against the
emulator's Anthropic and Gemini routes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from anthropic import AsyncAnthropic
from google import genai
from google.genai import types

from harness.emulator import Emulator

# google-genai's aiohttp transport subclasses aiohttp.ClientSession, which aiohttp warns about.
GENAI_TRANSPORT = pytest.mark.filterwarnings(
    "ignore:Inheritance class AiohttpClientSession:DeprecationWarning"
)
QUESTION = "What is the capital of France?"
ANSWER = "Paris is the capital of France."


@pytest.fixture
async def claude(emulator: Emulator) -> AsyncIterator[AsyncAnthropic]:
    async with AsyncAnthropic(
        base_url=emulator.url, api_key="sk-ant-emulator", max_retries=0
    ) as opened:
        yield opened


async def test_anthropic_streams_an_answer_with_usage(claude: AsyncAnthropic) -> None:
    async with claude.messages.stream(
        model="emulated-claude",
        max_tokens=64,
        messages=[{"role": "user", "content": QUESTION}],
    ) as stream:
        pieces = [text async for text in stream.text_stream]
        final = await stream.get_final_message()
    assert "".join(pieces) == ANSWER
    assert len(pieces) > 1
    assert final.stop_reason == "end_turn"
    assert final.usage.input_tokens > 0
    assert final.usage.output_tokens == len(pieces)


async def test_anthropic_streams_the_thinking_apart_from_the_answer(
    claude: AsyncAnthropic,
) -> None:
    async with claude.messages.stream(
        model="emulated-claude-thinking",
        max_tokens=64,
        messages=[{"role": "user", "content": QUESTION}],
    ) as stream:
        final = await stream.get_final_message()
    kinds = [block.type for block in final.content]
    assert kinds == ["thinking", "text"]
    assert final.content[1].text == ANSWER  # type: ignore[union-attr]


async def test_anthropic_lists_the_models(claude: AsyncAnthropic) -> None:
    page = await claude.models.list()
    assert [m.id for m in page.data] == ["emulated-claude", "emulated-claude-thinking"]


@GENAI_TRANSPORT
@pytest.mark.parametrize("version", ["v1beta", None])
async def test_gemini_streams_an_answer_with_usage(emulator: Emulator, version: str | None) -> None:
    options = types.HttpOptions(base_url=emulator.url, api_version=version)
    client = genai.Client(api_key="AIza-emulator", http_options=options)
    pieces: list[str] = []
    usage = None
    async for chunk in await client.aio.models.generate_content_stream(
        model="emulated-gemini", contents=QUESTION
    ):
        if chunk.text:
            pieces.append(chunk.text)
        usage = chunk.usage_metadata or usage
    await client.aio.aclose()
    assert "".join(pieces) == ANSWER
    assert len(pieces) > 1
    assert usage is not None
    assert usage.candidates_token_count == len(pieces)
    assert usage.prompt_token_count


@GENAI_TRANSPORT
async def test_gemini_streams_thoughts_and_counts_their_tokens(emulator: Emulator) -> None:
    options = types.HttpOptions(base_url=emulator.url, api_version="v1beta")
    client = genai.Client(api_key="AIza-emulator", http_options=options)
    config = types.GenerateContentConfig(
        thinking_config=types.ThinkingConfig(include_thoughts=True)
    )
    thoughts, answer = [], []
    usage = None
    async for chunk in await client.aio.models.generate_content_stream(
        model="emulated-gemini-thinking", contents=QUESTION, config=config
    ):
        for part in chunk.candidates[0].content.parts or []:  # type: ignore[index, union-attr]
            (thoughts if part.thought else answer).append(part.text or "")
        usage = chunk.usage_metadata or usage
    await client.aio.aclose()
    assert "".join(answer) == ANSWER
    assert thoughts
    assert usage is not None
    assert usage.thoughts_token_count
