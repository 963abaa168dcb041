"""The classifier: every outcome becomes exactly one failure kind (or a pass)."""

import json
import ssl
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import http_exceptions as hx
from hypothesis import given
from hypothesis import strategies as st

from harness.probing.classify import (
    EXCEPTION_KINDS,
    Expired,
    Phase,
    classify,
    is_retryable,
    kind_of_exception,
    status_of,
)
from harness.result import FailureKind as K
from providers import errors as pe
from providers.anthropic_messages import MessageStream, message_chunks
from providers.gemini import ContentStream
from providers.gemini import status_error as gemini_status
from providers.gpt4free import wire
from providers.openai_compatible import completion_chunks, endpoint_error


def subclasses(root: type[BaseException]) -> set[type[BaseException]]:
    """``root`` and every class below it, recursively; not the stand-ins the gpt4free
    wire makes at run time for errors raised in a worker (they classify by their base)."""
    found = {root}
    for sub in root.__subclasses__():
        if not wire.is_stand_in(sub):
            found |= subclasses(sub)
    return found


def bare(cls: type[BaseException]) -> BaseException:
    """An instance of ``cls`` without calling its constructor (some need live objects)."""
    return cls.__new__(cls)


def response_error(status: int, cause: BaseException | None = None) -> aiohttp.ClientResponseError:
    error = aiohttp.ClientResponseError(None, (), status=status, message="x")  # type: ignore[arg-type]
    error.__cause__ = cause
    return error


def raised(parse: Callable[[Any], object], document: Any) -> BaseException:
    """What a protocol's parser raises for ``document`` (one wire shape)."""
    try:
        parse(document)
    except pe.ProviderError as exc:
        return exc
    raise AssertionError(f"{document!r} raised nothing")


def anthropic_status(status: int, kind: str) -> BaseException:
    body = json.dumps({"type": "error", "error": {"type": kind, "message": kind}})
    return endpoint_error(status, body, "application/json", {}, 0.0)


def gemini_error(status: int, grpc: str, message: str = "no", reason: str = "") -> BaseException:
    details = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason}]
    error = {"code": status, "message": message, "status": grpc, "details": details}
    return gemini_status(status, json.dumps({"error": error}), "application/json", {}, 0.0)


def gemini_finish(reason: str) -> BaseException:
    event = {"candidates": [{"content": {"parts": [{"text": "I"}]}, "finishReason": reason}]}
    return raised(ContentStream().feed, event)


# Every failure shape of the native protocols, as the upstreams send them.
WIRE_SHAPES: list[tuple[str, BaseException | None, dict[str, Any], K | None]] = [
    ("anthropic 529 overloaded_error", anthropic_status(529, "overloaded_error"), {}, K.OVERLOADED),
    (
        "anthropic overloaded_error event after a 200",
        raised(
            MessageStream().feed,
            {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
        ),
        {},
        K.OVERLOADED,
    ),
    (
        "anthropic api_error event after a 200",
        raised(MessageStream().feed, {"type": "error", "error": {"type": "api_error"}}),
        {},
        K.HTTP_SERVER,
    ),
    (
        "anthropic 429 rate_limit_error",
        anthropic_status(429, "rate_limit_error"),
        {},
        K.RATE_LIMITED,
    ),
    ("anthropic 401", anthropic_status(401, "authentication_error"), {}, K.HTTP_AUTH),
    ("anthropic 403", anthropic_status(403, "permission_error"), {}, K.HTTP_AUTH),
    ("anthropic 404 model", anthropic_status(404, "not_found_error"), {}, K.UNSUPPORTED_MODEL),
    ("anthropic 400", anthropic_status(400, "invalid_request_error"), {}, K.HTTP_CLIENT),
    ("anthropic 500 api_error", anthropic_status(500, "api_error"), {}, K.HTTP_SERVER),
    (
        "anthropic refusal",
        raised(
            MessageStream().feed, {"type": "message_delta", "delta": {"stop_reason": "refusal"}}
        ),
        {},
        K.CONTENT_FILTER,
    ),
    (
        "anthropic refusal, whole message",
        raised(message_chunks, {"content": [], "stop_reason": "refusal"}),
        {},
        K.CONTENT_FILTER,
    ),
    ("gemini 429 RESOURCE_EXHAUSTED", gemini_error(429, "RESOURCE_EXHAUSTED"), {}, K.RATE_LIMITED),
    ("gemini 503 UNAVAILABLE", gemini_error(503, "UNAVAILABLE"), {}, K.OVERLOADED),
    (
        "gemini 400 API_KEY_INVALID",
        gemini_error(400, "INVALID_ARGUMENT", "API key not valid.", "API_KEY_INVALID"),
        {},
        K.HTTP_AUTH,
    ),
    (
        "gemini 403 PERMISSION_DENIED",
        gemini_error(403, "PERMISSION_DENIED", "blocked", "API_KEY_SERVICE_BLOCKED"),
        {},
        K.HTTP_AUTH,
    ),
    ("gemini 400 INVALID_ARGUMENT", gemini_error(400, "INVALID_ARGUMENT"), {}, K.HTTP_CLIENT),
    ("gemini 404 NOT_FOUND", gemini_error(404, "NOT_FOUND"), {}, K.UNSUPPORTED_MODEL),
    ("gemini 500 INTERNAL", gemini_error(500, "INTERNAL"), {}, K.HTTP_SERVER),
    (
        "gemini error after a 200",
        raised(ContentStream().feed, {"error": {"code": 503, "status": "UNAVAILABLE"}}),
        {},
        K.OVERLOADED,
    ),
    *(
        (f"gemini finishReason {r}", gemini_finish(r), {}, K.CONTENT_FILTER)
        for r in ("SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII")
    ),
    (
        "gemini prompt blocked",
        raised(ContentStream().feed, {"promptFeedback": {"blockReason": "SAFETY"}}),
        {},
        K.CONTENT_FILTER,
    ),
    (
        "openai content_filter finish",
        raised(
            completion_chunks, {"choices": [{"message": {}, "finish_reason": "content_filter"}]}
        ),
        {},
        K.CONTENT_FILTER,
    ),
    (
        "openai-compatible 529 overloaded",
        endpoint_error(529, '{"error": {"message": "Overloaded"}}', "application/json", {}, 0.0),
        {},
        K.OVERLOADED,
    ),
]


# One row per failure kind at least: (name, error, facts, expected kind)
TABLE: list[tuple[str, BaseException | None, dict[str, Any], K | None]] = [
    ("a clean answer passes", None, {}, None),
    ("unknown host", bare(aiohttp.ClientConnectorDNSError), {}, K.DNS),
    ("closed port", bare(aiohttp.ClientConnectorError), {}, K.CONNECT),
    ("refused", ConnectionRefusedError(), {}, K.CONNECT),
    ("bad certificate", bare(aiohttp.ClientConnectorCertificateError), {}, K.TLS),
    ("ssl error", ssl.SSLError(), {}, K.TLS),
    ("aiohttp connect timeout", bare(aiohttp.ConnectionTimeoutError), {}, K.TIMEOUT_CONNECT),
    ("connect deadline", None, {"expired": Expired.CONNECT}, K.TIMEOUT_CONNECT),
    ("first-chunk deadline", None, {"expired": Expired.FIRST_CHUNK}, K.TIMEOUT_FIRST_CHUNK),
    ("stall deadline", None, {"expired": Expired.STALL}, K.TIMEOUT_TOTAL),
    ("401", pe.AuthError("no", 401), {}, K.HTTP_AUTH),
    ("cloudflare page", pe.CloudflareError("cf", 403), {}, K.CLOUDFLARE),
    ("bot page", pe.BotDetectedError("bot", 403), {}, K.CLOUDFLARE),
    ("429", pe.RateLimitError("slow down", 429, 3), {}, K.RATE_LIMITED),
    ("402", pe.RateLimitError("pay", 402), {}, K.RATE_LIMITED),
    ("404", pe.ResponseStatusError("gone", 404), {}, K.HTTP_CLIENT),
    ("422", pe.ValidationError("shape", 422), {}, K.HTTP_CLIENT),
    ("500", pe.ServerError("boom", 500), {}, K.HTTP_SERVER),
    ("bad framing", pe.ProtocolError("junk"), {}, K.PROTOCOL),
    ("no text", None, {"has_text": False}, K.EMPTY),
    ("cut mid-body", bare(aiohttp.ClientPayloadError), {}, K.STREAM_CUT),
    ("reset mid-stream", ConnectionResetError(), {"phase": Phase.STREAMING}, K.STREAM_CUT),
    ("size cap", None, {"size_capped": True}, K.TOO_LARGE),
    ("line over the cap", pe.ResponseTooLargeError("line"), {}, K.TOO_LARGE),
    ("aiohttp line too long", hx.LineTooLong(b"line", 1), {}, K.TOO_LARGE),
    ("wrong text", None, {"check_passed": False}, K.WRONG_ANSWER),
    ("unknown model", pe.ModelNotSupportedError("m"), {}, K.UNSUPPORTED_MODEL),
    ("no bs4", pe.MissingRequirementsError("pip"), {}, K.MISSING_REQUIREMENT),
    ("KeyError in a provider", KeyError("choices"), {}, K.PROVIDER_BUG),
    ("TypeError in a provider", TypeError("NoneType"), {}, K.PROVIDER_BUG),
    *WIRE_SHAPES,
]


@pytest.mark.parametrize(("name", "error", "facts", "expected"), TABLE, ids=[r[0] for r in TABLE])
def test_classification_table(
    name: str, error: BaseException | None, facts: dict[str, Any], expected: K | None
) -> None:
    assert classify(error, **facts) is expected


def test_the_table_reaches_every_kind_the_classifier_owns() -> None:
    # harness_offline is the runner's verdict about the host, not about one outcome
    # (tests/probe/test_runner.py covers it).
    reached = {row[3] for row in TABLE}
    assert reached >= set(K) - {K.HARNESS_OFFLINE}


@pytest.mark.parametrize(
    "root",
    [aiohttp.ClientError, hx.HttpProcessingError, pe.ProviderError],
    ids=lambda c: c.__name__,
)
def test_every_library_exception_class_has_its_own_mapping(root: type[BaseException]) -> None:
    unmapped = sorted(c.__qualname__ for c in subclasses(root) if c not in EXCEPTION_KINDS)
    assert unmapped == []


@pytest.mark.parametrize(
    "cls",
    sorted(
        subclasses(aiohttp.ClientError)
        | subclasses(hx.HttpProcessingError)
        | subclasses(pe.ProviderError),
        key=lambda c: c.__qualname__,
    ),
    ids=lambda c: c.__qualname__,
)
@pytest.mark.parametrize("phase", list(Phase), ids=lambda p: p.name)
def test_every_exception_class_classifies_in_every_phase(
    cls: type[BaseException], phase: Phase
) -> None:
    assert isinstance(classify(bare(cls), phase=phase), K)


@pytest.mark.parametrize(
    ("phase", "expected"),
    [
        (Phase.CONNECTING, K.TIMEOUT_CONNECT),
        (Phase.CONNECTED, K.TIMEOUT_FIRST_CHUNK),
        (Phase.RESPONDED, K.TIMEOUT_FIRST_CHUNK),
        (Phase.STREAMING, K.TIMEOUT_TOTAL),
    ],
)
@pytest.mark.parametrize("error", [bare(aiohttp.SocketTimeoutError), TimeoutError()], ids=repr)
def test_read_timeouts_go_by_phase(error: BaseException, phase: Phase, expected: K) -> None:
    assert classify(error, phase=phase) is expected


@pytest.mark.parametrize(
    ("phase", "expected"),
    [
        (Phase.CONNECTING, K.TIMEOUT_CONNECT),
        (Phase.RESPONDED, K.TIMEOUT_FIRST_CHUNK),
        (Phase.STREAMING, K.TIMEOUT_TOTAL),
    ],
)
def test_the_total_deadline_goes_by_phase(phase: Phase, expected: K) -> None:
    assert classify(phase=phase, expired=Expired.TOTAL) is expected


@pytest.mark.parametrize(
    ("phase", "expected"),
    [
        (Phase.CONNECTING, K.CONNECT),
        (Phase.CONNECTED, K.CONNECT),
        (Phase.RESPONDED, K.STREAM_CUT),
        (Phase.STREAMING, K.STREAM_CUT),
    ],
)
@pytest.mark.parametrize(
    "error", [bare(aiohttp.ServerDisconnectedError), ConnectionResetError()], ids=repr
)
def test_a_hang_up_before_the_answer_is_connect_and_after_it_a_cut(
    error: BaseException, phase: Phase, expected: K
) -> None:
    assert classify(error, phase=phase) is expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [(401, K.HTTP_AUTH), (429, K.RATE_LIMITED), (404, K.HTTP_CLIENT), (503, K.HTTP_SERVER)],
)
def test_client_response_errors_go_by_status(status: int, expected: K) -> None:
    assert classify(response_error(status)) is expected


def test_an_unparsable_response_is_protocol_not_the_made_up_400() -> None:
    error = response_error(400, cause=hx.BadStatusLine("HTTX/9"))
    assert classify(error) is K.PROTOCOL
    assert status_of(error) is None


def test_an_overlong_header_line_is_too_large() -> None:
    assert classify(response_error(400, cause=hx.LineTooLong(b"x", 8190))) is K.TOO_LARGE


def test_a_bare_status_error_uses_the_status_it_carries() -> None:
    assert status_of(pe.ResponseStatusError("x", 418)) == 418
    assert status_of(KeyError("x")) is None


def test_a_response_error_without_status_uses_the_known_status() -> None:
    assert classify(pe.ResponseError("odd"), status=502) is K.HTTP_SERVER
    assert classify(pe.ResponseError("odd")) is K.PROTOCOL


@pytest.mark.parametrize(
    "error",
    [
        UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
        json.JSONDecodeError("Expecting value", "<html>", 0),
    ],
    ids=repr,
)
def test_undecodable_bytes_from_the_upstream_are_protocol_errors(error: Exception) -> None:
    assert classify(error) is K.PROTOCOL


def test_the_size_cap_outranks_the_error_that_closing_caused() -> None:
    assert classify(bare(aiohttp.ClientPayloadError), size_capped=True) is K.TOO_LARGE


def test_a_fired_deadline_outranks_the_error_it_caused() -> None:
    assert (
        classify(TimeoutError(), phase=Phase.STREAMING, expired=Expired.CONNECT)
        is K.TIMEOUT_CONNECT
    )


def test_an_error_outranks_missing_or_wrong_text() -> None:
    assert classify(pe.ServerError("x", 500), has_text=False, check_passed=False) is K.HTTP_SERVER


def test_an_unknown_exception_is_a_provider_bug_even_if_it_subclasses_nothing_known() -> None:
    class Weird(Exception):
        pass

    assert kind_of_exception(Weird()) is K.PROVIDER_BUG


def test_subclasses_inherit_the_nearest_mapping() -> None:
    class MyRateLimit(pe.RateLimitError):
        pass

    assert kind_of_exception(MyRateLimit("x", 429)) is K.RATE_LIMITED


@pytest.mark.parametrize("kind", [K.DNS, K.CONNECT, K.TLS, K.TIMEOUT_CONNECT, K.STREAM_CUT])
def test_transport_failures_are_retryable(kind: K) -> None:
    assert is_retryable(kind)


@pytest.mark.parametrize(
    "kind", sorted(set(K) - {K.DNS, K.CONNECT, K.TLS, K.TIMEOUT_CONNECT, K.STREAM_CUT})
)
def test_other_failures_are_not_retried(kind: K) -> None:
    assert not is_retryable(kind)


def test_a_pass_is_not_retried() -> None:
    assert not is_retryable(None)


ERRORS = st.sampled_from(
    [
        None,
        pe.ServerError("x", 500),
        KeyError("k"),
        TimeoutError(),
        bare(aiohttp.ClientPayloadError),
    ]
)


@given(
    error=ERRORS,
    phase=st.sampled_from(Phase),
    expired=st.none() | st.sampled_from(Expired),
    has_text=st.booleans(),
    check_passed=st.booleans(),
    size_capped=st.booleans(),
    status=st.none() | st.integers(100, 599),
)
def test_only_a_clean_correct_answer_passes(
    error: BaseException | None,
    phase: Phase,
    expired: Expired | None,
    has_text: bool,
    check_passed: bool,
    size_capped: bool,
    status: int | None,
) -> None:
    kind = classify(
        error,
        phase=phase,
        expired=expired,
        has_text=has_text,
        check_passed=check_passed,
        size_capped=size_capped,
        status=status,
    )
    clean = error is None and expired is None and not size_capped and has_text and check_passed
    assert (kind is None) == clean
    assert kind is not K.HARNESS_OFFLINE
