"""The one place where an outcome becomes a :class:`FailureKind`. Pure.

:func:`classify` takes the facts of one probe (the exception, if any; how far the
exchange got; which of the probe's own deadlines fired; what the text looked like)
and returns exactly one kind, or ``None`` for a pass. Order of precedence:

1. the response-size cap was hit                      -> too_large
2. one of the probe's deadlines fired                 -> a timeout kind
3. an exception ended the stream                      -> by exception class (below)
4. no text                                            -> empty
5. the text failed the prompt's check                 -> wrong_answer

Exceptions map by class, most specific first (the class's MRO is walked through
:data:`EXCEPTION_KINDS`); a test fails when an aiohttp or provider exception class has
no entry of its own. Some classes depend on the facts rather than the class alone:
``ClientResponseError`` and bare status errors go by HTTP status; read timeouts by
phase; a connection closed by the server is ``connect`` before any response headers
and ``stream_cut`` after. Anything unknown is a bug in the provider.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum, IntEnum
from types import MappingProxyType

import aiohttp
from aiohttp import http_exceptions as hx

from harness.result import FailureKind
from providers import errors as pe


class Phase(IntEnum):
    """How far the exchange got when it ended (ordered)."""

    CONNECTING = 0
    """No connection yet, or a connection attempt still pending."""
    CONNECTED = 1
    """Connected, no response headers yet."""
    RESPONDED = 2
    """Response headers received, no text yet."""
    STREAMING = 3
    """At least one text chunk delivered."""


class Expired(Enum):
    """Which of the probe's own deadlines fired."""

    CONNECT = "connect"
    FIRST_CHUNK = "first_chunk"
    STALL = "stall"
    TOTAL = "total"


@dataclass(frozen=True)
class Facts:
    """What the classifier knows besides the exception."""

    phase: Phase = Phase.STREAMING
    status: int | None = None


Rule = Callable[[BaseException, Facts], FailureKind]


def by_status(status: int | None, default: FailureKind = FailureKind.PROTOCOL) -> FailureKind:
    """The kind of an HTTP error status; ``default`` when there is none or it is not an error."""
    if status is None or status < 400:
        return default
    if status == 401:
        return FailureKind.HTTP_AUTH
    if status in (402, 429):
        return FailureKind.RATE_LIMITED
    if status >= 500:
        return FailureKind.HTTP_SERVER
    return FailureKind.HTTP_CLIENT


def status_of(exc: BaseException) -> int | None:
    """The upstream's HTTP status carried by ``exc``, if it carries a real one.

    aiohttp reports a response it could not parse as ``ClientResponseError`` with a
    made-up 400 (the parser error as its cause): that is no status the upstream sent.
    """
    if isinstance(exc.__cause__, hx.HttpProcessingError):
        return None
    status = getattr(exc, "status", None)
    return status if isinstance(status, int) and not isinstance(status, bool) else None


def _status_rule(default: FailureKind) -> Rule:
    def rule(exc: BaseException, facts: Facts) -> FailureKind:
        status = status_of(exc)
        return by_status(status if status is not None else facts.status, default)

    return rule


def _client_response(exc: BaseException, facts: Facts) -> FailureKind:
    if isinstance(exc.__cause__, hx.HttpProcessingError):
        return kind_of_exception(exc.__cause__, facts)  # unparsable response: the real cause
    return by_status(status_of(exc) or facts.status)


def _timeout_by_phase(exc: BaseException, facts: Facts) -> FailureKind:
    return timeout_kind(facts.phase)


def _cut_by_phase(exc: BaseException, facts: Facts) -> FailureKind:
    # A server that hangs up before answering refused the exchange; after the
    # headers, the answer itself was cut short.
    return FailureKind.CONNECT if facts.phase < Phase.RESPONDED else FailureKind.STREAM_CUT


def timeout_kind(phase: Phase) -> FailureKind:
    """The timeout kind for a deadline that fired in ``phase``."""
    if phase is Phase.CONNECTING:
        return FailureKind.TIMEOUT_CONNECT
    if phase is Phase.STREAMING:
        return FailureKind.TIMEOUT_TOTAL
    return FailureKind.TIMEOUT_FIRST_CHUNK


K = FailureKind

EXCEPTION_KINDS: Mapping[type[BaseException], FailureKind | Rule] = MappingProxyType(
    {
        # --- providers.errors --------------------------------------------------
        pe.ProviderError: K.PROVIDER_BUG,  # the base class itself: not specific enough
        pe.MissingRequirementsError: K.MISSING_REQUIREMENT,
        pe.MissingCredentialsError: K.HTTP_AUTH,
        pe.ModelNotSupportedError: K.UNSUPPORTED_MODEL,
        pe.ProviderKilledError: K.PROVIDER_BUG,  # it would not stop, or ran out of memory
        pe.ResponseError: _status_rule(K.PROTOCOL),
        pe.ProtocolError: K.PROTOCOL,
        pe.ResponseTooLargeError: K.TOO_LARGE,
        pe.ResponseStatusError: _status_rule(K.HTTP_CLIENT),
        pe.AuthError: K.HTTP_AUTH,
        pe.CloudflareError: K.CLOUDFLARE,
        pe.BotDetectedError: K.CLOUDFLARE,
        pe.RateLimitError: K.RATE_LIMITED,
        pe.OverloadedError: K.OVERLOADED,
        pe.ContentFilterError: K.CONTENT_FILTER,
        pe.ValidationError: K.HTTP_CLIENT,
        pe.ServerError: K.HTTP_SERVER,
        # --- aiohttp client errors ---------------------------------------------
        aiohttp.ClientError: K.CONNECT,
        aiohttp.ClientResponseError: _client_response,
        aiohttp.ContentTypeError: K.PROTOCOL,
        aiohttp.WSServerHandshakeError: K.PROTOCOL,
        aiohttp.ClientHttpProxyError: K.CONNECT,  # the proxy refused to carry us
        aiohttp.TooManyRedirects: K.PROTOCOL,
        aiohttp.ClientConnectionError: K.CONNECT,
        aiohttp.ClientConnectionResetError: _cut_by_phase,
        aiohttp.ClientOSError: K.CONNECT,
        aiohttp.ClientConnectorError: K.CONNECT,
        aiohttp.ClientConnectorDNSError: K.DNS,
        aiohttp.ClientProxyConnectionError: K.CONNECT,
        aiohttp.client_exceptions.UnixClientConnectorError: K.CONNECT,  # not exported at the top
        aiohttp.ClientSSLError: K.TLS,
        aiohttp.ClientConnectorSSLError: K.TLS,
        aiohttp.ClientConnectorCertificateError: K.TLS,
        aiohttp.ServerConnectionError: K.CONNECT,
        aiohttp.ServerDisconnectedError: _cut_by_phase,
        aiohttp.ServerTimeoutError: _timeout_by_phase,
        aiohttp.ConnectionTimeoutError: K.TIMEOUT_CONNECT,
        aiohttp.SocketTimeoutError: _timeout_by_phase,
        aiohttp.ServerFingerprintMismatch: K.TLS,
        aiohttp.ClientPayloadError: K.STREAM_CUT,
        aiohttp.UploadAbortedError: K.CONNECT,  # the request never got out
        aiohttp.InvalidURL: K.PROVIDER_BUG,  # the provider built a bad URL
        aiohttp.InvalidUrlClientError: K.PROVIDER_BUG,
        aiohttp.RedirectClientError: K.PROTOCOL,  # the upstream redirected somewhere unusable
        aiohttp.InvalidUrlRedirectClientError: K.PROTOCOL,
        aiohttp.NonHttpUrlClientError: K.PROVIDER_BUG,
        aiohttp.NonHttpUrlRedirectClientError: K.PROTOCOL,
        # --- aiohttp HTTP parser errors (not ClientErrors; also the cause of the
        # ClientResponseError raised for a response that cannot be parsed) -------
        hx.HttpProcessingError: K.PROTOCOL,
        hx.BadHttpMessage: K.PROTOCOL,
        hx.HttpBadRequest: K.PROTOCOL,
        hx.PayloadEncodingError: K.PROTOCOL,
        hx.ContentEncodingError: K.PROTOCOL,
        hx.TransferEncodingError: K.STREAM_CUT,  # the body ended inside a chunk
        hx.ContentLengthError: K.STREAM_CUT,  # the body ended before Content-Length
        hx.DecompressSizeError: K.TOO_LARGE,
        hx.LineTooLong: K.TOO_LARGE,
        hx.InvalidHeader: K.PROTOCOL,
        hx.BadStatusLine: K.PROTOCOL,
        hx.BadHttpMethod: K.PROTOCOL,
        hx.InvalidURLError: K.PROTOCOL,
        # --- the standard library ------------------------------------------------
        ssl.SSLError: K.TLS,
        ssl.CertificateError: K.TLS,
        TimeoutError: _timeout_by_phase,  # aiohttp's total timeout, asyncio timeouts
        ConnectionRefusedError: K.CONNECT,
        ConnectionResetError: _cut_by_phase,
        ConnectionAbortedError: _cut_by_phase,
        BrokenPipeError: _cut_by_phase,
        OSError: K.CONNECT,  # unreachable network, no route, ...
        # The upstream sent bytes that are not the text or JSON they claim to be.
        UnicodeDecodeError: K.PROTOCOL,
        json.JSONDecodeError: K.PROTOCOL,
    }
)


def kind_of_exception(exc: BaseException, facts: Facts = Facts()) -> FailureKind:
    """The kind for ``exc``: its most specific mapped class, else ``provider_bug``."""
    for cls in type(exc).__mro__:
        entry = EXCEPTION_KINDS.get(cls)
        if entry is None:
            continue
        return entry if isinstance(entry, FailureKind) else entry(exc, facts)
    return FailureKind.PROVIDER_BUG


def classify(
    error: BaseException | None = None,
    *,
    phase: Phase = Phase.STREAMING,
    expired: Expired | None = None,
    has_text: bool = True,
    check_passed: bool = True,
    size_capped: bool = False,
    status: int | None = None,
) -> FailureKind | None:
    """Exactly one kind for a failed probe, ``None`` for a pass (see the module doc)."""
    if size_capped:
        return FailureKind.TOO_LARGE
    if expired is Expired.CONNECT:
        return FailureKind.TIMEOUT_CONNECT
    if expired is Expired.FIRST_CHUNK:
        return FailureKind.TIMEOUT_FIRST_CHUNK
    if expired is Expired.STALL:
        return FailureKind.TIMEOUT_TOTAL
    if expired is Expired.TOTAL:
        return timeout_kind(phase)
    if error is not None:
        return kind_of_exception(error, Facts(phase=phase, status=status))
    if not has_text:
        return FailureKind.EMPTY
    if not check_passed:
        return FailureKind.WRONG_ANSWER
    return None


def is_retryable(kind: FailureKind | None) -> bool:
    """True for transport failures (dns, connect, tls, timeout_connect, stream_cut), which
    earn one retry within a run; content failures and passes never do."""
    return kind is not None and kind.is_transport
