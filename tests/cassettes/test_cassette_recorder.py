"""The recorder rides along with a stream: it never buffers it, and keeps real URLs."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web
from pytest_aiohttp.plugin import AiohttpServer
from yarl import URL

from harness.cassettes.cassette import CassetteError
from harness.cassettes.recorder import Recorder, real_url
from providers import AsyncGeneratorProvider, AutonomousAI, RobocodersAPI
from providers.http import client_session

# Only the local test servers are reachable, even under `pytest --block-network`.
pytestmark = pytest.mark.block_network(allowed_hosts=[r"127\.0\.0\.1$", "localhost$"])

FIRST_READ = web.AppKey("first_read", asyncio.Event)


async def lockstep(request: web.Request) -> web.StreamResponse:
    """Sends the second piece only once the client has read the first."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    await response.write(b"data: one\n\n")
    await request.app[FIRST_READ].wait()
    await response.write(b"data: two\n\n")
    return response


async def cut(request: web.Request) -> web.StreamResponse:
    """Sends a piece, then drops the connection mid-body."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    await response.write(b"data: one\n\n")
    assert request.transport is not None
    request.transport.close()
    return response


@dataclass
class Upstream:
    url: URL
    first_read: asyncio.Event


@pytest.fixture
async def server(aiohttp_server: AiohttpServer) -> Upstream:
    app = web.Application()
    app[FIRST_READ] = asyncio.Event()
    app.router.add_get("/api/v1/ai/lockstep", lockstep)
    app.router.add_get("/api/v1/ai/cut", cut)
    served = await aiohttp_server(app)
    return Upstream(served.make_url("/"), app[FIRST_READ])


async def test_the_client_reads_each_piece_before_the_next_is_sent(server: Upstream) -> None:
    # vcrpy's own recorder would deadlock here: it reads the whole body first.
    recorder = Recorder(AutonomousAI, str(server.url))
    pieces = []
    with recorder.attached():
        async with (
            client_session() as session,
            session.get(server.url / "api/v1/ai/lockstep") as response,
        ):
            async for data in response.content.iter_any():
                pieces.append(data)
                server.first_read.set()

    (interaction,) = recorder.interactions()
    assert pieces == [b"data: one\n\n", b"data: two\n\n"]
    assert [data for _, data in interaction.response.pieces()] == pieces
    assert interaction.response.chunks[0].at_ms <= interaction.response.chunks[1].at_ms


async def test_recorded_requests_carry_the_real_host(server: Upstream) -> None:
    recorder = Recorder(AutonomousAI, str(server.url))
    with recorder.attached():
        async with client_session() as session, session.get(server.url / "api/v1/ai/cut") as r:
            with pytest.raises(aiohttp.ClientPayloadError):
                await r.read()

    (interaction,) = recorder.interactions(complete_only=False)
    assert interaction.request.uri == "https://chatgpt.autonomous.ai/api/v1/ai/cut"
    assert "Host" not in interaction.request.headers


async def test_a_body_cut_short_makes_the_recording_incomplete(server: Upstream) -> None:
    recorder = Recorder(AutonomousAI, str(server.url))
    with recorder.attached():
        async with client_session() as session, session.get(server.url / "api/v1/ai/cut") as r:
            with pytest.raises(aiohttp.ClientPayloadError):
                await r.read()

    assert "body cut short" in " ".join(recorder.problems())
    with pytest.raises(CassetteError, match="body cut short"):
        recorder.interactions()


def test_a_recording_without_requests_is_incomplete() -> None:
    assert Recorder(AutonomousAI, None).problems() == ["the provider made no request"]


def test_a_url_under_a_base_path_maps_back_to_the_real_host() -> None:
    url = URL("http://127.0.0.1:8080/mirror/create-session?a=%20b")

    assert real_url(RobocodersAPI, url, "http://127.0.0.1:8080/mirror") == (
        "https://api.robocoders.ai/create-session?a=%20b"
    )


def test_a_url_on_the_real_host_is_kept() -> None:
    url = URL("https://api.robocoders.ai/chat")

    assert real_url(RobocodersAPI, url, None) == "https://api.robocoders.ai/chat"


def test_a_provider_with_several_hosts_cannot_be_mapped_back() -> None:
    class TwoHosts(AsyncGeneratorProvider):
        upstream_hosts = ("a.example", "b.example")

    with pytest.raises(CassetteError, match="2 hosts"):
        real_url(TwoHosts, URL("http://127.0.0.1:1/x"), "http://127.0.0.1:1")
