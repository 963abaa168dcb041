"""The error answers of the status faults, shaped like what fronts real APIs send."""

from __future__ import annotations

import secrets

from aiohttp import web

from harness.emulator.faults import Fault, FaultSpec

STATUS_OF = {
    Fault.http_401: 401,
    Fault.cloudflare_403: 403,
    Fault.http_429: 429,
    Fault.http_500: 500,
    Fault.http_502: 502,
    Fault.http_503: 503,
    Fault.overloaded: 529,
}
"""The faults answered with an error status instead of a stream."""

CLOUDFLARE_CHALLENGE = """<!DOCTYPE html>
<html lang="en-US">
<head>
<title>Just a moment...</title>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<meta name="robots" content="noindex,nofollow">
<meta name="viewport" content="width=device-width,initial-scale=1">
</head>
<body>
<div class="main-wrapper" role="main">
<div class="main-content">
<h1 class="zone-name-title h1">Checking your browser</h1>
<h2 class="h2" id="challenge-running">Verifying you are human. This may take a few seconds.</h2>
<noscript><div class="h2">Enable JavaScript and cookies to continue</div></noscript>
</div>
</div>
<div class="footer" role="contentinfo">
<div class="footer-inner">Ray ID: <code>{ray}</code> &middot;
Performance &amp; security by Cloudflare</div>
</div>
</body>
</html>
"""

BAD_GATEWAY = """<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""

SERVICE_UNAVAILABLE = """<html>
<head><title>503 Service Temporarily Unavailable</title></head>
<body>
<center><h1>503 Service Temporarily Unavailable</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""


def status_response(spec: FaultSpec) -> web.Response:
    """The error answer for a status fault (a key of :data:`STATUS_OF`)."""
    mode = spec.mode
    if mode is Fault.cloudflare_403:
        ray = f"{secrets.token_hex(8)}-IAD"
        return web.Response(
            status=403,
            text=CLOUDFLARE_CHALLENGE.format(ray=ray),
            content_type="text/html",
            headers={"Server": "cloudflare", "CF-RAY": ray, "cf-mitigated": "challenge"},
        )
    if mode is Fault.http_429:
        return web.json_response(
            {"error": "Too many requests, please slow down."},
            status=429,
            headers={"Retry-After": str(spec.retry_after)},
        )
    if mode is Fault.http_401:
        return web.json_response(
            {"detail": "Not authenticated"}, status=401, headers={"WWW-Authenticate": "Bearer"}
        )
    if mode is Fault.http_502:
        return web.Response(status=502, text=BAD_GATEWAY, content_type="text/html")
    if mode is Fault.http_503:
        return web.Response(status=503, text=SERVICE_UNAVAILABLE, content_type="text/html")
    return web.Response(status=STATUS_OF[mode], text="Internal Server Error")
