"""Duration options on the command line read the same grammar, as a number of seconds."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from harness.cli.main import main
from harness.cli.options import DurationParam


@click.command()
@click.option("--every", type=DurationParam(at_least="100ms"))
def every(every: float) -> None:
    click.echo(repr(every))


@pytest.mark.parametrize(
    ("written", "seconds"), [("90", 90.0), ("0.5", 0.5), ("500ms", 0.5), ("90min", 5400.0)]
)
def test_a_duration_option_gives_seconds(written: str, seconds: float) -> None:
    result = CliRunner().invoke(every, ["--every", written])
    assert result.exit_code == 0, result.output
    assert result.output == f"{seconds!r}\n"


def test_a_duration_option_refuses_garbage_as_a_usage_error() -> None:
    result = CliRunner().invoke(every, ["--every", "soon"])
    assert result.exit_code == 2
    assert "Invalid value for '--every': expected a duration such as 500ms" in result.output


def test_a_duration_option_refuses_less_than_its_minimum() -> None:
    result = CliRunner().invoke(every, ["--every", "50ms"])
    assert result.exit_code == 2
    assert "expected at least 100ms; got '50ms'" in result.output


@pytest.mark.parametrize(("command", "option"), [("probe", "--timeout"), ("serve", "--interval")])
def test_every_duration_option_of_the_harness_reads_the_grammar(command: str, option: str) -> None:
    params = {param.opts[0]: param for param in main.commands[command].params}
    assert isinstance(params[option].type, DurationParam)
