"""The one exception hierarchy of the provider clients.

    ProviderError
    ├── MissingRequirementsError     an optional package is not installed
    ├── MissingCredentialsError      the provider needs credentials nobody gave it
    ├── ModelNotSupportedError       the provider does not serve that model
    ├── ProviderKilledError          its code was stopped by force (deadline + grace, memory)
    └── ResponseError                the upstream answered, but not usefully
        ├── ProtocolError            the body breaks the provider's framing
        │   └── ResponseTooLargeError  a line or body over the configured cap
        └── ResponseStatusError      a non-2xx status (``status`` holds it)
            ├── AuthError            401, or a token the upstream refused
            ├── CloudflareError      403 with a Cloudflare challenge page
            ├── BotDetectedError     403 with a bot-detection page
            ├── RateLimitError       429 or 402 (``retry_after`` in seconds, if sent)
            │   └── OverloadedError  the upstream is busy (Anthropic 529, Gemini 503 UNAVAILABLE)
            ├── ContentFilterError   the upstream's filter withheld the answer
            ├── ValidationError      422: the upstream rejected the request's shape
            └── ServerError          5xx

Transport failures (DNS, connect, TLS, resets, timeouts) are left as the aiohttp /
asyncio exceptions they are; the harness's classifier names them.
"""

from __future__ import annotations


class ProviderError(Exception):
    """Base class of every error a provider raises on purpose."""


class MissingRequirementsError(ProviderError):
    """An optional package the provider needs is not installed."""


class MissingCredentialsError(ProviderError):
    """The provider needs credentials (an API key, cookies) that were not given."""


class ModelNotSupportedError(ProviderError):
    """The requested model is neither a model nor an alias of the provider."""


class ProviderKilledError(ProviderError):
    """The process running the provider's code was killed or died during a call: the call
    went on past its deadline and the grace given to stop (it blocks its event loop,
    spins, or ignores cancellation), or the process ran out of memory or crashed."""


class ResponseError(ProviderError):
    """The upstream answered, but the answer cannot be used.

    ``body`` holds the start of what the upstream sent when seeing it tells a changed
    upstream from a broken one (an unreadable line, an error page); it is raw text,
    to be redacted, trimmed and escaped by whoever shows it.
    """

    status: int | None = None

    def __init__(self, message: str = "", *, body: str | None = None) -> None:
        super().__init__(message)
        self.body = body or None


class ProtocolError(ResponseError):
    """The response body does not follow the provider's framing."""


class ResponseTooLargeError(ProtocolError):
    """A line or the whole body exceeded the configured size cap."""


class ResponseStatusError(ResponseError):
    """The upstream answered with a non-2xx status."""

    def __init__(self, message: str, status: int, *, body: str | None = None) -> None:
        super().__init__(message, body=body)
        self.status = status


class AuthError(ResponseStatusError):
    """The upstream refused our credentials (401, or an invalid token)."""


class CloudflareError(ResponseStatusError):
    """A Cloudflare challenge page stood in for the API."""


class BotDetectedError(ResponseStatusError):
    """A bot-detection page stood in for the API."""


class RateLimitError(ResponseStatusError):
    """The upstream throttled us (429 or 402)."""

    def __init__(
        self,
        message: str,
        status: int,
        retry_after: float | None = None,
        *,
        body: str | None = None,
    ) -> None:
        super().__init__(message, status, body=body)
        self.retry_after = retry_after


class OverloadedError(RateLimitError):
    """The upstream is too busy to serve anyone (Anthropic's 529 ``overloaded_error``,
    Gemini's 503 ``UNAVAILABLE``): throttled like a rate limit, not down."""


class ContentFilterError(ResponseStatusError):
    """The upstream's own filter withheld the answer (a safety block, a refusal).

    ``body`` quotes what the upstream said about it."""


class ValidationError(ResponseStatusError):
    """The upstream rejected the request's fields (422)."""


class ServerError(ResponseStatusError):
    """The upstream failed on its side (5xx)."""
