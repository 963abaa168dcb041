"""Redirection, proxies, and parsing that does not depend on how the body is chunked."""

import pytest

from harness.emulator import Emulator
from providers import FinishReason, get_provider, upstream
from providers.messages import Message
from tests.providers.chunks import collect, text_of
from tests.providers.conftest import ForwardProxy

QUESTION: list[Message] = [{"role": "user", "content": "What is the capital of France?"}]
ANSWER = "Paris is the capital of France."
CHAT_PATHS = {
    "RobocodersAPI": "/chat",
    "AiChatOnline": "/aichatonline/api/chat/gpt",
    "AutonomousAI": "/api/v1/ai/chat",
    "CodeLinkAva": "/api/chat",
}
NAMES = list(CHAT_PATHS)


@pytest.mark.parametrize("name", NAMES)
async def test_the_environment_redirects_every_provider(
    emulator: Emulator, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_UPSTREAM", emulator.url)
    assert await text_of(get_provider(name).create_async_generator("", QUESTION)) == ANSWER


async def test_a_per_provider_environment_variable_redirects_that_provider(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_UPSTREAM_CODELINKAVA", emulator.url)
    monkeypatch.setenv("HARNESS_UPSTREAM", "http://127.0.0.1:9")  # a closed port
    result = get_provider("CodeLinkAva").create_async_generator("", QUESTION)
    assert await text_of(result) == ANSWER


async def test_a_per_provider_redirect_wins_over_the_global_one(emulator: Emulator) -> None:
    per_provider = {"AutonomousAI": emulator.url}
    with upstream.redirect("http://127.0.0.1:9", per_provider):
        result = get_provider("AutonomousAI").create_async_generator("", QUESTION)
        assert await text_of(result) == ANSWER


@pytest.mark.parametrize("name", NAMES)
async def test_every_request_goes_through_the_given_proxy(
    emulator: Emulator, forward_proxy: ForwardProxy, name: str
) -> None:
    with upstream.redirect(emulator.url):
        result = get_provider(name).create_async_generator("", QUESTION, proxy=forward_proxy.url)
        assert await text_of(result) == ANSWER
    served = {path: n for (provider, path), n in emulator.requests.items() if provider == name}
    assert dict(forward_proxy.hits) == served


@pytest.mark.parametrize("name", NAMES)
async def test_garbage_lines_among_valid_ones_are_skipped(
    emulator: Emulator, forward_proxy: ForwardProxy, name: str
) -> None:
    forward_proxy.paths = {CHAT_PATHS[name]}
    forward_proxy.interleave = b"<b>Notice</b>: not json\n"
    with upstream.redirect(emulator.url):
        result = get_provider(name).create_async_generator("", QUESTION, proxy=forward_proxy.url)
        assert await text_of(result) == ANSWER


@pytest.mark.parametrize("name", NAMES)
async def test_a_body_split_at_every_byte_offset_parses_the_same(
    emulator: Emulator, forward_proxy: ForwardProxy, name: str
) -> None:
    provider = get_provider(name)
    messages: list[Message] = [{"role": "user", "content": "Reply with exactly: Zoë-π"}]
    forward_proxy.paths = {CHAT_PATHS[name]}
    with upstream.redirect(emulator.url):
        expected = await collect(
            provider.create_async_generator("", messages, proxy=forward_proxy.url)
        )
        body = forward_proxy.bodies[CHAT_PATHS[name]][0]  # (Robocoders then posts a continue)
        for offset in range(len(body) + 1):
            forward_proxy.split_at = offset
            result = provider.create_async_generator("", messages, proxy=forward_proxy.url)
            assert await collect(result) == expected, offset
    assert "".join(c for c in expected if not isinstance(c, FinishReason)) == "Zoë-π"
