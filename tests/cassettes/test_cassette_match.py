"""The replay matcher ignores per-request randomness and nothing else."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from vcr.request import Request

from harness.cassettes.match import MATCH_ON, harness_body, mask_text


def post(uri: str, body: Any) -> Request:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Request("POST", uri, data, {})


def b64(messages: list[dict[str, str]]) -> str:
    return base64.b64encode(json.dumps(messages).encode()).decode()


CHAT = "https://api.robocoders.ai/chat"
AUTONOMOUS = "https://chatgpt.autonomous.ai/api/v1/ai/chat"


def matches(r1: Request, r2: Request) -> bool:
    try:
        harness_body(r1, r2)
    except AssertionError:
        return False
    return True


def test_conversation_ids_do_not_matter() -> None:
    url = "https://aichatonlineorg.erweima.ai/aichatonline/api/chat/gpt"

    assert matches(
        post(url, {"conversationId": "abc123defg", "prompt": "What is 2 + 2?"}),
        post(url, {"conversationId": "zzz999yyyy", "prompt": "What is 2 + 2?"}),
    )


def test_the_canvas_query_parameter_does_not_matter() -> None:
    base = "https://aichatonlineorg.erweima.ai/api/v1/user/getUniqueId"

    assert matches(
        Request("GET", f"{base}?canvas=-a1b2c3d4e5", None, {}),
        Request("GET", f"{base}?canvas=-f6g7h8i9j0", None, {}),
    )


def test_session_ids_do_not_matter() -> None:
    assert matches(
        post(CHAT, {"sid": "scrubbed-sid-1", "prompt": "hi", "agent": "RepoAgent"}),
        post(CHAT, {"sid": "07f3c70b-live", "prompt": "hi", "agent": "RepoAgent"}),
    )


def test_the_prompt_nonce_does_not_matter() -> None:
    assert matches(
        post(CHAT, {"sid": "s", "prompt": "Reply with exactly: PONG-a1b2c3", "agent": "RepoAgent"}),
        post(CHAT, {"sid": "s", "prompt": "Reply with exactly: PONG-ffffff", "agent": "RepoAgent"}),
    )


def test_agents_are_told_apart() -> None:
    assert not matches(
        post(CHAT, {"sid": "s", "prompt": "hi", "agent": "RepoAgent"}),
        post(CHAT, {"sid": "s", "prompt": "hi", "agent": "FrontEndAgent"}),
    )


def test_a_continue_request_is_not_the_prompt() -> None:
    assert not matches(
        post(CHAT, {"sid": "s", "prompt": "Reply with exactly: PONG-a1b2c3", "agent": "RepoAgent"}),
        post(CHAT, {"sid": "s", "prompt": "continue", "agent": "RepoAgent"}),
    )


def test_base64_messages_match_by_roles_not_by_their_random_content() -> None:
    first = b64([{"role": "user", "content": "Reply with exactly: PONG-a1b2c3"}])
    second = b64([{"role": "user", "content": "Reply with exactly: PONG-0d0d0d"}])

    assert matches(
        post(AUTONOMOUS, {"messages": first, "threadId": "llama", "aiAgent": "llama"}),
        post(AUTONOMOUS, {"messages": second, "threadId": "llama", "aiAgent": "llama"}),
    )


def test_base64_messages_with_other_roles_differ() -> None:
    one_turn = b64([{"role": "user", "content": "x"}])
    with_system = b64([{"role": "system", "content": "x"}, {"role": "user", "content": "x"}])

    assert not matches(
        post(AUTONOMOUS, {"messages": one_turn, "threadId": "llama", "aiAgent": "llama"}),
        post(AUTONOMOUS, {"messages": with_system, "threadId": "llama", "aiAgent": "llama"}),
    )


def test_models_are_told_apart() -> None:
    messages = b64([{"role": "user", "content": "x"}])

    assert not matches(
        post(AUTONOMOUS, {"messages": messages, "threadId": "llama", "aiAgent": "llama"}),
        post(AUTONOMOUS, {"messages": messages, "threadId": "qwen_coder", "aiAgent": "qwen_coder"}),
    )


def test_vcrpy_receives_a_dict_for_json_bodies_and_it_matches_the_recorded_bytes() -> None:
    body = {"sid": "s", "prompt": "hi", "agent": "RepoAgent"}

    assert matches(Request("POST", CHAT, body, {}), post(CHAT, body))


def test_endpoints_are_compared_by_the_standard_matchers() -> None:
    assert {"method", "host", "path", "harness_body"} <= set(MATCH_ON)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Reply with exactly: PONG-a1b2c3", "Reply with exactly: PONG-#"),
        (
            "What is 17 + 25? Reply with the number only.",
            "What is # + #? Reply with the number only.",
        ),
        ("Remember this code word: MANGO-0042.", "Remember this code word: MANGO-#."),
        ("continue", "continue"),
    ],
)
def test_random_words_are_masked(text: str, masked: str) -> None:
    assert mask_text(text) == masked
