"""A key from the environment appears in no cassette, log, store row, report or page,
even from an endpoint that hands it back in its answers and its error messages."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner
from endpoint_servers import KEY_ENV, LEAKY_KEY

from harness.cli.main import main
from harness.settings.config import load_settings
from harness.store import open_store
from harness.web.app import build_app

PAGES = ("/", "/fragment", "/api/status", "/api/results?limit=100", "/metrics")


def files_under(*folders: Path) -> list[Path]:
    return [p for folder in folders for p in folder.rglob("*") if p.is_file()]


@pytest.fixture
def config(tmp_path: Path, leaky_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(KEY_ENV, LEAKY_KEY)
    path = tmp_path / "harness.toml"
    path.write_text(
        f"""
[endpoints.leaky]
base_url = "{leaky_url}/v1"
api_key_env = "{KEY_ENV}"
models = ["echo", "refused"]
"""
    )
    return path


async def served(config: Path) -> tuple[list[str], list[str]]:
    """What the live page and its API show, and the stored rows, from the CLI's store."""
    settings = load_settings(config)
    async with open_store(settings.store_url) as store:
        rows = [repr(r) for r in await store.results()]
    app = build_app(
        settings, settings.store_url, interval=300, sandbox=False, admin_token=None, schedule=False
    )
    async with TestClient(TestServer(app)) as client:
        pages = [await (await client.get(path)).text() for path in PAGES]
    return pages, rows


def test_the_key_stays_in_the_process(
    config: Path, tmp_path: Path, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    runner = CliRunner()
    outputs: list[str] = []

    def invoke(*args: str) -> None:
        result = runner.invoke(main, ["--config", str(config), *args])
        outputs.extend([result.stdout, result.stderr])
        assert result.exception is None or isinstance(result.exception, SystemExit)

    # The endpoint really got the key, and really handed it back.
    invoke("probe", "-p", "leaky", "--prompt", "all", "--json")
    results = json.loads(outputs[0])["results"]
    assert {r["model"]: r["ok"] for r in results if r["prompt"] == "ping"} == {
        "echo": True,
        "refused": False,
    }
    refused = next(r for r in results if r["model"] == "refused")
    assert refused["kind"] == "http_auth"
    assert "Incorrect API key provided" in refused["error"]
    echo = next(r for r in results if r["model"] == "echo")
    assert "(key [REDACTED])" in echo["sample"]

    invoke("probe", "-p", "leaky")
    invoke("report", "--out", str(tmp_path / "reports"))
    cassettes = tmp_path / "cassettes"
    invoke("record", "-p", "leaky", "-m", "echo", "--prompt", "ping", "--out", str(cassettes))
    assert list(cassettes.rglob("*.yaml")), outputs[-2:]
    invoke("probe", "--all", "--replay", str(cassettes), "--json")
    replayed = json.loads(outputs[-2] or "null")
    assert replayed is not None, outputs[-1]
    assert replayed["results"][0]["ok"] is True

    pages, rows = asyncio.run(served(config))
    assert rows
    for text in [*outputs, *pages, caplog.text, *rows]:
        assert LEAKY_KEY not in text
    for path in files_under(data_dir, tmp_path / "reports", cassettes):
        assert LEAKY_KEY.encode() not in path.read_bytes(), path
