"""Each emulator speaks its upstream's framing on the real paths (raw HTTP, no client)."""

import base64
import json
from typing import Any

import aiohttp
import pytest
from bs4 import BeautifulSoup

from harness.emulator import Emulator
from tests.emulator.conftest import Login

PING = "Reply with the single word: pong"

TOKENS = ["Pari", "s", " is", " the", " capi", "tal", " of", " Fran", "ce."]
"""The answer to the capital question as the emulators stream it."""


def b64(messages: list[dict[str, Any]]) -> str:
    return base64.b64encode(json.dumps(messages).encode()).decode()


# RobocodersAPI


async def test_the_auth_page_carries_a_jwt_shaped_token_with_an_expiry(
    http: aiohttp.ClientSession,
) -> None:
    async with http.get("/auth") as response:
        assert response.content_type == "text/html"
        token = BeautifulSoup(await response.text(), "html.parser").select_one("pre#token").text
    claims = token.strip().split(".")[1]
    assert "exp" in json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))


async def test_create_session_needs_an_issued_token(http: aiohttp.ClientSession) -> None:
    async with http.get("/create-session") as response:
        assert response.status == 401
    async with http.get("/create-session", headers={"Authorization": "Bearer x.y.z"}) as response:
        assert response.status == 401


async def test_chat_streams_agent_records_token_by_token_in_json_dumps_spacing(
    http: aiohttp.ClientSession, robocoders_login: Login
) -> None:
    headers, sid = await robocoders_login(http)
    body = {"sid": sid, "prompt": "What is the capital of France?", "agent": "RepoAgent"}
    async with http.post("/chat", json=body, headers=headers) as response:
        lines = (await response.read()).decode().splitlines()
    records = [json.loads(line) for line in lines]
    assert all(line == json.dumps(record) for line, record in zip(lines, records, strict=True))
    assert [r["args"]["content"] for r in records] == [*TOKENS, ""]
    assert [r["id"] for r in records] == list(range(1, len(TOKENS) + 2))
    assert {r["sid"] for r in records} == {sid}
    assert {r["action"] for r in records} == {"message"}
    assert [r["args"]["wait_for_response"] for r in records] == [False] * len(TOKENS) + [True]


async def test_continue_with_nothing_paused_is_an_empty_stream(
    http: aiohttp.ClientSession, robocoders_login: Login
) -> None:
    headers, sid = await robocoders_login(http)
    body = {"sid": sid, "prompt": "continue", "agent": "GeneralCodingAgent"}
    async with http.post("/chat", json=body, headers=headers) as response:
        assert (response.status, await response.read()) == (200, b"")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prompt": "hi", "agent": "RepoAgent"}, "sid"),
        ({"sid": "s", "prompt": 5, "agent": "RepoAgent"}, "prompt"),
        ({"sid": "s", "prompt": "hi", "agent": "SecretAgent"}, "agent"),
    ],
)
async def test_a_malformed_chat_body_is_a_fastapi_style_422(
    http: aiohttp.ClientSession, body: dict[str, Any], field: str, robocoders_login: Login
) -> None:
    headers, _ = await robocoders_login(http)
    async with http.post("/chat", json=body, headers=headers) as response:
        assert response.status == 422
        detail = (await response.json())["detail"]
    assert ["body", field] in [error["loc"] for error in detail]


async def test_chat_refuses_an_unknown_token_or_a_foreign_session(
    http: aiohttp.ClientSession, robocoders_login: Login
) -> None:
    headers, sid = await robocoders_login(http)
    other_headers, _ = await robocoders_login(http)
    body = {"sid": sid, "prompt": "hi", "agent": "RepoAgent"}
    async with http.post("/chat", json=body, headers={"Authorization": "Bearer nope"}) as r:
        assert r.status == 401
    async with http.post("/chat", json=body, headers=other_headers) as r:
        assert r.status == 401
    async with http.post("/chat", json={**body, "sid": "unknown"}, headers=headers) as r:
        assert r.status == 401


# AiChatOnline


async def test_aichatonline_streams_message_lines_for_an_issued_unique_id(
    http: aiohttp.ClientSession,
) -> None:
    async with http.get("/api/v1/user/getUniqueId", params={"canvas": "-abc"}) as response:
        unique_id = (await response.json())["data"]
    body = {"conversationId": "abc", "prompt": "What is 2 + 2?"}
    headers = {"UniqueId": unique_id}
    async with http.post("/aichatonline/api/chat/gpt", json=body, headers=headers) as response:
        lines = (await response.read()).decode().splitlines()
    assert [json.loads(line) for line in lines] == [{"code": 200, "data": {"message": "4"}}]


async def test_aichatonline_needs_its_unique_id_and_a_proper_body(
    http: aiohttp.ClientSession,
) -> None:
    path = "/aichatonline/api/chat/gpt"
    body = {"conversationId": "abc", "prompt": "hi"}
    async with http.post(path, json=body, headers={"UniqueId": "forged"}) as response:
        assert response.status == 401
    async with http.get("/api/v1/user/getUniqueId?canvas=-x") as response:
        headers = {"UniqueId": (await response.json())["data"]}
    async with http.post(path, json={"prompt": "hi"}, headers=headers) as response:
        assert response.status == 400


# AutonomousAI


def sse_events(body: bytes) -> list[str]:
    assert body.endswith(b"\n\n")
    events = body.decode().split("\n\n")[:-1]
    assert all(event.startswith("data: ") for event in events)
    return [event.removeprefix("data: ") for event in events]


async def test_autonomousai_streams_openai_chunks_then_stop_then_done(
    http: aiohttp.ClientSession,
) -> None:
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    body = {"messages": b64(messages), "threadId": "t", "stream": True, "aiAgent": "qwen_coder"}
    async with http.post("/api/v1/ai/chat", json=body) as response:
        assert response.content_type == "text/event-stream"
        events = sse_events(await response.read())
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert {c["model"] for c in chunks} == {"qwen_coder"}
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas[:-1] == [{"content": w} for w in TOKENS]
    assert (deltas[-1], chunks[-1]["choices"][0]["finish_reason"]) == ({}, "stop")


async def test_autonomousai_without_streaming_sends_the_whole_answer_in_one_chunk(
    http: aiohttp.ClientSession,
) -> None:
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    body = {"messages": b64(messages), "threadId": "t", "stream": False, "aiAgent": "summary"}
    async with http.post("/api/v1/ai/summary", json=body) as response:
        events = sse_events(await response.read())
    first = json.loads(events[0])["choices"][0]["delta"]["content"]
    assert (first, len(events)) == ("Paris is the capital of France.", 3)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/ai/chat", {"messages": "%%%", "threadId": "t", "aiAgent": "llama"}),
        ("/api/v1/ai/chat", {"messages": b64([]), "threadId": "t", "aiAgent": "llama"}),
        (
            "/api/v1/ai/chat-hermes",
            {
                "messages": b64([{"role": "user", "content": "hi"}]),
                "threadId": "t",
                "aiAgent": "llama",
            },
        ),
    ],
    ids=["not-base64", "empty-list", "agent-of-another-endpoint"],
)
async def test_autonomousai_refuses_a_bad_body_with_a_json_error(
    http: aiohttp.ClientSession, path: str, body: dict[str, Any]
) -> None:
    async with http.post(path, json=body) as response:
        assert response.status == 400
        assert "message" in await response.json()


# CodeLinkAva


async def test_codelinkava_ends_every_line_with_a_newline(http: aiohttp.ClientSession) -> None:
    body = {"messages": [{"role": "user", "content": PING}], "temperature": 0.6, "stream": True}
    async with http.post("/api/chat", json=body) as response:
        raw = await response.read()
    lines = raw.split(b"\n")[:-1]
    data = [line for line in lines if line]
    assert json.loads(data[0][6:])["choices"][0]["delta"] == {"content": "pong"}
    assert data[-1] == b"data: [DONE]"


@pytest.mark.parametrize(
    "body",
    [
        {"messages": []},
        {"messages": [{"role": "user"}]},
        {"messages": "hi"},
        {"messages": [{"role": "user", "content": "hi"}], "temperature": "hot"},
    ],
)
async def test_codelinkava_refuses_bad_messages(
    http: aiohttp.ClientSession, body: dict[str, Any]
) -> None:
    async with http.post("/api/chat", json=body) as response:
        assert response.status == 400


async def test_requests_are_counted_per_provider_and_path(
    emulator: Emulator, http: aiohttp.ClientSession, robocoders_login: Login
) -> None:
    await robocoders_login(http)
    await robocoders_login(http)
    assert emulator.requests[("RobocodersAPI", "/auth")] == 2
    assert emulator.requests[("RobocodersAPI", "/create-session")] == 2
