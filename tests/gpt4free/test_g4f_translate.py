"""gpt4free's items and errors in this package's terms: every g4f error class has its
translation, statuses in messages decide the class, only text is the answer."""

from __future__ import annotations

import inspect

import g4f.errors
import g4f.providers.response as g4f_response
import pytest
from g4f_doubles import Good, info

from harness.policy.prompts import PROMPTS
from harness.probing.classify import kind_of_exception
from harness.probing.probe import probe
from harness.result import FailureKind
from providers import errors as pe
from providers.gpt4free import wrap
from providers.gpt4free.translate import TRANSLATIONS, status_in, to_chunk, translate_error
from providers.messages import FinishReason, Thinking, Usage


def test_every_g4f_error_class_has_a_translation() -> None:
    classes = {
        name
        for name, cls in vars(g4f.errors).items()
        if inspect.isclass(cls)
        and issubclass(cls, BaseException)
        and cls.__module__ == "g4f.errors"
    }
    assert classes == set(TRANSLATIONS)


@pytest.mark.parametrize(
    ("error", "kind", "status"),
    [
        (g4f.errors.MissingRequirementsError('Install "x" package'), "missing_requirement", None),
        (g4f.errors.NestAsyncioError("nest_asyncio2 missing"), "missing_requirement", None),
        (g4f.errors.MissingAuthError('Add a "api_key"'), "http_auth", None),
        (g4f.errors.MissingAuthError("Response 401: nope"), "http_auth", 401),
        (g4f.errors.MissingAuthError("Error 401: Error invalid_api_key: no"), "http_auth", 401),
        (g4f.errors.MissingAuthError("Response 403: OpenAI Bot detected"), "http_auth", 403),
        (g4f.errors.NoValidHarFileError("no .har file"), "http_auth", None),
        (g4f.errors.RateLimitError("Response 429: slow down"), "rate_limited", 429),
        (g4f.errors.RateLimitError("Response 504: Gateway Timeout "), "http_server", 504),
        (g4f.errors.PaymentRequiredError("Error 402: pay"), "rate_limited", 402),
        (g4f.errors.PaymentRequiredError("pay first"), "rate_limited", 402),
        (g4f.errors.CloudflareError("Response 403: Cloudflare detected"), "cloudflare", 403),
        (g4f.errors.ResponseStatusError("Response 403: HTML content"), "cloudflare", 403),
        (g4f.errors.ResponseStatusError("Response 502: Bad Gateway"), "http_server", 502),
        (g4f.errors.ResponseStatusError("Response 404: not here"), "http_client", 404),
        (g4f.errors.ResponseError("Error 500: upstream broke"), "http_server", 500),
        (g4f.errors.ResponseError("Error: Error server_error: broke"), "protocol", None),
        (g4f.errors.BadRequestError("Error 400: model must be set"), "http_client", 400),
        (g4f.errors.ModelNotFoundError("Model not found: x"), "unsupported_model", None),
        (g4f.errors.ModelNotAllowedError("not allowed"), "unsupported_model", None),
        # No connection trace for g4f's own sessions: the phase stays "connecting".
        (g4f.errors.TimeoutError("took too long"), "timeout_connect", None),
        (g4f.errors.ProviderNotWorkingError("down"), "provider_bug", None),
        (g4f.errors.NoMediaResponseError("no media"), "protocol", None),
        (ImportError("Provider not found: X"), "missing_requirement", None),
        (ModuleNotFoundError("No module named 'browser_cookie3'"), "missing_requirement", None),
    ],
)
def test_errors_translate_to_the_right_kind(
    error: BaseException, kind: str, status: int | None
) -> None:
    from harness.probing.classify import Facts, Phase, status_of

    translated = translate_error(error)
    assert isinstance(translated, pe.ProviderError | TimeoutError)
    assert kind_of_exception(translated, Facts(phase=Phase.CONNECTING)) is FailureKind(kind)
    assert status_of(translated) == status


def test_other_exceptions_pass_through_unchanged() -> None:
    error = ConnectionResetError("reset")
    assert translate_error(error) is error


@pytest.mark.parametrize(
    ("message", "status"),
    [("Response 429: x", 429), ("Error 500: y", 500), ("Error: z", None), ("429 slow", None)],
)
def test_the_status_is_read_from_the_start_of_the_message(message: str, status: int) -> None:
    assert status_in(message) == status


def test_only_text_reasoning_media_finish_and_usage_are_kept() -> None:
    assert to_chunk("pong") == "pong"
    assert to_chunk(g4f_response.FinishReason("stop")) == FinishReason("stop")
    usage = g4f_response.Usage(promptTokens=5, completionTokens=2)
    assert to_chunk(usage) == Usage(prompt_tokens=5, completion_tokens=2)
    assert to_chunk(g4f_response.Reasoning("hmm")) == Thinking("hmm")
    for other in (
        g4f_response.Reasoning(status="Thinking..."),
        g4f_response.ProviderInfo(name="x"),
        g4f_response.JsonRequest(model="m"),
        g4f_response.ImagePreview(["http://127.0.0.1/a.png"], "alt"),
        {"not": "g4f"},
        None,
    ):
        assert to_chunk(other) is None


def test_an_image_result_becomes_a_markdown_image() -> None:
    image = g4f_response.ImageResponse(["http://127.0.0.1/a.png", "http://127.0.0.1/b.png"], "x")
    assert to_chunk(image) == "![image](http://127.0.0.1/a.png)\n![image](http://127.0.0.1/b.png)"


def test_inline_audio_is_named_by_type_and_size_not_copied() -> None:
    audio = g4f_response.AudioResponse("data:audio/mpeg;base64," + "A" * 4000)
    assert to_chunk(audio) == "[audio](data:audio/mpeg;base64, 4023 chars)"


async def test_a_g4f_provider_that_reasons_first_gets_a_time_to_first_token() -> None:
    provider = wrap(info(Good))

    result = await probe(provider, "double-model", PROMPTS["ping"].build())

    assert result.ok, result.error
    assert result.ttft_ms is not None
    assert result.ttfc_ms is not None
    assert result.ttft_ms <= result.ttfc_ms
    assert "thinking" not in (result.sample or "")
