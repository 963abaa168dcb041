"""``serve``: the emulator in the foreground, until SIGTERM."""

import asyncio
import signal
import sys

import aiohttp

SCRIPT = """
import sys
from harness.emulator import parse_fault, serve
faults = dict([parse_fault("CodeLinkAva=http_503")])
serve("127.0.0.1", 0, faults, lambda url: print(url, flush=True))
print("stopped", flush=True)
"""
CHAT = {"messages": [{"role": "user", "content": "hi"}], "temperature": 0.6, "stream": True}


async def test_serve_announces_its_url_answers_and_stops_on_sigterm() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SCRIPT, stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    try:
        url = (await asyncio.wait_for(process.stdout.readline(), 30)).decode().strip()
        async with aiohttp.ClientSession() as http, http.post(url + "/api/chat", json=CHAT) as r:
            assert r.status == 503
    finally:
        process.send_signal(signal.SIGTERM)
        rest = await asyncio.wait_for(process.stdout.read(), 30)
        assert await process.wait() == 0
    assert rest == b"stopped\n"
