"""`harness list`, `report`, `record`, `emulate` and settings errors, through the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli.main import main

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"


def test_list_shows_models_aliases_and_capabilities(runner: CliRunner) -> None:
    rows = json.loads(runner.invoke(main, ["list", "--json"]).stdout)["providers"]
    autonomous = next(r for r in rows if r["provider"] == "AutonomousAI")
    assert autonomous["aliases"]["hermes-3"] == "hermes"
    assert autonomous["supports_system_message"] is True
    assert autonomous["working"] is False  # shipped default, nothing measured yet
    assert autonomous["measured"] is False
    assert autonomous["capability"] == "chat"


def test_list_keeps_an_unknown_flag_apart_from_the_shipped_one(
    runner: CliRunner, tmp_path: Path
) -> None:
    offline = tmp_path / "harness.toml"
    offline.write_text('[connectivity]\nnames = ["name.invalid"]\n', encoding="utf-8")
    probed = runner.invoke(main, ["--config", str(offline), "probe", "-p", "CodeLinkAva"])
    assert "inconclusive" in probed.stdout, probed.output

    listed = runner.invoke(main, ["--config", str(offline), "list", "--json"])
    codelink = next(
        r for r in json.loads(listed.stdout)["providers"] if r["provider"] == "CodeLinkAva"
    )
    assert (codelink["working"], codelink["measured"]) == (None, True)
    table = runner.invoke(main, ["--config", str(offline), "list"], env={"COLUMNS": "200"})
    assert "unknown (shipped: no)" in table.stdout


def test_list_prints_a_table(runner: CliRunner) -> None:
    result = runner.invoke(main, ["list"])
    assert result.exit_code == 0
    assert "RobocodersAPI" in result.stdout
    assert "(shipped)" in result.stdout


def test_report_writes_every_file_from_the_store(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(main, ["probe", "--all", "--sandbox"]).exit_code == 0
    out = tmp_path / "site"
    result = runner.invoke(main, ["report", "--out", str(out)])
    assert result.exit_code == 0
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"index.html", "status.json", "status.md", "badges/AutonomousAI.svg"} <= written


def test_replayed_cassettes_reach_the_store_as_replay_results(
    runner: CliRunner, tmp_path: Path
) -> None:
    subset = tmp_path / "cassettes"
    (subset / "CodeLinkAva").mkdir(parents=True)
    for cassette in (CASSETTES / "CodeLinkAva").glob("*.yaml"):
        (subset / "CodeLinkAva" / cassette.name).write_bytes(cassette.read_bytes())
    result = runner.invoke(main, ["probe", "--all", "--replay", str(subset), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert {r["source"] for r in document["results"]} == {"replay"}
    assert document["summary"]["working"] == {"CodeLinkAva": True}


def test_the_drift_check_finds_no_change_against_the_emulators(runner: CliRunner) -> None:
    result = runner.invoke(
        main, ["record", "--check", "--sandbox", "-p", "CodeLinkAva", "--prompt", "ping"]
    )
    assert result.exit_code == 0, result.output
    assert "unchanged" in result.stdout


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    return tmp_path / "harness.toml"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("[deadlines]\ntotal = -1\n", "deadlines.total", id="names-the-field"),
        pytest.param("concurency = 4\n", "concurency", id="unknown-key"),
        pytest.param("this is = = not toml", "is not valid TOML", id="not-toml"),
        pytest.param(
            "[providers.Nope]\nenabled = false\n",
            "unknown provider(s) ['Nope']",
            id="unknown-provider",
        ),
    ],
)
def test_bad_settings_are_refused_with_exit_2_and_a_clear_message(
    runner: CliRunner, settings_file: Path, text: str, message: str
) -> None:
    settings_file.write_text(text)
    result = runner.invoke(main, ["--config", str(settings_file), "list"])
    assert result.exit_code == 2
    assert message in result.stderr


def test_a_disabled_provider_is_not_probed(runner: CliRunner, settings_file: Path) -> None:
    settings_file.write_text("[providers.RobocodersAPI]\nenabled = false\n")
    args = ["--config", str(settings_file), "probe", "--all", "--sandbox", "--json"]
    result = runner.invoke(main, args)
    assert "RobocodersAPI" not in {r["provider"] for r in json.loads(result.stdout)["results"]}


@pytest.mark.timeout(30)
def test_emulate_prints_its_url_and_stops_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "harness", "emulate", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "emulating the upstream APIs at http://127.0.0.1:" in line
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "Traceback" not in err


def test_the_emulator_refuses_a_bad_fault(runner: CliRunner) -> None:
    result = runner.invoke(main, ["emulate", "--fault", "AutonomousAI=melt"])
    assert result.exit_code == 2
    assert "melt" in result.stderr
