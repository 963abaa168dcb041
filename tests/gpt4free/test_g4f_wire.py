"""What crosses the boundary of a gpt4free worker: answer data line by line, errors as
descriptions rebuilt into the classes the classifier knows; and how many workers the
runner's concurrency asks for."""

from __future__ import annotations

import json

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.probing.classify import kind_of_exception
from harness.result import FailureKind
from harness.targets.g4f import MAX_WORKERS, worker_count
from providers import errors as pe
from providers.gpt4free import wire
from providers.messages import Chunk, FinishReason, Thinking, Usage

counts = st.none() | st.integers(min_value=0, max_value=10**9)
chunks: st.SearchStrategy[Chunk] = st.one_of(
    st.text(),
    st.builds(FinishReason, st.text(min_size=1)),
    st.builds(Usage, counts, counts, counts),
    st.builds(Thinking, st.text()),
)


@given(chunks, st.integers(min_value=1))
def test_answer_data_crosses_unchanged_on_one_line(chunk: Chunk, call_id: int) -> None:
    line = wire.encode(wire.chunk_message(call_id, chunk))
    assert line.count(b"\n") == 1
    assert line.endswith(b"\n")
    message = wire.decode(line)
    assert message["id"] == call_id
    assert wire.chunk_of(message) == chunk


@given(st.binary())
def test_a_line_is_a_message_or_a_value_error(line: bytes) -> None:
    try:
        message = wire.decode(line)
    except ValueError:
        return
    assert isinstance(message, dict)


def crossed(exc: BaseException) -> Exception:
    """``exc`` described, sent as JSON and rebuilt."""
    return wire.error_of(json.loads(json.dumps(wire.describe_error(exc))))


@pytest.mark.parametrize(
    "exc",
    [
        pe.RateLimitError("Response 429: slow down", 429, 2.5, body="later"),
        pe.ServerError("Response 502: bad gateway", 502),
        pe.ProtocolError("no data: prefix", body="<html>"),
        pe.MissingRequirementsError("No module named 'curl_cffi'"),
        TimeoutError("read timed out"),
        ConnectionResetError(104, "Connection reset by peer"),
    ],
    ids=type,
)
def test_an_error_is_rebuilt_as_its_own_class_with_its_fields(exc: Exception) -> None:
    rebuilt = crossed(exc)
    assert type(rebuilt) is type(exc)
    assert str(rebuilt) == str(exc)
    for field in ("status", "retry_after", "body", "errno"):
        assert getattr(rebuilt, field, None) == getattr(exc, field, None)


def test_an_error_wanting_more_than_a_message_keeps_its_class_and_kind() -> None:
    exc = UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")
    rebuilt = crossed(exc)
    assert isinstance(rebuilt, UnicodeDecodeError)
    assert type(rebuilt).__name__ == "UnicodeDecodeError"
    assert str(rebuilt) == str(exc)
    assert kind_of_exception(rebuilt) is kind_of_exception(exc) is FailureKind.PROTOCOL


def test_an_error_of_a_class_not_loaded_here_stands_in_under_its_name() -> None:
    described = wire.describe_error(ValueError("bad choice"))
    described["classes"] = ["some_provider_module:ChoiceError", *described["classes"]]
    rebuilt = wire.error_of(described)
    assert isinstance(rebuilt, ValueError)
    assert type(rebuilt).__name__ == "ChoiceError"
    assert str(rebuilt) == "bad choice"
    assert kind_of_exception(rebuilt) is FailureKind.PROVIDER_BUG


def test_an_aiohttp_error_keeps_its_kind() -> None:
    exc = aiohttp.ServerDisconnectedError()
    assert kind_of_exception(crossed(exc)) is kind_of_exception(exc)


@given(
    st.one_of(st.integers(min_value=1, max_value=10_000), st.just("auto")),
    st.integers(min_value=1, max_value=100),
    st.integers(min_value=1, max_value=500),
)
def test_workers_cover_the_calls_in_flight_within_the_cap(
    concurrency: int | str, per_provider: int, providers: int
) -> None:
    count = worker_count(concurrency, per_provider, providers)  # type: ignore[arg-type]
    calls = per_provider * providers
    if concurrency != "auto":
        calls = min(calls, int(concurrency))
    assert count == min(calls, MAX_WORKERS)
