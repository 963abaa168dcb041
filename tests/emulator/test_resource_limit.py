"""The Robocoders resource-limit pause: half a turn, a pause, then ``continue``."""

import asyncio
import json
import time
from typing import Any

import aiohttp

from harness.emulator import Emulator, Fault, FaultSpec
from harness.emulator.robocoders import LIMIT_MESSAGE
from tests.emulator.conftest import Login

QUESTION = "What is the capital of France?"


def records(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.decode().splitlines()]


async def read_records_until_pause(response: aiohttp.ClientResponse) -> list[dict[str, Any]]:
    seen = []
    async for line in response.content:
        seen.append(json.loads(line))
        if seen[-1]["args"]["wait_for_response"]:
            return seen
    raise AssertionError("the stream ended without pausing")


async def test_the_turn_pauses_until_continue_streams_the_rest(
    emulator: Emulator, robocoders_login: Login
) -> None:
    emulator.set_fault("RobocodersAPI", FaultSpec(Fault.resource_limit))
    async with aiohttp.ClientSession(base_url=emulator.url) as http:
        headers, sid = await robocoders_login(http)
        body = {"sid": sid, "prompt": QUESTION, "agent": "GeneralCodingAgent"}
        async with http.post("/chat", json=body, headers=headers) as first:
            before = await read_records_until_pause(first)
            resume = {**body, "prompt": "continue"}
            async with http.post("/chat", json=resume, headers=headers) as second:
                after = records(await second.read())
            assert await first.read() == b""
    assert [r["args"]["content"] for r in before] == ["Pari", "s", " is", " the", ""]
    assert before[-1]["message"] == LIMIT_MESSAGE
    assert [r["args"]["content"] for r in after] == [" capi", "tal", " of", " Fran", "ce.", ""]
    assert [r["id"] for r in before + after] == list(range(1, 12))


async def test_without_continue_the_paused_stream_ends_after_the_timeout(
    robocoders_login: Login,
) -> None:
    faults = {"RobocodersAPI": FaultSpec(Fault.resource_limit)}
    async with (
        Emulator(faults=faults, continue_timeout=0.2) as emulator,
        aiohttp.ClientSession(base_url=emulator.url) as http,
    ):
        headers, sid = await robocoders_login(http)
        body = {"sid": sid, "prompt": QUESTION, "agent": "GeneralCodingAgent"}
        async with http.post("/chat", json=body, headers=headers) as response:
            got = records(await response.read())
        assert got[-1]["message"] == LIMIT_MESSAGE
        resume = {**body, "prompt": "continue"}
        async with http.post("/chat", json=resume, headers=headers) as response:
            assert await response.read() == b""


async def test_stopping_the_server_ends_a_paused_turn(robocoders_login: Login) -> None:
    emulator = Emulator(faults={"RobocodersAPI": FaultSpec(Fault.resource_limit)})
    await emulator.start()
    async with aiohttp.ClientSession(base_url=emulator.url) as http:
        headers, sid = await robocoders_login(http)
        body = {"sid": sid, "prompt": QUESTION, "agent": "RepoAgent"}
        async with http.post("/chat", json=body, headers=headers) as response:
            await read_records_until_pause(response)
            started = time.monotonic()
            await asyncio.gather(emulator.stop(), response.read(), return_exceptions=True)
    assert time.monotonic() - started < 1 + 2
