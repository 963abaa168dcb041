"""``harness bench`` on the command line: JSON alone on stdout, tables, usage errors."""

import json
from pathlib import Path

from click.testing import CliRunner

from harness.bench.command import bench


def test_json_prints_one_document_and_nothing_else(cassettes: Path) -> None:
    result = CliRunner().invoke(
        bench, ["--json", "--quick", "--only", "replay", "--cassettes", str(cassettes)]
    )
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) >= {"machine", "replay", "goals"}
    assert "fanout" not in document


def test_without_json_it_prints_tables(cassettes: Path) -> None:
    result = CliRunner().invoke(
        bench, ["--quick", "--only", "replay", "--cassettes", str(cassettes)]
    )
    assert result.exit_code == 0, result.stderr
    assert "Replay of every cassette" in result.stdout
    assert "CPUs" in result.stdout


def test_an_unknown_benchmark_is_a_usage_error() -> None:
    result = CliRunner().invoke(bench, ["--only", "fanout,speed"])
    assert result.exit_code == 2
    assert "speed" in result.stderr


def test_a_folder_without_cassettes_is_refused_before_anything_runs(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        bench, ["--quick", "--only", "replay", "--cassettes", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "no cassettes" in result.stderr
