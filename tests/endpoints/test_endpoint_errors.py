"""Pure parts of the OpenAI-compatible provider: error mapping and rate-limit resets."""

from __future__ import annotations

import json
from collections.abc import Callable
from email.utils import formatdate

import pytest

from harness.probing.classify import kind_of_exception
from harness.result import FailureKind
from providers import anthropic_messages, gemini, openai_compatible
from providers.errors import (
    AuthError,
    CloudflareError,
    ModelNotSupportedError,
    RateLimitError,
    ResponseStatusError,
    ServerError,
)
from providers.messages import FinishReason, Usage
from providers.openai_compatible import (
    completion_chunks,
    endpoint_error,
    model_ids,
    reset_seconds,
    retry_after,
    stream_error,
)

NOW = 1_750_000_000.0


def error_body(message: str, code: str | None = None, kind: str = "invalid_request_error") -> str:
    return json.dumps({"error": {"message": message, "type": kind, "code": code}})


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("7", 7.0),
        ("0.5", 0.5),
        ("1s", 1.0),
        ("6m0s", 360.0),
        ("7.66s", 7.66),
        ("2m59.56s", 179.56),
        ("20ms", 0.02),
        ("1h2m", 3720.0),
        (str(NOW + 30), 30.0),  # epoch seconds
        (str(int((NOW + 12) * 1000)), 12.0),  # epoch milliseconds (OpenRouter)
        (str(NOW - 5), 0.0),  # already past
        (formatdate(NOW + 60, usegmt=True), 60.0),
        ("soon", None),
        ("5 parsecs", None),
    ],
)
def test_reset_values_in_every_form_in_the_wild(value: str, seconds: float | None) -> None:
    got = reset_seconds(value, NOW)
    assert got == (pytest.approx(seconds, abs=0.01) if seconds is not None else None)


def test_retry_after_wins_over_the_reset_headers() -> None:
    headers = {"Retry-After": "3", "x-ratelimit-reset-requests": "1m0s"}
    assert retry_after(headers, NOW) == 3.0


def test_without_retry_after_the_longest_reset_counts() -> None:
    headers = {"X-RateLimit-Reset-Requests": "2s", "x-ratelimit-reset-tokens": "6m0s"}
    assert retry_after(headers, NOW) == 360.0
    assert retry_after({"content-type": "application/json"}, NOW) is None


@pytest.mark.parametrize(
    ("status", "body", "content_type", "error", "kind"),
    [
        (
            401,
            error_body("Incorrect API key", "invalid_api_key"),
            "application/json",
            AuthError,
            FailureKind.HTTP_AUTH,
        ),
        (
            403,
            error_body("Forbidden for this key"),
            "application/json",
            AuthError,
            FailureKind.HTTP_AUTH,
        ),
        (403, "", "text/plain", AuthError, FailureKind.HTTP_AUTH),
        (
            404,
            error_body("The model `x` does not exist", "model_not_found"),
            "application/json",
            ModelNotSupportedError,
            FailureKind.UNSUPPORTED_MODEL,
        ),
        (
            404,
            "404 page not found",
            "text/plain",
            ModelNotSupportedError,
            FailureKind.UNSUPPORTED_MODEL,
        ),
        (
            400,
            error_body("model x not found", "model_not_found"),
            "application/json",
            ModelNotSupportedError,
            FailureKind.UNSUPPORTED_MODEL,
        ),
        (
            400,
            error_body("messages: field required"),
            "application/json",
            ResponseStatusError,
            FailureKind.HTTP_CLIENT,
        ),
        (
            429,
            error_body("Rate limit reached", "rate_limit_exceeded", "requests"),
            "application/json",
            RateLimitError,
            FailureKind.RATE_LIMITED,
        ),
        (
            402,
            json.dumps({"error": {"message": "Insufficient credits", "code": 402}}),
            "application/json",
            RateLimitError,
            FailureKind.RATE_LIMITED,
        ),
        (
            500,
            error_body("The server had an error", None, "server_error"),
            "application/json",
            ServerError,
            FailureKind.HTTP_SERVER,
        ),
        (
            503,
            json.dumps({"detail": "model is loading"}),
            "application/json",
            ServerError,
            FailureKind.HTTP_SERVER,
        ),
        (
            403,
            "<html><title>Just a moment...</title></html>",
            "text/html",
            CloudflareError,
            FailureKind.CLOUDFLARE,
        ),
    ],
)
def test_error_answers_map_to_their_kind(
    status: int, body: str, content_type: str, error: type[Exception], kind: FailureKind
) -> None:
    exc = endpoint_error(status, body, content_type, {}, NOW)
    assert type(exc) is error
    assert kind_of_exception(exc) is kind


def test_a_429_carries_its_reset_time() -> None:
    headers = {"x-ratelimit-reset-requests": "7.5s"}
    exc = endpoint_error(429, error_body("slow down", "rate_limit_exceeded"), "", headers, NOW)
    assert isinstance(exc, RateLimitError)
    assert exc.retry_after == 7.5
    bare = endpoint_error(429, "Too Many Requests", "text/plain", {"Retry-After": "4"}, NOW)
    assert isinstance(bare, RateLimitError)
    assert bare.retry_after == 4.0


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ({"message": "overloaded", "code": 502}, FailureKind.HTTP_SERVER),
        ({"message": "no such model", "code": 404}, FailureKind.UNSUPPORTED_MODEL),
        ({"message": "slow down", "code": "rate_limit_exceeded"}, FailureKind.RATE_LIMITED),
        ({"message": "bad key", "code": "invalid_api_key"}, FailureKind.HTTP_AUTH),
        ({"message": "gone", "code": "model_not_found"}, FailureKind.UNSUPPORTED_MODEL),
        ({"message": "boom", "type": "server_error"}, FailureKind.HTTP_SERVER),
        ({"message": "bad request", "code": 400}, FailureKind.HTTP_CLIENT),
        ("a bare string", FailureKind.HTTP_SERVER),
    ],
)
def test_an_error_inside_the_stream_fails_by_its_code(error: object, kind: FailureKind) -> None:
    exc = stream_error(error)
    assert "error inside the stream" in str(exc)
    assert kind_of_exception(exc) is kind


def test_a_whole_completion_gives_text_finish_and_usage() -> None:
    document = {
        "choices": [{"message": {"role": "assistant", "content": "pong"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
    }
    assert completion_chunks(document) == ["pong", FinishReason("stop"), Usage(5, 1)]


def test_a_model_list_gives_its_ids() -> None:
    assert model_ids({"object": "list", "data": [{"id": "a"}, {"id": 3}, {"id": "b"}]}) == [
        "a",
        "b",
    ]


@pytest.mark.parametrize("name", ["", "has space", "dot.ted", "-lead", "x" * 65])
def test_a_malformed_endpoint_name_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="endpoint name"):
        openai_compatible(name, "http://127.0.0.1:1/v1")


def test_a_malformed_base_url_is_refused() -> None:
    with pytest.raises(ValueError, match="http"):
        openai_compatible("ok", "ftp://example.test/v1")


@pytest.mark.parametrize("build", [openai_compatible, anthropic_messages, gemini])
def test_the_key_is_in_no_attribute_of_the_class(build: Callable[..., type]) -> None:
    provider = build("keyed", "https://api.example.test/v1", api_key="sk-in-closure")
    for cls in provider.__mro__:
        assert "sk-in-closure" not in repr(vars(cls))
