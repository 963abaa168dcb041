import pytest

from providers.errors import (
    AuthError,
    BotDetectedError,
    CloudflareError,
    RateLimitError,
    ResponseStatusError,
    ServerError,
    ValidationError,
)
from providers.http import status_error

CLOUDFLARE_PAGE = "<!DOCTYPE html><html><head><title>Just a moment...</title></head></html>"
BOT_PAGE = '<!DOCTYPE html><html><body><p id="challenge-error-text">Enable JS</p></body></html>'


@pytest.mark.parametrize(
    ("status", "body", "content_type", "expected", "message"),
    [
        (403, CLOUDFLARE_PAGE, "text/html", CloudflareError, "Cloudflare detected"),
        (403, CLOUDFLARE_PAGE, "application/octet-stream", CloudflareError, "Cloudflare detected"),
        (403, BOT_PAGE, "text/html", BotDetectedError, "Bot detection page"),
        (429, "slow down", "text/plain", RateLimitError, "Rate limit (429)"),
        (402, "", "text/plain", RateLimitError, "Rate limit (402)"),
        (520, "", "text/html", ServerError, "Unknown error (Cloudflare)"),
        (502, "<html>", "text/html", ServerError, "Bad gateway"),
        (503, "busy", "text/plain", ServerError, "Response 503: busy"),
        (401, '{"detail":"bad token"}', "application/json", AuthError, "Response 401"),
        (422, "{}", "application/json", ValidationError, "Response 422: {}"),
        (404, "<!DOCTYPE html><p>nope</p>", "text/plain", ResponseStatusError, "HTML content"),
        (403, "forbidden", "text/plain", ResponseStatusError, "Response 403: forbidden"),
    ],
)
def test_each_status_maps_to_its_exception(
    status: int, body: str, content_type: str, expected: type, message: str
) -> None:
    error = status_error(status, body, content_type, {})
    assert type(error) is expected
    assert message in str(error)
    assert error.status == status


def test_retry_after_seconds_are_kept_on_rate_limits() -> None:
    error = status_error(429, "", "text/plain", {"Retry-After": "7"})
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 7.0


def test_an_http_date_retry_after_is_not_mistaken_for_seconds() -> None:
    error = status_error(429, "", "text/plain", {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert isinstance(error, RateLimitError)
    assert error.retry_after is None


def test_long_error_bodies_are_trimmed_to_one_line() -> None:
    error = status_error(400, "x\n" * 10_000, "text/plain", {})
    assert len(str(error)) < 400
    assert "\n" not in str(error)


async def test_a_cloudflare_page_arriving_in_pieces_is_still_recognised(aiohttp_server) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from aiohttp import ClientSession, web

    from providers.http import raise_for_status

    async def challenge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=403, headers={"Content-Type": "text/html"})
        await response.prepare(request)
        await response.write(CLOUDFLARE_PAGE[:20].encode())
        await asyncio.sleep(0.05)
        await response.write(CLOUDFLARE_PAGE[20:].encode())
        return response

    app = web.Application()
    app.router.add_get("/", challenge)
    server = await aiohttp_server(app)
    async with ClientSession() as session, session.get(server.make_url("/")) as response:
        with pytest.raises(CloudflareError):
            await raise_for_status(response)
