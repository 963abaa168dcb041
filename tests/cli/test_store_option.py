"""Choosing the store: ``--store URL``, ``$HARNESS_STORE``, ``store =``; naming the vantage.

The store chosen is the live one (sandbox runs keep theirs apart), so these probes are
live runs sent to an emulator with ``--upstream``."""

from __future__ import annotations

import asyncio
import errno
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli.main import main
from harness.emulator import Emulator
from harness.result import ProbeResult
from harness.store import open_store
from harness.store.spool import Spool
from tests.postgres_cluster import PostgresCluster


async def _vantages(location: str) -> set[str]:
    async with open_store(location) as store:
        return {r.vantage for r in await store.results()}


def test_probe_and_report_use_a_postgresql_store_named_by_flag(
    runner: CliRunner, postgres: PostgresCluster, tmp_path: Path, emulator_thread: Emulator
) -> None:
    url = postgres.new_schema()
    probed = runner.invoke(
        main,
        [
            "probe",
            "-p",
            "CodeLinkAva",
            "--upstream",
            emulator_thread.url,
            "--store",
            url,
            "--vantage",
            "eu-1",
        ],
    )
    assert probed.exit_code == 0, probed.output
    assert asyncio.run(_vantages(url)) == {"eu-1"}
    reported = runner.invoke(main, ["report", "--out", str(tmp_path / "r"), "--store", url])
    assert reported.exit_code == 0, reported.output
    assert '"eu-1"' in (tmp_path / "r" / "status.json").read_text(encoding="utf-8")


def test_the_environment_names_the_store_and_the_flag_wins(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator_thread: Emulator
) -> None:
    from_env, from_flag = tmp_path / "env.db", tmp_path / "flag.db"
    monkeypatch.setenv("HARNESS_STORE", f"sqlite:///{from_env}")
    live = ["probe", "-p", "CodeLinkAva", "--upstream", emulator_thread.url]
    assert runner.invoke(main, live).exit_code == 0
    assert from_env.exists()
    outcome = runner.invoke(main, [*live, "--store", str(from_flag)])
    assert outcome.exit_code == 0
    assert from_flag.exists()


def test_the_settings_file_names_the_store_and_the_vantage(
    runner: CliRunner, tmp_path: Path, emulator_thread: Emulator
) -> None:
    db = tmp_path / "file.db"
    config = tmp_path / "harness.toml"
    config.write_text(f'store = "sqlite:///{db}"\nvantage = "us-2"\n', encoding="utf-8")
    outcome = runner.invoke(
        main,
        ["--config", str(config), "probe", "-p", "CodeLinkAva", "--upstream", emulator_thread.url],
    )
    assert outcome.exit_code == 0, outcome.output
    assert asyncio.run(_vantages(str(db))) == {"us-2"}


@pytest.mark.parametrize("command", [["probe", "-p", "CodeLinkAva"], ["report"]])
def test_an_unsupported_store_url_exits_2(runner: CliRunner, command: list[str]) -> None:
    outcome = runner.invoke(main, [*command, "--store", "mysql://db/harness"])
    assert outcome.exit_code == 2
    assert "unsupported store URL" in outcome.output


def test_an_unreachable_postgresql_store_exits_2_with_a_message(runner: CliRunner) -> None:
    outcome = runner.invoke(main, ["report", "--store", "postgresql://u:pw@127.0.0.1:1/db"])
    assert outcome.exit_code == 2
    assert "cannot reach the store postgresql://127.0.0.1:1/db" in outcome.output
    assert "pw" not in outcome.output


def test_a_probe_while_the_database_is_down_spools_its_results(
    runner: CliRunner, postgres: PostgresCluster, emulator_thread: Emulator
) -> None:
    url = postgres.new_schema()
    command = ["probe", "-p", "CodeLinkAva", "--upstream", emulator_thread.url, "--store", url]
    assert runner.invoke(main, command).exit_code == 0
    postgres.halt()
    try:
        down = runner.invoke(main, command)
    finally:
        postgres.start()
    assert down.exit_code == 0, down.output
    assert "cannot reach the store" in down.stderr
    assert "1 results spooled" in down.stderr
    assert runner.invoke(main, command).exit_code == 0
    assert len(asyncio.run(_results(url))) == 3


async def _results(location: str) -> list[object]:
    async with open_store(location) as store:
        return list(await store.results())


def test_a_probe_that_can_keep_its_results_nowhere_says_so(
    runner: CliRunner, emulator_thread: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_space(self: Spool, run: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Spool, "_write", no_space)
    unreachable = "postgresql://u@127.0.0.1:1/db"
    command = ["probe", "-p", "CodeLinkAva", "--upstream", emulator_thread.url]
    outcome = runner.invoke(main, [*command, "--store", unreachable])
    assert outcome.exit_code == 0, outcome.output
    assert "the spool cannot be written either, so 1 results are not kept" in outcome.stderr


async def _old_result_then_rollup(location: Path, started: datetime) -> tuple[int, int]:
    async with open_store(location) as store:
        (rollup,) = await store.rollups(started, provider="Old")
        return len(await store.results(provider="Old")), rollup.ok


def test_a_probe_prunes_results_past_the_raw_retention_after_its_run(
    runner: CliRunner, tmp_path: Path, emulator_thread: Emulator
) -> None:
    location = tmp_path / "live.db"
    started = datetime.now(UTC) - timedelta(days=3)
    asyncio.run(_add(location, ProbeResult("Old", "m", "ping", started, ok=True)))
    config = tmp_path / "harness.toml"
    config.write_text('[retention]\nraw = "2d"\n', encoding="utf-8")
    live = ["--config", str(config), "probe", "-p", "CodeLinkAva", "--store", str(location)]
    probed = runner.invoke(main, [*live, "--upstream", emulator_thread.url])
    assert probed.exit_code == 0, probed.output
    assert asyncio.run(_old_result_then_rollup(location, started)) == (0, 1)


async def _add(location: Path, result: ProbeResult) -> None:
    async with open_store(location) as store:
        await store.add_results([result])
