"""``harness bench`` on the command line: JSON alone on stdout, tables, usage errors."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.bench import suite
from harness.cassettes import find_cassettes
from harness.cli.bench import bench


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


def test_outside_the_checkout_the_shipped_cassettes_are_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(bench, ["--json", "--quick", "--only", "replay"])

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["replay"]["cassettes"] == len(find_cassettes(suite.CHECKOUT_CASSETTES))
    assert "skipped" not in document


def test_with_no_cassettes_anywhere_the_replay_is_skipped_with_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(suite, "CHECKOUT_CASSETTES", tmp_path / "installed" / "cassettes")

    shown = CliRunner().invoke(bench, ["--quick", "--only", "replay"])
    as_json = CliRunner().invoke(bench, ["--json", "--quick", "--only", "replay"])

    assert shown.exit_code == 0, shown.output
    assert "replay skipped: no cassettes" in shown.stdout
    assert as_json.exit_code == 0, as_json.output
    document = json.loads(as_json.stdout)
    assert "replay" not in document
    assert document["skipped"]["replay"].startswith("replay skipped")
