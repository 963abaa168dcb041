"""The Anthropic and Gemini routes, as a client sees them on the wire."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from harness.emulator import Emulator, Fault, FaultSpec, parse_fault

QUESTION = [{"role": "user", "content": "Reply with the single word pong."}]
GEMINI_BODY = {
    "contents": [{"role": "user", "parts": [{"text": "Reply with the single word pong."}]}]
}
STREAM = "/v1beta/models/emulated-gemini:streamGenerateContent?alt=sse"


async def call(
    emu: Emulator, method: str, path: str, body: Any = None, **headers: str
) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, emu.url + path, json=body, headers=headers) as response,
    ):
        return response.status, await response.read()


def data(body: bytes) -> list[Any]:
    return [
        json.loads(line[6:]) for line in body.decode().splitlines() if line.startswith("data: ")
    ]


async def test_the_model_list_takes_anthropic_shape_when_asked_that_way(
    emulator: Emulator,
) -> None:
    _, openai_shape = await call(emulator, "GET", "/v1/models")
    _, anthropic_shape = await call(emulator, "GET", "/v1/models", **{"anthropic-version": "x"})
    assert json.loads(openai_shape)["object"] == "list"
    document = json.loads(anthropic_shape)
    assert document["has_more"] is False
    assert {m["type"] for m in document["data"]} == {"model"}


async def test_a_message_without_max_tokens_is_refused_as_anthropic_does(
    emulator: Emulator,
) -> None:
    status, body = await call(
        emulator, "POST", "/v1/messages", {"model": "m", "messages": QUESTION}
    )
    assert status == 400
    assert json.loads(body)["error"]["type"] == "invalid_request_error"


async def test_anthropic_events_are_named_and_end_with_message_stop(emulator: Emulator) -> None:
    body = {"model": "emulated-claude", "max_tokens": 8, "messages": QUESTION, "stream": True}
    status, raw = await call(emulator, "POST", "/v1/messages", body)
    assert status == 200
    kinds = [event["type"] for event in data(raw)]
    assert kinds[0] == "message_start"
    assert kinds[-2:] == ["message_delta", "message_stop"]
    assert "ping" in kinds
    names = [line[7:] for line in raw.decode().splitlines() if line.startswith("event: ")]
    assert names == kinds


async def test_gemini_ends_with_stop_and_the_full_usage(emulator: Emulator) -> None:
    status, raw = await call(emulator, "POST", STREAM, GEMINI_BODY)
    assert status == 200
    last = data(raw)[-1]
    assert last["candidates"][0]["finishReason"] == "STOP"
    assert set(last["usageMetadata"]) >= {"promptTokenCount", "candidatesTokenCount"}


async def test_an_unknown_gemini_method_is_not_found(emulator: Emulator) -> None:
    status, body = await call(emulator, "POST", "/v1beta/models/m:embedText", GEMINI_BODY)
    assert status == 404
    assert json.loads(body)["error"]["status"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("name", "path", "body", "status"),
    [
        ("anthropic", "/v1/messages", {"model": "m", "max_tokens": 8, "messages": QUESTION}, 529),
        ("gemini", STREAM, GEMINI_BODY, 503),
    ],
)
async def test_overloaded_answers_as_each_api_does(
    emulator: Emulator, name: str, path: str, body: dict[str, Any], status: int
) -> None:
    emulator.set_fault(name, FaultSpec(Fault.overloaded))
    got, raw = await call(emulator, "POST", path, body)
    assert got == status
    error = json.loads(raw)["error"]
    assert error.get("type", error.get("status")) in ("overloaded_error", "UNAVAILABLE")


async def test_an_endpoint_name_addresses_its_own_faults() -> None:
    async with Emulator(endpoints=["gem"]) as emu:
        emu.set_fault("gem", FaultSpec(Fault.http_429))
        assert (await call(emu, "POST", "/gem" + STREAM, GEMINI_BODY))[0] == 429
        assert (await call(emu, "POST", "/other" + STREAM, GEMINI_BODY))[0] == 200


def test_fault_names_for_the_native_routes_parse() -> None:
    assert parse_fault("Anthropic=overloaded") == ("anthropic", FaultSpec(Fault.overloaded))
    assert parse_fault("gemini=safety_block") == ("gemini", FaultSpec(Fault.safety_block))
    with pytest.raises(ValueError, match="applies to the API routes"):
        parse_fault("AutonomousAI=overloaded")
