"""After faulty probes the measured flags reach `harness list` and `providers` imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from harness.cli.main import main
from harness.emulator import Emulator, Fault, FaultSpec


def probe_rounds(runner: CliRunner, upstream: str, rounds: int) -> None:
    for _ in range(rounds):
        runner.invoke(main, ["probe", "--all", "--upstream", upstream, "--json"])


def test_lasting_failures_turn_the_flag_off_and_list_shows_it(
    runner: CliRunner, emulator_thread: Emulator
) -> None:
    emulator_thread.set_fault("AutonomousAI", FaultSpec(Fault.http_500))
    probe_rounds(runner, emulator_thread.url, 3)
    listed = json.loads(runner.invoke(main, ["list", "--json"]).stdout)["providers"]
    by_name = {row["provider"]: row for row in listed}
    assert by_name["AutonomousAI"]["working"] is False
    assert set(by_name["AutonomousAI"]["models"].values()) == {"down"}
    assert by_name["CodeLinkAva"]["working"] is True
    assert by_name["CodeLinkAva"]["models"] == {"gpt-3.5-turbo": "up"}


def test_a_single_blip_does_not_turn_the_flag_off(
    runner: CliRunner, emulator_thread: Emulator
) -> None:
    probe_rounds(runner, emulator_thread.url, 1)
    emulator_thread.set_fault("CodeLinkAva", FaultSpec(Fault.http_503))
    probe_rounds(runner, emulator_thread.url, 1)
    listed = json.loads(runner.invoke(main, ["list", "--json"]).stdout)["providers"]
    codelink = next(row for row in listed if row["provider"] == "CodeLinkAva")
    assert codelink["working"] is True
    assert codelink["models"] == {"gpt-3.5-turbo": "degraded"}


def test_importing_providers_applies_the_measured_flags(
    runner: CliRunner, emulator_thread: Emulator, data_dir: Path
) -> None:
    emulator_thread.set_fault("AutonomousAI", FaultSpec(Fault.cloudflare_403))
    probe_rounds(runner, emulator_thread.url, 3)
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "from providers import AutonomousAI, CodeLinkAva;"
            "print(AutonomousAI.working, CodeLinkAva.working)",
        ],
        env={**os.environ, "HARNESS_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.split() == ["False", "True"]


def test_the_source_patch_ships_the_measured_flags(
    runner: CliRunner, emulator_thread: Emulator
) -> None:
    probe_rounds(runner, emulator_thread.url, 2)
    result = runner.invoke(main, ["flags", "--write-source"])
    assert result.exit_code == 0
    assert "+    working = True" in result.stdout
    assert "providers/AutonomousAI.py" in result.stdout


def test_the_source_patch_needs_measured_flags(runner: CliRunner) -> None:
    result = runner.invoke(main, ["flags", "--write-source"])
    assert result.exit_code == 2
    assert "run `harness probe` first" in result.stderr
