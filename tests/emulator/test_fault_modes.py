"""Every fault mode, as a client sees it on the wire."""

import asyncio
import json
import time
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from harness.emulator import Emulator, Fault, FaultSpec
from harness.emulator.answers import WRONG_ANSWER
from harness.emulator.streaming import GARBAGE_LINES

PING = [{"role": "user", "content": "What is the capital of France?"}]
CHAT = {"messages": PING, "temperature": 0.6, "stream": True}


@pytest.fixture
async def http(emulator: Emulator) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=emulator.url) as session:
        yield session


async def codelinkava_text(http: aiohttp.ClientSession) -> str:
    async with http.post("/api/chat", json=CHAT) as response:
        body = await response.read()
    text = ""
    for line in body.decode().splitlines():
        if line.startswith("data: {"):
            text += json.loads(line[6:])["choices"][0]["delta"].get("content", "")
    return text


async def aichatonline_post(http: aiohttp.ClientSession) -> aiohttp.ClientResponse:
    async with http.get("/api/v1/user/getUniqueId?canvas=-x") as response:
        unique_id = (await response.json())["data"]
    body = {"conversationId": "c", "prompt": "What is the capital of France?"}
    return await http.post("/aichatonline/api/chat/gpt", json=body, headers={"UniqueId": unique_id})


@pytest.mark.parametrize(
    ("mode", "status"),
    [
        (Fault.http_401, 401),
        (Fault.cloudflare_403, 403),
        (Fault.http_429, 429),
        (Fault.http_500, 500),
        (Fault.http_502, 502),
        (Fault.http_503, 503),
    ],
)
async def test_a_status_fault_answers_with_its_status(
    emulator: Emulator, http: aiohttp.ClientSession, mode: Fault, status: int
) -> None:
    emulator.set_fault("CodeLinkAva", FaultSpec(mode))
    async with http.post("/api/chat", json=CHAT) as response:
        assert response.status == status


async def test_http_429_sends_retry_after(emulator: Emulator, http: aiohttp.ClientSession) -> None:
    emulator.set_fault("CodeLinkAva", FaultSpec(Fault.http_429, retry_after=7))
    async with http.post("/api/chat", json=CHAT) as response:
        assert response.headers["Retry-After"] == "7"


async def test_cloudflare_403_is_a_just_a_moment_challenge_page(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emulator.set_fault("CodeLinkAva", FaultSpec(Fault.cloudflare_403))
    async with http.post("/api/chat", json=CHAT) as response:
        assert response.content_type == "text/html"
        assert response.headers["Server"] == "cloudflare"
        assert "<title>Just a moment...</title>" in await response.text()


async def test_a_counted_fault_then_normal_answers(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emulator.set_fault("CodeLinkAva", FaultSpec(Fault.http_500, times=1))
    async with http.post("/api/chat", json=CHAT) as response:
        assert response.status == 500
    assert await codelinkava_text(http) == "Paris is the capital of France."


async def test_wrong_answer_streams_a_fluent_wrong_answer(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emulator.set_fault("CodeLinkAva", FaultSpec(Fault.wrong_answer))
    assert await codelinkava_text(http) == WRONG_ANSWER


async def test_garbage_sends_only_garbage_lines(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emulator.set_fault("AutonomousAI", FaultSpec(Fault.garbage))
    emulator.set_fault("AiChatOnline", FaultSpec(Fault.garbage))
    async with await aichatonline_post(http) as response:
        assert (response.status, await response.read()) == (200, b"".join(GARBAGE_LINES))


async def test_empty_200_is_a_success_without_a_body(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emulator.set_fault("CodeLinkAva", FaultSpec(Fault.empty_200))
    async with http.post("/api/chat", json=CHAT) as response:
        assert (response.status, await response.read()) == (200, b"")


async def test_invalid_utf8_lines_do_not_decode(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emulator.set_fault("CodeLinkAva", FaultSpec(Fault.invalid_utf8))
    async with http.post("/api/chat", json=CHAT) as response:
        lines = [line for line in (await response.read()).split(b"\n") if line]
    assert lines
    for line in lines:
        with pytest.raises(UnicodeDecodeError):
            line.decode("utf-8")


@pytest.mark.parametrize(
    ("provider", "shape"),
    [("CodeLinkAva", '{"id":'), ("AiChatOnline", '{"code": 200, "data": {"content": ')],
)
async def test_changed_framing_alters_the_lines_plausibly(
    emulator: Emulator, http: aiohttp.ClientSession, provider: str, shape: str
) -> None:
    emulator.set_fault(provider, FaultSpec(Fault.changed_framing))
    if provider == "CodeLinkAva":
        response = await http.post("/api/chat", json=CHAT)
    else:
        response = await aichatonline_post(http)
    async with response:
        first = (await response.read()).decode().splitlines()[0]
    assert first.startswith(shape)


async def test_endless_streams_past_the_answer(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emulator.set_fault("CodeLinkAva", FaultSpec(Fault.endless, chunk_delay=0.001))
    async with http.post("/api/chat", json=CHAT) as response:
        events = 0
        async for line in response.content:
            events += line.startswith(b"data: {")
            if events == 30:
                break
    assert events == 30


async def test_huge_line_is_one_line_of_the_given_size(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emulator.set_fault("AiChatOnline", FaultSpec(Fault.huge_line, size=1_000_000))
    async with await aichatonline_post(http) as response:
        body = await response.read()
    assert len(body) == 1_000_000
    assert body.count(b"\n") == 1
    assert body.endswith(b"\n")
    assert json.loads(body)["data"]["message"] == "a" * (
        1_000_000 - len(b'{"code": 200, "data": {"message": ""}}\n')
    )


async def test_huge_line_is_generated_without_holding_it_in_memory(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    size = 20 * 1024 * 1024
    emulator.set_fault("CodeLinkAva", FaultSpec(Fault.huge_line, size=size))
    tracemalloc.start()
    try:
        received = 0
        async with http.post("/api/chat", json=CHAT) as response:
            async for data in response.content.iter_chunked(65536):
                received += len(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert received >= size
    assert peak < size // 4


async def test_first_chunk_delay_holds_the_body_not_the_headers(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emulator.set_fault("CodeLinkAva", FaultSpec(first_chunk_delay=0.3))
    async with http.post("/api/chat", json=CHAT) as response:
        headers_at = time.monotonic()
        await response.content.readline()
        assert time.monotonic() - headers_at >= 0.25


async def test_chunk_delay_spaces_the_chunks(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emulator.set_fault("CodeLinkAva", FaultSpec(Fault.chunk_delay, chunk_delay=0.05))
    started = time.monotonic()
    assert await codelinkava_text(http) == "Paris is the capital of France."
    assert time.monotonic() - started >= 0.05 * 6 * 0.9  # 6 gaps: 6 words, then the end


async def test_hang_headers_never_answers(emulator: Emulator, http: aiohttp.ClientSession) -> None:
    emulator.set_fault("CodeLinkAva", FaultSpec(Fault.hang_headers))
    with pytest.raises(TimeoutError):
        await http.post("/api/chat", json=CHAT, timeout=aiohttp.ClientTimeout(sock_read=0.3))


async def test_hang_mid_stream_sends_some_tokens_then_stalls(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emulator.set_fault("CodeLinkAva", FaultSpec(Fault.hang_mid_stream))
    timeout = aiohttp.ClientTimeout(sock_read=0.3)
    async with http.post("/api/chat", json=CHAT, timeout=timeout) as response:
        first = await response.content.readline()
        with pytest.raises(TimeoutError):
            await response.read()
    assert b'"content":"Pari"' in first


async def test_reset_mid_stream_cuts_the_body(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emulator.set_fault("CodeLinkAva", FaultSpec(Fault.reset_mid_stream))
    async with http.post("/api/chat", json=CHAT) as response:
        assert b"Pari" in await response.content.readline()
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()


async def post_in_background(url: str, path: str, body: Any) -> asyncio.Task[bytes]:
    async def post() -> bytes:
        async with aiohttp.ClientSession() as session, session.post(url + path, json=body) as r:
            return await r.read()

    return asyncio.create_task(post())


async def wait_for_request(emulator: Emulator, key: tuple[str, str]) -> None:
    for _ in range(1000):
        if emulator.requests[key]:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"no request to {key} arrived")


@pytest.mark.parametrize("mode", [Fault.hang_headers, Fault.hang_mid_stream, Fault.endless])
async def test_stopping_the_server_ends_hanging_handlers_promptly(mode: Fault) -> None:
    emulator = Emulator(faults={"CodeLinkAva": FaultSpec(mode)})
    await emulator.start()
    request = await post_in_background(emulator.url, "/api/chat", CHAT)
    await wait_for_request(emulator, ("CodeLinkAva", "/api/chat"))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await emulator.stop()
    assert time.monotonic() - started < 1 + 2
    with pytest.raises(aiohttp.ClientError):
        await request


async def test_a_client_leaving_a_hang_frees_the_handler(emulator: Emulator) -> None:
    emulator.set_fault("CodeLinkAva", FaultSpec(Fault.hang_headers))
    request = await post_in_background(emulator.url, "/api/chat", CHAT)
    await wait_for_request(emulator, ("CodeLinkAva", "/api/chat"))
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request
    emulator.clear_faults()
    async with aiohttp.ClientSession(base_url=emulator.url) as http:
        assert await codelinkava_text(http) == "Paris is the capital of France."
