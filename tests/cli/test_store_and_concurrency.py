"""`harness store check`, and `--concurrency auto` through the CLI."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli.main import main


def test_probing_with_auto_concurrency_probes_everything(runner: CliRunner) -> None:
    result = runner.invoke(main, ["probe", "--all", "--sandbox", "--concurrency", "auto", "--json"])
    assert result.exit_code == 0, result.output
    results = json.loads(result.stdout)["results"]
    assert results
    assert all(r["concurrency"] >= 1 for r in results)
    assert all("loop_lag_ms" in r for r in results)
    assert any(r["loop_lag_ms"] is not None for r in results)


@pytest.mark.parametrize("value", ["0", "many", "10001"])
def test_a_bad_concurrency_is_refused(runner: CliRunner, value: str) -> None:
    result = runner.invoke(main, ["probe", "--all", "--sandbox", "--concurrency", value])
    assert result.exit_code == 2
    assert "--concurrency" in result.output


def test_a_sound_store_checks_ok(runner: CliRunner, data_dir: Path) -> None:
    assert runner.invoke(main, ["probe", "--all", "--sandbox"]).exit_code == 0
    result = runner.invoke(main, ["store", "check", "--sandbox"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith(": ok")


def test_a_damaged_store_fails_its_check(runner: CliRunner, data_dir: Path) -> None:
    assert runner.invoke(main, ["probe", "--all", "--sandbox"]).exit_code == 0
    with closing(sqlite3.connect(data_dir / "sandbox" / "harness.db")) as conn, conn:
        # An index whose stored entries no longer match its definition.
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute(
            "UPDATE sqlite_master SET sql = 'CREATE INDEX results_time ON results (ok)'"
            " WHERE name = 'results_time'"
        )
    result = runner.invoke(main, ["store", "check", "--sandbox"])
    assert result.exit_code == 1
    assert "DAMAGED" in result.stderr


def test_a_file_that_is_not_a_store_fails_its_check(runner: CliRunner, data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "harness.db").write_bytes(b"not a database\n" * 100)
    result = runner.invoke(main, ["store", "check"])
    assert result.exit_code == 1
    assert "not a usable SQLite database" in result.stderr


def test_checking_a_store_that_does_not_exist_creates_none(
    runner: CliRunner, data_dir: Path
) -> None:
    result = runner.invoke(main, ["store", "check"])
    assert result.exit_code == 2
    assert "there is no store" in result.stderr
    assert not (data_dir / "harness.db").exists()
