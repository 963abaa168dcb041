"""Security: loopback by default, the admin token, no secret kept anywhere, no traversal.

That an upstream error holding a <script> runs nothing in a real browser is checked in
tests/browser/test_browser_page.py (test_an_upstream_error_with_a_script_shows_as_text_
and_runs_nothing); the escaping of hostile text in every output is in
test_hostile_content.py.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from forward_proxy import ForwardProxy
from procfs import listening_addresses
from serve_process import ServeProcess

from harness.cli.emulate import emulate
from harness.cli.serve import serve
from harness.emulator import Emulator
from harness.emulator.aichatonline import ISSUED
from harness.emulator.robocoders import ROBOCODERS
from harness.pipeline.run import plan_targets, probe_and_record
from harness.report import write_report
from harness.result import FailureKind
from harness.settings.config import Settings
from harness.store import open_store
from harness.targets.sources import probe_source
from harness.web.app import build_app

ADMIN_TOKEN = "adm1n-t0ken-for-the-test"
PROXY_USER = "monitor"
PROXY_PASSWORD = "pr0xy-pa55word-kept-secret"
WRONG_PASSWORD = "wr0ng-pa55word-also-secret"
CONFIGURED_SECRET = "sk-configured-s3cret-value"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """``harness serve --sandbox`` with an admin token and the default host, in a child."""
    root = tmp_path_factory.mktemp("served")
    env = {"HARNESS_ADMIN_TOKEN": ADMIN_TOKEN, "HARNESS_CACHE_DIR": str(root / "cache")}
    with ServeProcess(
        root / "data", ["--sandbox", "--port", "0", "--interval", "300"], env=env
    ) as server:
        yield server


def default_of(command: Any, name: str) -> object:
    return next(p.default for p in command.params if p.name == name)


def test_serve_and_emulate_bind_to_loopback_by_default() -> None:
    assert default_of(serve, "host") == "127.0.0.1"
    assert default_of(emulate, "host") == "127.0.0.1"


def test_the_server_listens_on_loopback_only(served: ServeProcess) -> None:
    addresses = listening_addresses(served.pid)

    assert served.url.startswith("http://127.0.0.1:")
    assert addresses, "no listening socket found"
    assert {host for host, _ in addresses} == {"127.0.0.1"}


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/api/probe", {}, 401),
        ("/api/probe", {"Authorization": "Bearer"}, 401),
        ("/api/probe", {"Authorization": "Bearer wrong"}, 403),
        ("/api/probe", {"Authorization": f"Bearer {ADMIN_TOKEN[:-1]}"}, 403),
        ("/api/probe", {"Authorization": f"Bearer {ADMIN_TOKEN}x"}, 403),
        ("/api/probe", {"Authorization": f"Basic {ADMIN_TOKEN}"}, 401),
        ("/api/probe", {"Authorization": ADMIN_TOKEN}, 401),
        ("/api/probe", {"X-Admin-Token": ADMIN_TOKEN}, 401),
        (f"/api/probe?token={ADMIN_TOKEN}", {}, 401),
        ("/api/sandbox/fault", {}, 401),
        ("/api/sandbox/fault", {"Authorization": "Bearer wrong"}, 403),
    ],
)
def test_the_admin_routes_refuse_a_missing_or_wrong_token(
    served: ServeProcess, path: str, headers: dict[str, str], status: int
) -> None:
    code, body = served.request(path, method="POST", headers=headers)

    assert code == status, body
    assert ADMIN_TOKEN.encode() not in body


def test_the_admin_route_accepts_the_token(served: ServeProcess) -> None:
    code, _ = served.request(
        "/api/probe", method="POST", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )

    assert code == 202


def test_the_admin_route_is_post_only(served: ServeProcess) -> None:
    code, _ = served.request("/api/probe", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})

    assert code == 405


AiohttpClient = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]


async def test_an_empty_admin_token_adds_no_admin_route(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path)
    app = build_app(
        settings, settings.store_url, interval=300, sandbox=True, admin_token="", schedule=False
    )
    client = await aiohttp_client(app)

    for path in ("/api/probe", "/api/sandbox/fault"):
        response = await client.post(path, headers={"Authorization": "Bearer "})
        assert response.status == 404


def raw_get(url: str, path: str) -> tuple[int, bytes]:
    """GET ``path`` exactly as written: no client normalises its dots or escapes."""
    host, port = url.removeprefix("http://").rstrip("/").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data.partition(b"\r\n\r\n")[2]


TRAVERSALS = [
    "/badge/..%2f..%2fetc%2fpasswd.svg",
    "/badge/..%2F..%2F..%2F..%2Fetc%2Fpasswd.svg",
    "/badge/%2e%2e%2f%2e%2e%2fetc%2fpasswd.svg",
    "/badge/%252e%252e%252fetc%252fpasswd.svg",
    "/badge/../../etc/passwd.svg",
    "/badge/....//....//etc/passwd.svg",
    "/badge/..%5c..%5cetc%5cpasswd.svg",
    "/badge/AutonomousAI.svg/../../../../etc/passwd",
    "/badge/%00.svg",
    "/static/../../etc/passwd",
    "/static/..%2f..%2fetc%2fpasswd",
    "/../../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "//etc/passwd",
    "/api/results/..%2f..%2fetc%2fpasswd",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_finds_nothing(served: ServeProcess, path: str) -> None:
    status, body = raw_get(served.url, path)

    assert status == 404, body[:200]
    assert b"root:" not in body


def test_a_real_badge_is_served(served: ServeProcess) -> None:
    status, body = raw_get(served.url, "/badge/AutonomousAI.svg")

    assert status == 200
    assert b"<svg" in body


async def leaky_upstream(aiohttp_server: Callable[..., Awaitable[TestServer]], echo: str) -> str:
    """A CodeLinkAva stand-in whose errors quote secrets back, as careless APIs do."""

    async def chat(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=500, text=echo)

    app = web.Application()
    app.router.add_post("/api/chat", chat)
    server = await aiohttp_server(app)
    return str(server.make_url("")).rstrip("/")


def files_under(*roots: Path) -> list[Path]:
    return [p for root in roots for p in sorted(root.rglob("*")) if p.is_file()]


async def test_no_secret_is_kept_in_the_store_reports_logs_or_cassettes(
    emulator: Emulator,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from harness.cassettes import record

    caplog.set_level(logging.DEBUG)
    proxy = ForwardProxy(PROXY_USER, PROXY_PASSWORD)
    proxy_port = (await aiohttp_server(proxy.app)).port
    good = f"http://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:{proxy_port}"
    bad = f"http://{PROXY_USER}:{WRONG_PASSWORD}@127.0.0.1:{proxy_port}"
    leaky = await leaky_upstream(
        aiohttp_server,
        f"debug {CONFIGURED_SECRET} via {good}; Authorization: Bearer {CONFIGURED_SECRET}",
    )
    settings = Settings.model_validate(
        {
            "data_dir": tmp_path / "data",
            "upstream": emulator.url,
            "secrets": [CONFIGURED_SECRET],
            "providers": {
                "RobocodersAPI": {"proxy": good},
                "AiChatOnline": {"proxy": good},
                "AutonomousAI": {"proxy": bad, "models": ["llama"]},
                "CodeLinkAva": {"proxy": good, "base_url": leaky},
            },
        }
    )

    async with open_store(settings.store_url) as store:
        async with probe_source(settings) as source:
            summary = await probe_and_record(settings, store, plan_targets(settings), source=source)
        await write_report(store, tmp_path / "report", settings=settings)
    recorded = await record(
        plan_targets(settings, ["RobocodersAPI"], "GeneralCodingAgent")
        + plan_targets(settings, ["AiChatOnline"]),
        out_dir=tmp_path / "cassettes",
        upstream=emulator.url,
        settings=settings,
    )

    kinds = {r.provider: r.kind for r in summary.results}
    assert kinds["RobocodersAPI"] is None
    assert kinds["AiChatOnline"] is None
    assert kinds["AutonomousAI"] is not None  # its proxy refused the wrong password
    assert kinds["CodeLinkAva"] is FailureKind.HTTP_SERVER
    echoed = next(r.error or "" for r in summary.results if r.provider == "CodeLinkAva")
    assert "debug [REDACTED] via http://[REDACTED]@127.0.0.1" in echoed  # it got that far
    assert proxy.forwarded > 0
    assert proxy.refused > 0
    assert len(recorded.saved) == 2, [o.problem for o in recorded.outcomes]
    robocoders = emulator.app[ROBOCODERS]
    unique_ids: set[str] = emulator.app[ISSUED]
    issued = {
        "token": sorted(robocoders.tokens),
        "sid": sorted(robocoders.sessions),
        "unique id": sorted(unique_ids),
    }
    assert all(issued.values()), issued
    secrets = {
        **{f"{what} {value}": value for what, values in issued.items() for value in values},
        "proxy password": PROXY_PASSWORD,
        "wrong proxy password": WRONG_PASSWORD,
        "configured secret": CONFIGURED_SECRET,
    }
    places = {
        str(path.relative_to(tmp_path)): path.read_bytes()
        for path in files_under(tmp_path / "data", tmp_path / "report", tmp_path / "cassettes")
    }
    places["the logs"] = caplog.text.encode()
    assert any(name.endswith("harness.db") for name in places)
    assert any(name.endswith(".yaml") for name in places)

    leaks = [
        f"{label} in {place}"
        for label, value in secrets.items()
        for place, data in places.items()
        if value.encode() in data
    ]
    assert leaks == []
