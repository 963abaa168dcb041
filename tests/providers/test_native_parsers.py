"""Property tests of the Anthropic and Gemini stream parsers (and OpenAI's deltas): any
answer, cut anywhere, with thinking and noise between its events, reads back as itself,
and thinking is never taken as the answer."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers.anthropic_messages import MessageStream
from providers.errors import ContentFilterError, ProviderError
from providers.gemini import FILTER_REASONS, ContentStream, gemini_error
from providers.messages import Chunk, FinishReason, Thinking, Usage
from providers.openai_compatible import delta_chunks

pieces = st.lists(st.text(min_size=1, max_size=8), max_size=12)
counts = st.integers(min_value=0, max_value=10_000)
NOISE = [
    {"type": "ping"},
    {"type": "content_block_stop", "index": 0},
    {"type": "something_new", "detail": 1},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta"}},
    {"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta"}},
]


def fed(stream: MessageStream | ContentStream, events: list[Any]) -> list[Chunk]:
    return [chunk for event in events for chunk in stream.feed(event)]


def text_of(chunks: list[Chunk]) -> str:
    return "".join(c for c in chunks if isinstance(c, str))


def thought_of(chunks: list[Chunk]) -> str:
    return "".join(c.text for c in chunks if isinstance(c, Thinking))


def anthropic_events(
    thought: list[str], answer: list[str], input_tokens: int, output_tokens: int
) -> list[dict[str, Any]]:
    start = {"type": "message_start", "message": {"usage": {"input_tokens": input_tokens}}}
    thinking = [
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "thinking_delta", "thinking": t},
        }
        for t in thought
    ]
    text = [
        {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": t}}
        for t in answer
    ]
    end = {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn"},
        "usage": {"output_tokens": output_tokens},
    }
    return [start, *thinking, *text, end, {"type": "message_stop"}]


def interleave(events: list[Any], noise: list[tuple[int, int]]) -> list[Any]:
    mixed = list(events)
    for position, which in sorted(noise, reverse=True):
        mixed.insert(min(position, len(mixed)), NOISE[which % len(NOISE)])
    return mixed


@given(pieces, pieces, counts, counts, st.lists(st.tuples(st.integers(0, 40), st.integers(0, 9))))
def test_an_anthropic_stream_reads_back_as_its_answer_whatever_comes_between(
    thought: list[str],
    answer: list[str],
    tokens_in: int,
    tokens_out: int,
    noise: list[tuple[int, int]],
) -> None:
    events = interleave(anthropic_events(thought, answer, tokens_in, tokens_out), noise)
    chunks = fed(MessageStream(), events)
    assert text_of(chunks) == "".join(answer)
    assert thought_of(chunks) == "".join(thought)
    assert [c for c in chunks if isinstance(c, FinishReason)] == [FinishReason("end_turn")]
    usage = [c for c in chunks if isinstance(c, Usage)]
    assert usage[-1] == Usage(tokens_in, tokens_out)


@given(
    pieces,
    st.integers(0, 20),
    st.sampled_from(["overloaded_error", "api_error", "rate_limit_error"]),
)
def test_an_anthropic_error_event_anywhere_raises(answer: list[str], at: int, kind: str) -> None:
    events = anthropic_events([], answer, 1, 1)
    events.insert(min(at, len(events)), {"type": "error", "error": {"type": kind, "message": "x"}})
    with pytest.raises(ProviderError):
        fed(MessageStream(), events)


def gemini_events(
    thought: list[str], answer: list[str], prompt: int, thoughts: int
) -> list[dict[str, Any]]:
    def response(parts: list[dict[str, Any]], finish: str | None = None) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}}
        if finish:
            candidate["finishReason"] = finish
        return {"candidates": [candidate], "usageMetadata": {"promptTokenCount": prompt}}

    last = response([{"text": ""}], "STOP")
    last["usageMetadata"] = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": len(answer),
        "thoughtsTokenCount": thoughts,
    }
    return [
        *(response([{"text": t, "thought": True}]) for t in thought),
        *(response([{"text": t}]) for t in answer),
        last,
    ]


@given(pieces, pieces, counts, counts)
def test_a_gemini_stream_reads_back_as_its_answer_with_thoughts_apart(
    thought: list[str], answer: list[str], prompt: int, thoughts: int
) -> None:
    chunks = fed(ContentStream(), gemini_events(thought, answer, prompt, thoughts))
    assert text_of(chunks) == "".join(answer)
    assert thought_of(chunks) == "".join(thought)
    assert [c for c in chunks if isinstance(c, FinishReason)] == [FinishReason("STOP")]
    usage = [c for c in chunks if isinstance(c, Usage)][-1]
    assert usage == Usage(prompt, len(answer) + thoughts, thoughts)


@given(pieces, st.sampled_from(sorted(FILTER_REASONS)))
def test_a_filtered_gemini_answer_raises_quoting_it(answer: list[str], reason: str) -> None:
    events = gemini_events([], answer, 1, 0)
    events[-1]["candidates"][0]["finishReason"] = reason
    with pytest.raises(ContentFilterError) as raised:
        fed(ContentStream(), events)
    assert reason in (raised.value.body or "")


@given(
    st.integers(100, 599),
    st.one_of(st.none(), st.text(max_size=20)),
    st.one_of(st.none(), st.text(max_size=40)),
    st.one_of(st.none(), st.integers(), st.text(max_size=5)),
)
def test_any_gemini_error_object_maps_without_failing(
    status: int, grpc: str | None, message: str | None, code: object
) -> None:
    found = gemini_error(status, {"status": grpc, "message": message, "code": code})
    assert found is None or isinstance(found, ProviderError)


@given(
    st.dictionaries(
        st.sampled_from(["content", "reasoning_content", "reasoning", "role"]),
        st.one_of(st.none(), st.text(max_size=8)),
    )
)
def test_openai_reasoning_is_never_answer_text(delta: dict[str, Any]) -> None:
    chunks = delta_chunks(delta)
    assert text_of(chunks) == (delta.get("content") or "")
    assert all(isinstance(c, str | Thinking) for c in chunks)
