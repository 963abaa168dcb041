"""``harness alert --test | --list``, and alerts from ``harness probe`` runs (cron style)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from alert_receiver import TOKEN, Receiver
from click.testing import CliRunner

import harness.pipeline.run
from harness.alerts.stage import RunAlerts
from harness.cli.main import main
from harness.emulator import Emulator, Fault, FaultSpec
from harness.settings.alerts import AlertSettings


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_the_test_message_reaches_every_destination_and_failures_exit_1(
    runner: CliRunner, receiver_thread: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_ALERT_URLS", receiver_thread.url)
    result = runner.invoke(main, ["alert", "--test"])
    assert result.exit_code == 0, result.output
    assert result.output == f"sent    json://127.0.0.1:{receiver_thread.port}\n"
    assert receiver_thread.titles == ["harness: test alert"]

    closed = f"json://127.0.0.1:1/closed/{TOKEN}"
    monkeypatch.setenv("HARNESS_ALERT_URLS", f"{receiver_thread.url} {closed}")
    result = runner.invoke(main, ["alert", "--test", "--json"])
    assert result.exit_code == 1
    rows = json.loads(result.stdout)["destinations"]
    assert [(r["destination"], r["sent"]) for r in rows] == [
        (f"json://127.0.0.1:{receiver_thread.port}", True),
        ("json://127.0.0.1:1", False),
    ]
    assert rows[1]["error"]
    assert TOKEN not in result.output


@pytest.mark.parametrize("args", [["alert"], ["alert", "--test", "--list"], ["alert", "--test"]])
def test_usage_errors_exit_2(runner: CliRunner, args: list[str]) -> None:
    result = runner.invoke(main, args)
    assert result.exit_code == 2
    assert "error:" in result.output


def test_probe_runs_alert_and_list_shows_the_deliveries_without_secrets(
    runner: CliRunner,
    receiver_thread: Receiver,
    emulator_thread: Emulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HARNESS_ALERT_URLS", receiver_thread.url)
    probe = ["probe", "-p", "CodeLinkAva", "--upstream", emulator_thread.url, "--json"]
    outputs = [runner.invoke(main, probe).output]
    emulator_thread.set_fault("CodeLinkAva", FaultSpec(Fault.http_502))
    outputs += [runner.invoke(main, probe).output for _ in range(3)]
    assert receiver_thread.titles == ["CodeLinkAva down"]

    listed = runner.invoke(main, ["alert", "--list", "--json"])
    assert listed.exit_code == 0
    (delivery,) = json.loads(listed.stdout)["deliveries"]
    assert delivery["state"] == "sent"
    assert delivery["destination"] == f"json://127.0.0.1:{receiver_thread.port}"
    assert delivery["targets"] == [
        {"provider": "CodeLinkAva", "model": "gpt-3.5-turbo", "state": "down"}
    ]
    table = runner.invoke(main, ["alert", "--list"])
    assert table.exit_code == 0
    assert "CodeLinkAva" in table.output
    assert "sent" in table.output
    for text in (*outputs, listed.output, table.output):
        assert TOKEN not in text
        assert "/hook/" not in text


def test_list_with_nothing_recorded(runner: CliRunner) -> None:
    result = runner.invoke(main, ["alert", "--list"])
    assert result.exit_code == 0
    assert "no alerts recorded yet" in result.output


def test_the_alerts_switch_lets_sandbox_probes_alert(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    prepare = harness.pipeline.run.prepare_alerts

    async def spy(settings: AlertSettings, *args: Any, **kwargs: Any) -> RunAlerts:
        seen.append(settings.all_sources)
        return await prepare(settings, *args, **kwargs)

    monkeypatch.setattr(harness.pipeline.run, "prepare_alerts", spy)
    for args in ([], ["--alerts"]):
        result = runner.invoke(main, ["probe", "-p", "CodeLinkAva", "--sandbox", *args])
        assert result.exit_code == 0, result.output
    assert seen == [False, True]
