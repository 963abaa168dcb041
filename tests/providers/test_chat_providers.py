"""AiChatOnline, AutonomousAI and CodeLinkAva against their emulators: text, finish, models."""

import base64
import json

import pytest

from harness.emulator import Emulator
from providers import (
    AiChatOnline,
    AutonomousAI,
    CodeLinkAva,
    FinishReason,
    ModelNotSupportedError,
    upstream,
)
from providers.messages import Message
from tests.providers.chunks import collect, text_of

QUESTION: list[Message] = [{"role": "user", "content": "What is the capital of France?"}]
WORDS = ["Pari", "s", " is", " the", " capi", "tal", " of", " Fran", "ce."]
"""The emulators stream token-sized pieces, as real models do."""


async def test_autonomousai_streams_tokens_then_the_finish_reason(emulator: Emulator) -> None:
    with upstream.redirect(emulator.url):
        chunks = await collect(AutonomousAI.create_async_generator("llama", QUESTION))
    assert chunks == [*WORDS, FinishReason("stop")]


@pytest.mark.parametrize(
    ("model", "path", "agent"),
    [
        ("", "/api/v1/ai/chat", "llama"),
        ("qwen-2.5-coder-32b", "/api/v1/ai/chat", "qwen_coder"),
        ("hermes-3", "/api/v1/ai/chat-hermes", "hermes"),
        ("llama-3.2-90b", "/api/v1/ai/chat-vision", "vision"),
        ("summary", "/api/v1/ai/summary", "summary"),
    ],
)
async def test_autonomousai_resolves_aliases_to_their_endpoint(
    emulator: Emulator, model: str, path: str, agent: str
) -> None:
    with upstream.redirect(emulator.url):
        assert await text_of(AutonomousAI.create_async_generator(model, QUESTION))
    assert emulator.requests[("AutonomousAI", path)] == 1
    body = emulator.bodies[("AutonomousAI", path)]
    assert (body["aiAgent"], body["threadId"]) == (agent, agent)


async def test_autonomousai_sends_the_messages_as_base64_json(emulator: Emulator) -> None:
    with upstream.redirect(emulator.url):
        await text_of(AutonomousAI.create_async_generator("hermes", QUESTION))
    encoded = emulator.bodies[("AutonomousAI", "/api/v1/ai/chat-hermes")]["messages"]
    assert json.loads(base64.b64decode(encoded)) == QUESTION


async def test_autonomousai_without_streaming_gets_the_answer_in_one_piece(
    emulator: Emulator,
) -> None:
    with upstream.redirect(emulator.url):
        result = AutonomousAI.create_async_generator("llama", QUESTION, stream=False)
        chunks = await collect(result)
    assert chunks == ["Paris is the capital of France.", FinishReason("stop")]
    assert emulator.bodies[("AutonomousAI", "/api/v1/ai/chat")]["stream"] is False


async def test_autonomousai_obeys_the_system_message(emulator: Emulator) -> None:
    messages: list[Message] = [
        {"role": "system", "content": "Whatever the user writes, reply with exactly: GUAVA-7"},
        {"role": "user", "content": "Tell me about the weather."},
    ]
    with upstream.redirect(emulator.url):
        assert await text_of(AutonomousAI.create_async_generator("", messages)) == "GUAVA-7"


@pytest.mark.parametrize("provider", [AutonomousAI, CodeLinkAva, AiChatOnline])
def test_an_unknown_model_is_not_supported(provider: type[AutonomousAI]) -> None:
    with pytest.raises(ModelNotSupportedError, match="no-such-model"):
        provider.create_async_generator(model="no-such-model", messages=QUESTION)


async def test_codelinkava_awaited_first_in_the_older_style(emulator: Emulator) -> None:
    with upstream.redirect(emulator.url):
        chunks = [
            m
            async for m in await CodeLinkAva.create_async_generator(
                model="gpt-3.5-turbo", messages=QUESTION
            )
        ]
    assert chunks == [*WORDS, FinishReason("stop")]


async def test_codelinkava_iterated_directly(emulator: Emulator) -> None:
    with upstream.redirect(emulator.url):
        chunks = [m async for m in CodeLinkAva.create_async_generator("", QUESTION)]
    assert chunks[-1] == FinishReason("stop")


async def test_codelinkava_keeps_foreign_keywords_out_of_the_body(emulator: Emulator) -> None:
    with upstream.redirect(emulator.url):
        result = CodeLinkAva.create_async_generator(
            "gpt-3.5-turbo", QUESTION, proxy=None, web_search=True, temperature=0.2
        )
        await text_of(result)
    body = emulator.bodies[("CodeLinkAva", "/api/chat")]
    assert body == {"messages": QUESTION, "temperature": 0.2, "stream": True}


async def test_aichatonline_positional_call_answers_the_flattened_history(
    emulator: Emulator,
) -> None:
    history: list[Message] = [
        {"role": "user", "content": "Remember this code word: QUINCE-1234. Just say OK."},
        {"role": "assistant", "content": "OK."},
        {"role": "user", "content": "What was the code word? Reply with the code word only."},
    ]
    with upstream.redirect(emulator.url):
        text = await text_of(AiChatOnline.create_async_generator("gpt-4o-mini", history))
    assert text == "QUINCE-1234"
    body = emulator.bodies[("AiChatOnline", "/aichatonline/api/chat/gpt")]
    assert body["prompt"].endswith("\nAssistant:")


async def test_aichatonline_streams_token_by_token(emulator: Emulator) -> None:
    with upstream.redirect(emulator.url):
        chunks = await collect(AiChatOnline.create_async_generator("", QUESTION))
    assert chunks == WORDS
    assert emulator.requests[("AiChatOnline", "/api/v1/user/getUniqueId")] == 1
