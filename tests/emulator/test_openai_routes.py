"""The OpenAI-compatible routes, as a client sees them on the wire."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from typing import Any

import aiohttp
import pytest

from harness.emulator import Emulator, Fault, FaultSpec, parse_fault
from harness.emulator.openai import MODELS, STREAM_ERROR, split_small

PING = [{"role": "user", "content": "Reply with the single word pong."}]


def chat(stream: bool = True, model: str = "any-model/you-like:7b", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": PING, "stream": stream, **extra}


def events(body: bytes) -> list[Any]:
    """The ``data:`` payloads of an SSE body (JSON decoded, ``[DONE]`` kept as text)."""
    out: list[Any] = []
    for line in body.decode().splitlines():
        if line.startswith("data: "):
            payload = line[6:]
            out.append(payload if payload == "[DONE]" else json.loads(payload))
    return out


def text_of(decoded: list[Any]) -> str:
    return "".join(
        e["choices"][0]["delta"].get("content") or ""
        for e in decoded
        if isinstance(e, dict) and e.get("choices")
    )


@pytest.fixture
async def emu() -> Any:
    async with Emulator(host="127.0.0.1", port=0, endpoints=["groq"]) as emulator:
        yield emulator


async def post(emu: Emulator, path: str, body: Any) -> tuple[int, dict[str, str], bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(emu.url + path, json=body) as response,
    ):
        return response.status, dict(response.headers), await response.read()


async def test_a_streamed_answer_comes_in_small_pieces_then_finish_usage_and_done(
    emu: Emulator,
) -> None:
    status, headers, body = await post(
        emu, "/v1/chat/completions", chat(stream_options={"include_usage": True})
    )
    assert status == 200
    assert headers["Content-Type"].startswith("text/event-stream")
    assert body.startswith(b": keep-alive")
    decoded = events(body)
    assert decoded[-1] == "[DONE]"
    assert decoded[0]["choices"][0]["delta"] == {"role": "assistant", "content": None}
    contents = [e for e in decoded[:-1] if e["choices"] and e["choices"][0]["delta"].get("content")]
    assert len(contents) >= 2
    assert text_of(decoded) == "pong"
    assert [e["choices"][0]["finish_reason"] for e in decoded[:-1] if e["choices"]][-1] == "stop"
    usage = decoded[-2]["usage"]
    assert decoded[-2]["choices"] == []
    assert usage["completion_tokens"] == len(split_small("pong"))
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


async def test_usage_is_sent_only_when_asked_for(emu: Emulator) -> None:
    _, _, body = await post(emu, "/v1/chat/completions", chat())
    assert all("usage" not in e for e in events(body) if isinstance(e, dict))


async def test_a_reasoning_model_thinks_aloud_before_answering(emu: Emulator) -> None:
    _, _, body = await post(emu, "/v1/chat/completions", chat(model="emulated-reasoning"))
    decoded = events(body)
    assert decoded[1]["choices"][0]["delta"] == {"reasoning_content": "Thinking it over."}
    assert text_of(decoded) == "pong"


async def test_without_stream_the_answer_is_one_completion_object(emu: Emulator) -> None:
    status, headers, body = await post(emu, "/v1/chat/completions", chat(stream=False))
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    document = json.loads(body)
    assert document["object"] == "chat.completion"
    assert document["choices"][0]["message"] == {"role": "assistant", "content": "pong"}
    assert document["choices"][0]["finish_reason"] == "stop"
    assert document["usage"]["completion_tokens"] >= 1


@pytest.mark.parametrize("prefix", ["", "/groq", "/anything-else"])
async def test_models_are_listed_under_any_prefix(emu: Emulator, prefix: str) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{emu.url}{prefix}/v1/models") as response,
    ):
        document = await response.json()
    assert document["object"] == "list"
    assert [m["id"] for m in document["data"]] == list(MODELS)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"messages": PING}, "model must be"),
        ({"model": "m", "messages": []}, "messages must be"),
        ({"model": "m", "messages": [{"role": "robot", "content": "x"}]}, "known role"),
        ({**chat(), "max_tokens": 0}, "max_tokens"),
        ({**chat(), "stream": "yes"}, "stream must be"),
    ],
)
async def test_a_bad_request_is_answered_like_the_api(
    emu: Emulator, body: dict[str, Any], message: str
) -> None:
    status, _, raw = await post(emu, "/v1/chat/completions", body)
    assert status == 400
    error = json.loads(raw)["error"]
    assert message in error["message"]
    assert error["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("mode", "status", "code"),
    [
        (Fault.http_401, 401, "invalid_api_key"),
        (Fault.http_429, 429, "rate_limit_exceeded"),
        (Fault.http_500, 500, None),
    ],
)
async def test_status_faults_answer_openai_error_objects(
    emu: Emulator, mode: Fault, status: int, code: str | None
) -> None:
    emu.set_fault("openai", FaultSpec(mode, retry_after=7))
    got, headers, raw = await post(emu, "/v1/chat/completions", chat())
    assert got == status
    assert json.loads(raw)["error"]["code"] == code
    if mode is Fault.http_429:
        assert headers["Retry-After"] == "7"
        assert headers["x-ratelimit-reset-requests"] == "7s"


@pytest.mark.parametrize(
    ("mode", "status"), [(Fault.cloudflare_403, 403), (Fault.http_502, 502), (Fault.http_503, 503)]
)
async def test_front_pages_stay_html(emu: Emulator, mode: Fault, status: int) -> None:
    emu.set_fault("openai", FaultSpec(mode))
    got, headers, _ = await post(emu, "/v1/chat/completions", chat())
    assert got == status
    assert headers["Content-Type"].startswith("text/html")


async def test_a_stream_error_comes_after_a_200_and_the_text(emu: Emulator) -> None:
    emu.set_fault("openai", FaultSpec(Fault.stream_error))
    status, _, body = await post(emu, "/v1/chat/completions", chat())
    assert status == 200
    decoded = events(body)
    assert text_of(decoded) == "pong"
    assert decoded[-1] == {"error": STREAM_ERROR}


@pytest.mark.parametrize(
    ("mode", "check"),
    [
        (Fault.garbage, lambda body: b"Warning" in body),
        (Fault.empty_200, lambda body: body == b""),
        (Fault.invalid_utf8, lambda body: b"\xff\xfe" in body),
        (
            Fault.wrong_answer,
            lambda body: text_of(events(body)) == "I am not able to help with that.",
        ),
        (Fault.changed_framing, lambda body: body.count(b"data: ") == 0 and b'"content"' in body),
        (Fault.huge_line, lambda body: len(body) >= 200_000),
        (Fault.chunk_delay, lambda body: text_of(events(body)) == "pong"),
    ],
)
async def test_body_faults_shape_the_stream(emu: Emulator, mode: Fault, check: Any) -> None:
    emu.set_fault("openai", FaultSpec(mode, size=200_000, chunk_delay=0.01))
    status, _, body = await post(emu, "/v1/chat/completions", chat())
    assert status == 200
    assert check(body)


async def test_a_reset_cuts_the_stream_short(emu: Emulator) -> None:
    emu.set_fault("openai", FaultSpec(Fault.reset_mid_stream))
    with pytest.raises(aiohttp.ClientPayloadError):
        await post(emu, "/v1/chat/completions", chat())


async def test_an_endpoint_fault_hits_only_its_own_prefix(emu: Emulator) -> None:
    emu.set_fault("groq", FaultSpec(Fault.http_500))
    assert (await post(emu, "/groq/v1/chat/completions", chat()))[0] == 500
    assert (await post(emu, "/v1/chat/completions", chat()))[0] == 200
    assert (await post(emu, "/other/v1/chat/completions", chat()))[0] == 200
    assert emu.requests[("groq", "/v1/chat/completions")] == 1
    assert emu.requests[("openai", "/v1/chat/completions")] == 2


async def test_the_openai_fault_covers_every_prefix_without_its_own(emu: Emulator) -> None:
    emu.set_fault("openai", FaultSpec(Fault.http_503, times=2))
    assert (await post(emu, "/groq/v1/chat/completions", chat()))[0] == 503
    assert (await post(emu, "/x/v1/chat/completions", chat()))[0] == 503
    assert (await post(emu, "/v1/chat/completions", chat()))[0] == 200


def test_fault_names_for_the_openai_routes_parse() -> None:
    assert parse_fault("OpenAI=http_429:3") == ("openai", FaultSpec(Fault.http_429, retry_after=3))
    assert parse_fault("groq=stream_error", endpoints=["groq"])[0] == "groq"
    with pytest.raises(ValueError, match=r"valid providers: .*openai"):
        parse_fault("groq=http_500")
    with pytest.raises(ValueError, match="applies to the API routes"):
        parse_fault("CodeLinkAva=stream_error")
    with pytest.raises(ValueError, match="applies to RobocodersAPI only"):
        parse_fault("openai=resource_limit")


async def test_seed_provider_paths_still_win_over_endpoint_prefixes(emu: Emulator) -> None:
    status, _, _ = await post(
        emu, "/api/chat", {"messages": PING, "temperature": 0.5, "stream": True}
    )
    assert status == 200
    assert emu.requests[("CodeLinkAva", "/api/chat")] == 1


async def test_harness_emulate_serves_the_v1_routes_with_their_fault() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "harness",
        "emulate",
        "--port",
        "0",
        "--fault",
        "openai=http_429:2",
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    try:
        await asyncio.wait_for(process.stdout.readline(), 30)
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        base = line.split(" at ", 1)[1].strip()
        assert base.endswith("/v1")
        async with aiohttp.ClientSession() as http:
            async with http.post(base + "/chat/completions", json=chat()) as response:
                assert response.status == 429
                assert response.headers["Retry-After"] == "2"
            async with http.get(base + "/models") as response:
                assert response.status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0
