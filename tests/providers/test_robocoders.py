"""RobocodersAPI against its emulator: token, session, chat, cache and continuation."""

import importlib

import pytest

from harness.emulator import Emulator, Fault, FaultSpec
from providers import (
    AuthError,
    MissingRequirementsError,
    ModelNotSupportedError,
    RobocodersAPI,
    ValidationError,
    upstream,
)
from providers.messages import Message
from providers.RobocodersAPI import TokenCache
from tests.providers.chunks import collect, text_of

QUESTION: list[Message] = [{"role": "user", "content": "What is the capital of France?"}]
AUTH = ("RobocodersAPI", "/auth")
SESSION = ("RobocodersAPI", "/create-session")
CHAT = ("RobocodersAPI", "/chat")


async def test_the_answer_streams_token_by_token(emulator: Emulator) -> None:
    with upstream.redirect(emulator.url):
        chunks = await collect(RobocodersAPI.create_async_generator("RepoAgent", QUESTION))
    assert chunks == ["Pari", "s", " is", " the", " capi", "tal", " of", " Fran", "ce."]
    assert emulator.bodies[CHAT]["agent"] == "RepoAgent"


async def test_an_instance_with_a_model_is_called_with_messages_only(emulator: Emulator) -> None:
    provider = RobocodersAPI(model="GeneralCodingAgent")
    with upstream.redirect(emulator.url):
        text = await text_of(provider.create_async_generator(messages=QUESTION))
    assert text == "Paris is the capital of France."


async def test_the_class_call_with_model_and_messages(emulator: Emulator) -> None:
    with upstream.redirect(emulator.url):
        result = RobocodersAPI.create_async_generator(model="FrontEndAgent", messages=QUESTION)
        assert await text_of(result) == "Paris is the capital of France."


async def test_an_empty_model_is_sent_as_the_default_agent(emulator: Emulator) -> None:
    with upstream.redirect(emulator.url):
        await text_of(RobocodersAPI.create_async_generator(model="", messages=QUESTION))
    assert emulator.bodies[CHAT]["agent"] == "GeneralCodingAgent"


def test_an_unknown_agent_is_not_supported() -> None:
    with pytest.raises(ModelNotSupportedError, match="SecretAgent"):
        RobocodersAPI.create_async_generator(model="SecretAgent", messages=QUESTION)


async def test_an_agent_the_upstream_does_not_know_is_a_validation_error(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(RobocodersAPI, "models", [*RobocodersAPI.models, "NewAgent"])
    with upstream.redirect(emulator.url), pytest.raises(ValidationError):
        await text_of(RobocodersAPI.create_async_generator("NewAgent", QUESTION))


async def test_the_conversation_is_flattened_and_remembered(emulator: Emulator) -> None:
    history: list[Message] = [
        {"role": "user", "content": "Remember this code word: LYCHEE-0042. Just say OK."},
        {"role": "assistant", "content": "OK."},
        {"role": "user", "content": "What was the code word? Reply with the code word only."},
    ]
    with upstream.redirect(emulator.url):
        assert await text_of(RobocodersAPI.create_async_generator("", history)) == "LYCHEE-0042"


async def test_token_and_session_are_fetched_once_and_reused(emulator: Emulator) -> None:
    with upstream.redirect(emulator.url):
        for _ in range(3):
            await text_of(RobocodersAPI.create_async_generator("", QUESTION))
    assert (emulator.requests[AUTH], emulator.requests[SESSION]) == (1, 1)


async def test_a_refused_cached_token_is_cleared_and_fetched_again_once(
    emulator: Emulator,
) -> None:
    with upstream.redirect(emulator.url):
        await text_of(RobocodersAPI.create_async_generator("", QUESTION))
        emulator.set_fault("RobocodersAPI", FaultSpec(Fault.http_401, times=1))
        text = await text_of(RobocodersAPI.create_async_generator("", QUESTION))
    assert text == "Paris is the capital of France."
    assert emulator.requests[AUTH] == 2


async def test_a_token_from_another_server_is_replaced(emulator: Emulator) -> None:
    cache = TokenCache.for_upstream(None, emulator.url)
    cache.path.parent.mkdir(parents=True, exist_ok=True)
    cache.path.write_text('{"access_token": "a.b.c", "sid": "old-session"}')
    with upstream.redirect(emulator.url):
        assert await text_of(RobocodersAPI.create_async_generator("", QUESTION))
    assert emulator.requests[AUTH] == 1
    assert "a.b.c" not in cache.path.read_text()


async def test_a_token_refused_even_when_fresh_is_an_auth_error_after_one_retry(
    emulator: Emulator,
) -> None:
    with upstream.redirect(emulator.url):
        await text_of(RobocodersAPI.create_async_generator("", QUESTION))
        emulator.set_fault("RobocodersAPI", FaultSpec(Fault.http_401))
        with pytest.raises(AuthError):
            await text_of(RobocodersAPI.create_async_generator("", QUESTION))
    assert emulator.requests[AUTH] == 2


async def test_a_corrupt_cache_file_counts_as_empty(emulator: Emulator) -> None:
    cache = TokenCache.for_upstream(None, emulator.url)
    cache.path.parent.mkdir(parents=True, exist_ok=True)
    cache.path.write_text("{not json")
    with upstream.redirect(emulator.url):
        assert await text_of(RobocodersAPI.create_async_generator("", QUESTION))
    assert emulator.requests[AUTH] == 1


async def test_a_resource_limit_pause_is_continued_to_the_full_answer(emulator: Emulator) -> None:
    emulator.set_fault("RobocodersAPI", FaultSpec(Fault.resource_limit))
    with upstream.redirect(emulator.url):
        text = await text_of(RobocodersAPI.create_async_generator("", QUESTION))
    assert text == "Paris is the capital of France."
    assert emulator.bodies[CHAT]["prompt"] == "continue"


async def test_without_auto_continue_the_answer_stops_at_the_pause() -> None:
    faults = {"RobocodersAPI": FaultSpec(Fault.resource_limit)}
    async with Emulator(faults=faults, continue_timeout=0.2) as emulator:
        with upstream.redirect(emulator.url):
            result = RobocodersAPI.create_async_generator("", QUESTION, auto_continue=False)
            assert await text_of(result) == "Paris is the"
        assert emulator.requests[CHAT] == 1


async def test_without_beautifulsoup_the_requirement_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module = importlib.import_module("providers.RobocodersAPI")  # the package name is the class
    monkeypatch.setattr(module, "bs4", None)
    with pytest.raises(MissingRequirementsError, match="beautifulsoup4"):
        await text_of(RobocodersAPI.create_async_generator("", QUESTION))
