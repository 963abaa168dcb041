"""Each provider, under each emulated fault, fails with the right exception (or none)."""

import aiohttp
import pytest

from harness.emulator import Emulator, Fault, FaultSpec
from harness.emulator.answers import WRONG_ANSWER
from providers import (
    AuthError,
    CloudflareError,
    ProtocolError,
    RateLimitError,
    ResponseStatusError,
    ResponseTooLargeError,
    ServerError,
    get_provider,
    upstream,
)
from providers.messages import Message
from tests.providers.chunks import text_of

QUESTION: list[Message] = [{"role": "user", "content": "What is the capital of France?"}]
ANSWER = "Paris is the capital of France."
NAMES = ["RobocodersAPI", "AiChatOnline", "AutonomousAI", "CodeLinkAva"]


async def ask(emulator: Emulator, name: str) -> str:
    with upstream.redirect(emulator.url):
        return await text_of(get_provider(name).create_async_generator("", QUESTION))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    ("mode", "error", "status"),
    [
        (Fault.http_401, AuthError, 401),
        (Fault.cloudflare_403, CloudflareError, 403),
        (Fault.http_500, ServerError, 500),
        (Fault.http_502, ServerError, 502),
        (Fault.http_503, ServerError, 503),
    ],
)
async def test_an_error_status_raises_its_exception(
    emulator: Emulator, name: str, mode: Fault, error: type[ResponseStatusError], status: int
) -> None:
    emulator.set_fault(name, FaultSpec(mode))
    with pytest.raises(error) as raised:
        await ask(emulator, name)
    assert raised.value.status == status


@pytest.mark.parametrize("name", NAMES)
async def test_429_is_a_rate_limit_with_its_retry_after(emulator: Emulator, name: str) -> None:
    emulator.set_fault(name, FaultSpec(Fault.http_429, retry_after=5))
    with pytest.raises(RateLimitError) as raised:
        await ask(emulator, name)
    assert (raised.value.status, raised.value.retry_after) == (429, 5)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("mode", [Fault.garbage, Fault.invalid_utf8])
async def test_a_body_of_unreadable_lines_is_a_protocol_error(
    emulator: Emulator, name: str, mode: Fault
) -> None:
    emulator.set_fault(name, FaultSpec(mode))
    with pytest.raises(ProtocolError):
        await ask(emulator, name)


@pytest.mark.parametrize("name", NAMES)
async def test_an_empty_200_gives_no_text(emulator: Emulator, name: str) -> None:
    emulator.set_fault(name, FaultSpec(Fault.empty_200))
    assert await ask(emulator, name) == ""


@pytest.mark.parametrize("name", NAMES)
async def test_a_wrong_answer_is_passed_on_as_text(emulator: Emulator, name: str) -> None:
    emulator.set_fault(name, FaultSpec(Fault.wrong_answer))
    assert await ask(emulator, name) == WRONG_ANSWER


@pytest.mark.parametrize("name", NAMES)
async def test_a_huge_line_is_refused_as_too_large(emulator: Emulator, name: str) -> None:
    emulator.set_fault(name, FaultSpec(Fault.huge_line, size=5 * 1024 * 1024))
    with pytest.raises(ResponseTooLargeError):
        await ask(emulator, name)


@pytest.mark.parametrize("name", NAMES)
async def test_a_reset_mid_stream_surfaces_as_a_payload_error(
    emulator: Emulator, name: str
) -> None:
    emulator.set_fault(name, FaultSpec(Fault.reset_mid_stream))
    with pytest.raises(aiohttp.ClientPayloadError):
        await ask(emulator, name)


@pytest.mark.parametrize(
    ("name", "outcome"),
    [
        ("AutonomousAI", "protocol"),
        ("CodeLinkAva", "protocol"),
        ("AiChatOnline", "empty"),
        ("RobocodersAPI", "empty"),
    ],
)
async def test_changed_framing_yields_no_text(emulator: Emulator, name: str, outcome: str) -> None:
    emulator.set_fault(name, FaultSpec(Fault.changed_framing))
    if outcome == "protocol":
        with pytest.raises(ProtocolError):
            await ask(emulator, name)
    else:
        assert await ask(emulator, name) == ""


@pytest.mark.parametrize("name", NAMES)
async def test_a_latency_profile_still_gives_the_answer(emulator: Emulator, name: str) -> None:
    emulator.set_fault(name, FaultSpec(first_chunk_delay=0.02, chunk_delay=0.005))
    assert await ask(emulator, name) == ANSWER


@pytest.mark.parametrize("name", NAMES)
async def test_a_provider_timeout_ends_a_hang(emulator: Emulator, name: str) -> None:
    emulator.set_fault(name, FaultSpec(Fault.hang_mid_stream))
    with upstream.redirect(emulator.url), pytest.raises(TimeoutError):
        await text_of(get_provider(name).create_async_generator("", QUESTION, timeout=0.5))
