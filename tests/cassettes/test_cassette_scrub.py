"""Secrets out of cassettes, stable placeholders in; and no shipped cassette leaks one."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from harness.cassettes import load
from harness.cassettes.cassette import (
    Cassette,
    CassetteInfo,
    ChunkMark,
    Interaction,
    RecordedRequest,
    RecordedResponse,
)
from harness.cassettes.scrub import find_leaks, replace_in_chunks, scrub

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhYmMiLCJleHAiOjF9.c2lnbmF0dXJlMTIz"
SID = "0f3c70b2-5d1e-4a58-9b1f-2c6a1d7e9f00"
INFO = CassetteInfo(
    "RobocodersAPI",
    "RepoAgent",
    "ping",
    {"nonce": "a1b2c3"},
    datetime(2025, 1, 1, tzinfo=UTC),
    "emulator",
    "0.1.0",
    80.0,
    100.0,
    1,
    11,
)


def exchange(
    method: str,
    uri: str,
    body: bytes,
    *,
    request_headers: dict[str, list[str]] | None = None,
    request_body: bytes | None = None,
    response_headers: dict[str, list[str]] | None = None,
    sizes: list[int] | None = None,
) -> Interaction:
    marks = tuple(ChunkMark(float(n), s) for n, s in enumerate(sizes or [len(body)]))
    return Interaction(
        RecordedRequest(method, uri, request_headers or {}, request_body),
        RecordedResponse(200, "OK", response_headers or {}, body, marks),
    )


def robocoders_flow() -> Cassette:
    """Token page -> create-session -> chat, with the real secrets in place."""
    bearer = {"Authorization": [f"Bearer {JWT}"]}
    chat = json.dumps({"sid": SID, "message": "PONG-a1b2c3"}).encode() + b"\n"
    return Cassette(
        INFO,
        (
            exchange(
                "GET", "https://api.robocoders.ai/auth", f'<pre id="token">{JWT}</pre>'.encode()
            ),
            exchange(
                "GET",
                "https://api.robocoders.ai/create-session",
                json.dumps({"sid": SID}).encode(),
                request_headers=bearer,
                response_headers={"Set-Cookie": ["session=cookie-value-42; Path=/"]},
            ),
            exchange(
                "POST",
                "https://api.robocoders.ai/chat",
                chat,
                request_headers={**bearer, "Cookie": ["session=cookie-value-42"]},
                request_body=json.dumps({"sid": SID, "prompt": "hi"}).encode(),
                sizes=[10, len(chat) - 10],
            ),
        ),
    )


def test_no_shipped_cassette_holds_a_secret(shipped_dir: Path) -> None:
    leaks = {
        str(path.relative_to(shipped_dir)): find_leaks(load(path))
        for path in sorted(shipped_dir.glob("*/*.yaml"))
    }

    assert leaks
    assert {name: found for name, found in leaks.items() if found} == {}


def test_the_leak_finder_sees_each_kind_of_secret() -> None:
    leaks = " ".join(find_leaks(robocoders_flow()))

    for kind in ("token", "sid", "cookie", "Bearer value"):
        assert kind in leaks


def test_the_leak_finder_sees_a_configured_secret_and_a_bare_jwt() -> None:
    cassette = Cassette(
        INFO, (exchange("GET", "https://x.invalid/", f"k=hunter2-secret {JWT}".encode()),)
    )

    leaks = " ".join(find_leaks(cassette, ["hunter2-secret"]))

    assert "configured secret" in leaks
    assert "token eyJ" in leaks


def test_the_leak_finder_never_prints_a_secret_whole() -> None:
    leaks = " ".join(find_leaks(robocoders_flow()))

    assert JWT not in leaks
    assert SID not in leaks


def test_scrubbing_leaves_nothing_to_find() -> None:
    assert find_leaks(scrub(robocoders_flow())) == []


def test_one_secret_gets_one_placeholder_everywhere_it_occurs() -> None:
    auth, session, chat = scrub(robocoders_flow()).interactions

    assert auth.response.body == b'<pre id="token">scrubbed-token-1</pre>'
    assert session.request.headers["Authorization"] == ["Bearer scrubbed-token-1"]
    assert json.loads(session.response.body) == {"sid": "scrubbed-sid-1"}
    assert json.loads(chat.request.body or b"")["sid"] == "scrubbed-sid-1"
    assert json.loads(chat.response.body)["sid"] == "scrubbed-sid-1"
    assert chat.request.headers["Cookie"] == ["session=scrubbed-cookie-1"]


def test_a_secret_cut_across_chunks_is_replaced_and_the_chunks_still_add_up() -> None:
    chat = scrub(robocoders_flow()).interactions[2].response

    assert SID.encode() not in chat.body
    assert len(chat.chunks) == 2
    assert b"".join(piece for _, piece in chat.pieces()) == chat.body


def test_scrubbing_twice_changes_nothing_more() -> None:
    once = scrub(robocoders_flow())

    assert scrub(once) == once


def test_text_the_answer_needs_is_kept() -> None:
    chat = scrub(robocoders_flow()).interactions[2].response

    assert json.loads(chat.body)["message"] == "PONG-a1b2c3"


@given(
    st.lists(st.sampled_from([b"x", b"SECRET", b"y\n", b"SEC", b"RET"]), max_size=20),
    st.lists(st.integers(0, 60), max_size=8),
)
def test_replacing_in_chunks_keeps_the_chunk_count_and_the_joined_body(
    parts: list[bytes], cuts: list[int]
) -> None:
    body = b"".join(parts)
    points = sorted({min(c, len(body)) for c in cuts} | {0, len(body)})
    sizes = [b - a for a, b in itertools.pairwise(points)] or [0]

    new_body, new_sizes = replace_in_chunks(body, sizes, {"SECRET": "scrubbed-secret-1"})

    assert new_body == body.replace(b"SECRET", b"scrubbed-secret-1")
    assert len(new_sizes) == len(sizes)
    assert sum(new_sizes) == len(new_body)
    assert all(size >= 0 for size in new_sizes)


ANTHROPIC_KEY = "sk-ant-api03-aKeyThatMustNotLeak0123456789"
GEMINI_KEY = "AIzaSyAKeyThatMustNotLeak0123456789abcd"


def test_the_native_protocols_key_headers_are_scrubbed() -> None:
    cassette = Cassette(
        INFO,
        (
            exchange(
                "POST",
                "https://api.anthropic.com/v1/messages",
                b"event: ping\ndata: {}\n\n",
                request_headers={"x-api-key": [ANTHROPIC_KEY]},
            ),
            exchange(
                "POST",
                "https://generativelanguage.googleapis.com/v1beta/models/m:streamGenerateContent",
                b'data: {"candidates": []}\n\n',
                request_headers={"X-Goog-Api-Key": [GEMINI_KEY]},
            ),
        ),
    )
    assert len(find_leaks(cassette)) >= 2
    scrubbed = scrub(cassette)
    assert scrubbed.interactions[0].request.headers["x-api-key"] == ["scrubbed-token-1"]
    assert scrubbed.interactions[1].request.headers["X-Goog-Api-Key"] == ["scrubbed-token-2"]
    assert find_leaks(scrubbed) == []


def test_a_key_in_the_query_is_scrubbed_from_the_url() -> None:
    uri = f"https://generativelanguage.googleapis.com/v1beta/models?key={GEMINI_KEY}&pageSize=5"
    cassette = Cassette(INFO, (exchange("GET", uri, b'{"models": []}'),))
    assert find_leaks(cassette) != []
    scrubbed = scrub(cassette)
    assert GEMINI_KEY not in scrubbed.interactions[0].request.uri
    assert "key=scrubbed-token-1" in scrubbed.interactions[0].request.uri
    assert find_leaks(scrubbed) == []
