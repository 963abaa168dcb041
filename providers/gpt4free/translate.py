"""gpt4free's items and errors, in the terms of this package. Pure apart from the lookup
of gpt4free's classes.

Items: ``str`` is answer text. A media result (an image, audio or video response, not
a preview) is the answer of a media provider: it becomes a Markdown link to the media
(:func:`media_link`), which the image and audio prompts check for. ``FinishReason`` and
``Usage`` become this package's :class:`~providers.messages.FinishReason` and
:class:`~providers.messages.Usage`, and a reasoning token a
:class:`~providers.messages.Thinking` piece (it times the first token, never the
answer); every other object (request echoes, headers, reasoning status lines,
previews, provider info) is dropped, as none of it is the answer.

Errors are translated at this one point, most specific class first, into the
hierarchy of ``providers.errors`` (so the harness's classifier names them like any
other provider's). gpt4free carries an HTTP status only inside the message
(``Response 429: ...`` or ``Error 429: ...``); where there is one, it decides the
class, as it does for every other provider. Exceptions that are not gpt4free's
(aiohttp's, ``OSError``, ``TimeoutError``) pass through unchanged; an ``ImportError``
raised by a provider's lazy import is a missing requirement.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from functools import cache

from .. import errors as pe
from ..messages import Chunk, FinishReason, Thinking, Usage

_STATUS = re.compile(r"^(?:Response|Error) ([1-5]\d\d)\b")


def status_in(message: str) -> int | None:
    """The HTTP status gpt4free put at the start of an error message, if any."""
    match = _STATUS.match(message)
    return int(match.group(1)) if match else None


def to_chunk(item: object) -> Chunk | None:
    """The item as this package's stream yields it, or ``None`` when it is not answer data."""
    if isinstance(item, str):
        return item
    kind = type(item).__name__
    module = type(item).__module__
    if not module.startswith("g4f."):
        return None
    if kind == "FinishReason":
        reason = getattr(item, "reason", None)
        return FinishReason(str(reason)) if reason else None
    if kind == "Usage":
        return Usage(_tokens(item, "prompt_tokens"), _tokens(item, "completion_tokens"))
    if kind == "Reasoning":
        token = getattr(item, "token", None)
        return Thinking(token) if isinstance(token, str) and token else None
    return _media(item)


_MEDIA_KINDS = {"ImageResponse": "image", "VideoResponse": "video", "AudioResponse": "audio"}


def _media(item: object) -> str | None:
    """The Markdown link of a media result, ``None`` for anything else (previews too)."""
    hidden = any(base.__name__ == "HiddenResponse" for base in type(item).__mro__)
    kind = _MEDIA_KINDS.get(type(item).__name__)
    if kind is None or hidden:
        return None
    found = getattr(item, "urls", None) if kind != "audio" else getattr(item, "data", None)
    refs = [found] if isinstance(found, (str, bytes)) else list(found or [])
    links = [media_link(kind, ref) for ref in refs if ref]
    return "\n".join(links) or None


def media_link(kind: str, ref: object) -> str:
    """``![image](URL)`` for an image, ``[audio](URL)`` for other media; inline data is
    named by its type and size instead of copied (a probe keeps the answer, not the file)."""
    if isinstance(ref, bytes):
        target = f"data:{kind}, {len(ref)} bytes"
    else:
        text = str(ref)
        target = f"{text.split(',', 1)[0]}, {len(text)} chars" if text.startswith("data:") else text
    return f"{'!' if kind == 'image' else ''}[{kind}]({target})"


def _tokens(item: object, name: str) -> int | None:
    value = getattr(item, name, None)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


_HTML_BODY = "HTML content"
"""What gpt4free puts in place of an HTML error body (it keeps no more of it)."""


def error_for_status(message: str, status: int) -> pe.ResponseStatusError:
    """The ``providers.errors`` class for an HTTP error status.

    A 403 whose body was an HTML page stood in for the API: a bot-detection or
    challenge page (gpt4free drops the page before its own Cloudflare check can see it).
    """
    if status == 403 and _HTML_BODY in message:
        return pe.BotDetectedError(message, status)
    if status == 401:
        return pe.AuthError(message, status)
    if status in (402, 429):
        return pe.RateLimitError(message, status)
    if status == 422:
        return pe.ValidationError(message, status)
    if status >= 500:
        return pe.ServerError(message, status)
    return pe.ResponseStatusError(message, status)


Translation = Callable[[str, int | None], BaseException]


def _auth(message: str, status: int | None) -> BaseException:
    if status is None:
        return pe.MissingCredentialsError(message)
    if status in (401, 403):
        return pe.AuthError(message, status)
    return error_for_status(message, status)


def _rate_limit(default: int) -> Translation:
    def translate(message: str, status: int | None) -> BaseException:
        if status is None or status in (402, 429):
            return pe.RateLimitError(message, status or default)
        return error_for_status(message, status)

    return translate


def _cloudflare(message: str, status: int | None) -> BaseException:
    return pe.CloudflareError(message, status or 403)


def _status(message: str, status: int | None) -> BaseException:
    return pe.ResponseError(message) if status is None else error_for_status(message, status)


def _fixed(cls: Callable[[str], BaseException]) -> Translation:
    return lambda message, status: cls(message)


TRANSLATIONS: Mapping[str, Translation] = {
    # Every class of g4f.errors, by name (tests check that none is missing).
    "G4FError": _fixed(pe.ProviderError),
    "ProviderNotFoundError": _fixed(pe.ProviderError),
    "ProviderNotWorkingError": _fixed(pe.ProviderError),
    "StreamNotSupportedError": _fixed(pe.ProviderError),
    "ModelNotFoundError": _fixed(pe.ModelNotSupportedError),
    "ModelNotAllowedError": _fixed(pe.ModelNotSupportedError),
    "RetryProviderError": _fixed(pe.ProviderError),
    "RetryNoProviderError": _fixed(pe.ProviderError),
    "VersionNotFoundError": _fixed(pe.ProviderError),
    "MissingRequirementsError": _fixed(pe.MissingRequirementsError),
    "NestAsyncioError": _fixed(pe.MissingRequirementsError),
    "MissingAuthError": _auth,
    "PaymentRequiredError": _rate_limit(402),
    "NoMediaResponseError": _fixed(pe.ProtocolError),
    "ResponseError": _status,
    "ResponseStatusError": _status,
    "CloudflareError": _cloudflare,
    "BadRequestError": _status,
    "RateLimitError": _rate_limit(429),
    "NoValidHarFileError": _fixed(pe.MissingCredentialsError),
    "TimeoutError": _fixed(TimeoutError),
    "ConversationLimitError": _fixed(pe.ProviderError),
    "ProviderException": _fixed(pe.ProviderError),
}


@cache
def _g4f_errors() -> dict[type, Translation]:
    module = importlib.import_module("g4f.errors")
    return {
        cls: TRANSLATIONS[name]
        for name, cls in vars(module).items()
        if isinstance(cls, type) and issubclass(cls, BaseException) and name in TRANSLATIONS
    }


def translate_error(exc: BaseException) -> BaseException:
    """``exc`` in the terms of ``providers.errors`` (see the module docstring)."""
    if isinstance(exc, ImportError):
        return pe.MissingRequirementsError(f"{type(exc).__name__}: {exc}")
    if not type(exc).__module__.startswith("g4f."):
        return exc
    table = _g4f_errors()
    for cls in type(exc).__mro__:
        translation = table.get(cls)
        if translation is not None:
            message = str(exc) or type(exc).__name__
            translated = translation(message, status_in(message))
            translated.__cause__ = exc
            return translated
    return exc
