"""Options that exclude each other are refused alike by every command: exit code 2 and
one line naming them, before anything is probed or opened."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from harness.cli.main import main

UPSTREAM = "http://127.0.0.1:1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["list", "--sandbox", "--replay"], "--sandbox and --replay exclude each other"),
        (["report", "--sandbox", "--replay"], "--sandbox and --replay exclude each other"),
        (["store", "check", "--sandbox", "--replay"], "--sandbox and --replay exclude each other"),
        (
            ["probe", "--all", "--sandbox", "--replay"],
            "--upstream, --sandbox and --replay exclude each other",
        ),
        (
            ["record", "--sandbox", "--upstream", UPSTREAM],
            "--sandbox and --upstream exclude each other",
        ),
    ],
)
def test_two_sources_at_once_are_refused(runner: CliRunner, args: list[str], message: str) -> None:
    result = runner.invoke(main, args)

    assert result.exit_code == 2
    assert result.stderr == f"error: {message}\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["alert"], "give either --test or --list"),
        (["alert", "--test", "--list"], "give either --test or --list"),
        (["probe"], "give either --all or -p NAME"),
        (["probe", "--all", "-p", "AutonomousAI"], "give either --all or -p NAME"),
    ],
)
def test_a_command_needing_exactly_one_of_two_options_asks_for_either(
    runner: CliRunner, args: list[str], message: str
) -> None:
    result = runner.invoke(main, args)

    assert result.exit_code == 2
    assert result.stderr == f"error: {message}\n"
