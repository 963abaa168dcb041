"""Two ``harness serve`` processes, vantages a and b, on one PostgreSQL database.

Each vantage probes its own emulator (its own ``upstream`` in its own settings file),
so breaking one emulator is a network problem seen from one vantage only. The target
must stay working (degraded, down from a) while only a sees it failing; when both do,
exactly one flip takes it down, and recovery brings it back up.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families
from serve_process import ServeProcess

from harness.emulator import Emulator, parse_fault
from tests.postgres_cluster import PostgresCluster

PROVIDER = "CodeLinkAva"
MODEL = "gpt-3.5-turbo"
TOKEN = "vantage-test-token"
OTHERS = ("RobocodersAPI", "AiChatOnline", "AutonomousAI")


class ThreadedEmulator:
    """An in-process emulator on a loop of its own, so the test can block while it serves."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._emulator = Emulator(host="127.0.0.1", port=0)
        asyncio.run_coroutine_threadsafe(self._emulator.start(), self._loop).result(20)
        self.url = self._emulator.url

    def fault(self, text: str) -> None:
        provider, spec = parse_fault(text)
        self._loop.call_soon_threadsafe(self._emulator.set_fault, provider, spec)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._emulator.stop(), self._loop).result(20)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(20)
        self._loop.close()


@pytest.fixture
def emulators() -> Iterator[dict[str, ThreadedEmulator]]:
    started = {name: ThreadedEmulator() for name in ("a", "b")}
    yield started
    for emulator in started.values():
        emulator.close()


def _settings_file(directory: Path, upstream: str) -> Path:
    disabled = "".join(f"\n[providers.{name}]\nenabled = false\n" for name in OTHERS)
    path = directory / "harness.toml"
    path.write_text(
        f'upstream = "{upstream}"\n'
        "[thresholds]\ndown_after = 1\nup_after = 1\n"
        "[connectivity]\nenabled = false\n"
        "[serve]\njitter = 0\n" + disabled,
        encoding="utf-8",
    )
    return path


class Vantage:
    """One serve process and how to make it probe now and wait for the run's results."""

    def __init__(self, name: str, server: ServeProcess, url: str) -> None:
        self.name, self.server, self.url = name, server, url

    def results(self) -> int:
        return int(
            _one(
                self.url,
                "SELECT COUNT(*) FROM results r JOIN origins o ON o.id = r.origin"
                " JOIN texts v ON v.id = o.vantage WHERE v.value = %s",
                self.name,
            )
        )

    def probe(self) -> None:
        """Run this vantage's job now (retrying while one is still winding down) and
        wait until its results are stored."""
        before = self.results()
        headers = {"Authorization": f"Bearer {TOKEN}"}

        def started() -> bool:
            path = f"/api/probe?provider={PROVIDER}"
            status, body = self.server.request(path, method="POST", headers=headers)
            assert status == 202, body
            return bool(json.loads(body)["runs"][PROVIDER] == "started")

        self.server.wait_until(started, timeout=30)
        self.server.wait_until(lambda: self.results() > before, timeout=40)


def _one(url: str, query: str, *params: Any) -> Any:
    with psycopg.connect(url) as conn:
        row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def _flips_to(url: str, state: str) -> int:
    return int(_one(url, "SELECT COUNT(*) FROM flips WHERE new = %s", state))


@pytest.mark.timeout(240)
def test_two_vantages_agree_before_a_target_goes_down(
    postgres: PostgresCluster, emulators: dict[str, ThreadedEmulator], tmp_path: Path
) -> None:
    url = postgres.new_schema()
    vantages: dict[str, Vantage] = {}
    servers = []
    try:
        for name, emulator in emulators.items():
            folder = tmp_path / name
            folder.mkdir()
            config = _settings_file(folder, emulator.url)
            server = ServeProcess(
                folder / "data",
                ["--port", "0", "--interval", "3600", "--store", url, "--vantage", name],
                env={"HARNESS_CONFIG": str(config), "HARNESS_ADMIN_TOKEN": TOKEN},
            )
            servers.append(server)
            vantages[name] = Vantage(name, server, url)
        a, b = vantages["a"], vantages["b"]
        a.server.wait_until(lambda: a.results() > 0 and b.results() > 0, timeout=40)

        def shown() -> dict[str, Any]:
            document = a.server.json("/api/status")
            model: dict[str, Any] = document["providers"][PROVIDER]["models"][MODEL]
            return {**model, "working": document["providers"][PROVIDER]["working"]}

        assert shown()["state"] == "up"

        emulators["a"].fault(f"{PROVIDER}=http_500")
        a.probe()
        b.probe()
        degraded = shown()
        assert degraded["state"] == "degraded"
        assert degraded["working"] is True
        assert degraded["down_from"] == ["a"]
        assert degraded["vantages"]["a"]["state"] == "down"
        assert degraded["vantages"]["b"]["state"] == "up"
        assert _flips_to(url, "down") == 0

        emulators["b"].fault(f"{PROVIDER}=http_500")
        a.probe()
        b.probe()
        a.probe()
        assert shown()["state"] == "down"
        assert shown()["working"] is False
        assert _flips_to(url, "down") == 1
        metrics = text_string_to_metric_families(a.server.request("/metrics")[1].decode())
        up = {
            s.labels["vantage"]: s.value
            for family in metrics
            for s in family.samples
            if s.name == "harness_vantage_target_up" and s.labels["provider"] == PROVIDER
        }
        assert up["a"] == 0

        for emulator in emulators.values():
            emulator.fault(f"{PROVIDER}=none")
        a.probe()
        b.probe()
        assert shown()["state"] == "up"
        assert _flips_to(url, "down") == 1
        assert _flips_to(url, "up") == 2  # the first result, then the recovery
    finally:
        for server in servers:
            assert server.terminate() == 0, server.stderr()
