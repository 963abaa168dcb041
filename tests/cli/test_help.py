"""Every command documents itself, as datasette tests its docs: each group's ``--help``
lists all its commands, and each command and subcommand answers ``--help`` with its
own help text."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from harness.cli.main import main

G4F_MISSING = importlib.util.find_spec("g4f") is None


def commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The path of every command under ``group``, subcommands included."""
    for name, command in sorted(group.commands.items()):
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))


def command_at(path: tuple[str, ...]) -> click.Command:
    command: click.Command = main
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def needs_g4f_below_its_group(path: tuple[str, ...]) -> list[pytest.MarkDecorator]:
    # The g4f group refuses to run without gpt4free, before its subcommands see --help.
    below = path[0] == "g4f" and len(path) > 1
    return [pytest.mark.skipif(below and G4F_MISSING, reason="the g4f extra is not installed")]


COMMANDS = [
    pytest.param(path, id=" ".join(path), marks=needs_g4f_below_its_group(path))
    for path in commands(main)
]
GROUPS = [pytest.param((), id="harness")] + [
    pytest.param(path, id=" ".join(path))
    for path in commands(main)
    if isinstance(command_at(path), click.Group)
]


def listed_commands(help_text: str) -> set[str]:
    """The command names in the ``Commands:`` section of a help page."""
    section = help_text.split("\nCommands:\n", 1)[1]
    return {line.split()[0] for line in section.splitlines() if line.startswith("  ")}


def words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("path", GROUPS)
def test_a_groups_help_lists_all_its_commands(runner: CliRunner, path: tuple[str, ...]) -> None:
    group = command_at(path)
    assert isinstance(group, click.Group)

    result = runner.invoke(main, [*path, "--help"], prog_name="harness")

    assert result.exit_code == 0, result.output
    assert listed_commands(result.stdout) == set(group.commands)


@pytest.mark.parametrize("path", COMMANDS)
def test_every_command_answers_help_with_its_own_text(
    runner: CliRunner, path: tuple[str, ...]
) -> None:
    command = command_at(path)
    assert command.help, f"harness {' '.join(path)} has no help text"
    first_paragraph = command.help.split("\n\n")[0]

    result = runner.invoke(main, [*path, "--help"], prog_name="harness")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Usage: harness {' '.join(path)} ")
    assert words(first_paragraph) in words(result.stdout)
