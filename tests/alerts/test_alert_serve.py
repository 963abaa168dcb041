"""Done when: ``HARNESS_ALERT_URLS=json://127.0.0.1:PORT/ harness serve --sandbox --alerts``
plus a fault injected through ``/api/sandbox/fault`` delivers one "down" message and
later one "up"; the page and ``/api/status`` show the last alert, and no token leaks."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from alert_receiver import TOKEN, Receiver

from tests.reliability.serve_process import ServeProcess, result_count

ADMIN = "admin-token-for-this-test"
GUARD_S = 45.0
"""A hang guard while waiting for scheduled runs, not a timing assertion."""


def set_fault(server: ServeProcess, fault: str) -> None:
    request = urllib.request.Request(
        server.url + "api/sandbox/fault",
        data=json.dumps({"fault": fault}).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def wait_for(server: ServeProcess, receiver: Receiver, titles: list[str]) -> None:
    server.wait_until(lambda: len(receiver.delivered) >= len(titles), GUARD_S)
    assert receiver.titles == titles


def state(server: ServeProcess, provider: str) -> str:
    return str(server.json("/api/status")["providers"][provider]["state"])


def test_serve_sandbox_alerts_one_down_and_one_up(
    tmp_path: Path, receiver_thread: Receiver
) -> None:
    env = {"HARNESS_ALERT_URLS": receiver_thread.url, "HARNESS_ADMIN_TOKEN": ADMIN}
    args = ["--sandbox", "--alerts", "--port", "0", "--interval", "0.3"]
    with ServeProcess(tmp_path / "data", args, env=env) as server:
        server.wait_until(lambda: state(server, "CodeLinkAva") == "up", GUARD_S)
        set_fault(server, "CodeLinkAva=http_500")
        wait_for(server, receiver_thread, ["CodeLinkAva down"])
        set_fault(server, "CodeLinkAva=none")
        wait_for(server, receiver_thread, ["CodeLinkAva down", "CodeLinkAva up"])
        # Runs go on; nothing more is sent for a provider that stays up.
        server.wait_for_results(result_count(server.db) + 30, GUARD_S)
        assert receiver_thread.titles == ["CodeLinkAva down", "CodeLinkAva up"]

        model = server.json("/api/status")["providers"]["CodeLinkAva"]["models"]["gpt-3.5-turbo"]
        assert model["last_alert"]["title"] == "CodeLinkAva up"
        assert model["last_alert"]["state"] == "up"
        status, page = server.request("/provider/CodeLinkAva")  # the model in full
        assert status == 200
        assert b"CodeLinkAva up" in page
        for path in ("/", "/api/status", "/api/results?limit=1000", "/metrics"):
            assert TOKEN.encode() not in server.request(path)[1]
        assert server.terminate() == 0
    assert TOKEN not in server.stderr()
    assert TOKEN not in server.stdout_path.read_text()
