"""Sandbox and replay results never change live status, flips or flags (issue: signal truth).

Each source keeps its own data directory (``harness.targets.sources``); these tests run the
commands a new user would and check that the live flags stay the shipped ones.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from harness.cli.main import main
from harness.result import Source
from harness.settings.config import Settings
from harness.targets.sources import source_dir, source_flags_file, source_store_url
from providers import PROVIDERS

SHIPPED = {name: provider.working for name, provider in PROVIDERS.items()}
"""The flags of the provider classes as this process loaded them (no live run yet)."""


def listed(runner: CliRunner, *args: str) -> dict[str, object]:
    result = runner.invoke(main, ["list", "--json", *args])
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(result.stdout)
    return document


def working_of(document: dict[str, object]) -> dict[str, bool]:
    rows = document["providers"]
    assert isinstance(rows, list)
    return {row["provider"]: row["working"] for row in rows}


def imported_working(data_dir: Path) -> dict[str, bool]:
    """``providers.X.working`` as a fresh interpreter sees it with this data directory."""
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "import providers\n"
            "print(*(f'{n}={p.working}' for n, p in providers.PROVIDERS.items()))",
        ],
        env={**os.environ, "HARNESS_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        check=True,
    )
    return {k: v == "True" for k, v in (item.split("=") for item in shown.stdout.split())}


def test_a_sandbox_run_leaves_the_live_flags_as_shipped(
    runner: CliRunner, data_dir: Path, tmp_path: Path
) -> None:
    shipped = imported_working(tmp_path / "never-used")  # what the source code ships
    assert shipped["RobocodersAPI"] is False  # its site is dead
    assert not data_dir.exists()  # a fresh data directory
    probed = runner.invoke(main, ["probe", "--all", "--sandbox"])
    assert probed.exit_code == 0, probed.output

    assert working_of(listed(runner)) == SHIPPED
    table = runner.invoke(main, ["list"]).stdout
    assert table.count("(shipped)") == len(PROVIDERS)
    assert imported_working(data_dir) == shipped
    robocoders = subprocess.run(
        [sys.executable, "-c", "import providers; print(providers.RobocodersAPI.working)"],
        env={**os.environ, "HARNESS_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert robocoders.stdout.strip() == "False"
    assert not (data_dir / "flags.json").exists()
    assert not (data_dir / "harness.db").exists()


def test_the_sandbox_flags_are_listed_with_sandbox_and_labelled(
    runner: CliRunner, data_dir: Path
) -> None:
    assert runner.invoke(main, ["probe", "--all", "--sandbox"]).exit_code == 0

    document = listed(runner, "--sandbox")
    assert document["source"] == "sandbox"
    assert document["note"] == "emulated upstreams, not the real providers"
    assert all(working_of(document).values())
    table = runner.invoke(main, ["list", "--sandbox"], terminal_width=200).stdout
    assert "emulated upstreams, not the real providers" in table
    assert listed(runner)["note"] is None


def test_a_replay_run_keeps_to_its_own_store(runner: CliRunner, data_dir: Path) -> None:
    cassettes = Path(__file__).parents[2] / "cassettes"
    replayed = runner.invoke(main, ["probe", "--all", "--replay", str(cassettes), "--json"])
    assert replayed.exit_code == 0, replayed.output

    assert working_of(listed(runner)) == SHIPPED
    assert all(working_of(listed(runner, "--replay")).values())
    assert (data_dir / "replay" / "harness.db").exists()
    assert not (data_dir / "harness.db").exists()


def test_reports_show_one_source_each_and_say_which(
    runner: CliRunner, data_dir: Path, tmp_path: Path
) -> None:
    assert runner.invoke(main, ["probe", "--all", "--sandbox"]).exit_code == 0

    live_out, sandbox_out = tmp_path / "live", tmp_path / "sandbox"
    assert runner.invoke(main, ["report", "--out", str(live_out)]).exit_code == 0
    assert runner.invoke(main, ["report", "--sandbox", "--out", str(sandbox_out)]).exit_code == 0

    live = json.loads((live_out / "status.json").read_text())
    sandbox = json.loads((sandbox_out / "status.json").read_text())
    assert live["source"] == "live"
    assert live["source_note"] is None
    assert live["summary"]["providers"]["working"] == 0
    assert sandbox["source"] == "sandbox"
    assert sandbox["summary"]["providers"]["working"] == len(PROVIDERS)
    assert "emulated upstreams, not the real providers" in (sandbox_out / "index.html").read_text()
    assert "not the real providers" not in (live_out / "index.html").read_text()
    assert "emulated upstreams" in (sandbox_out / "status.md").read_text()


def test_sandbox_and_replay_refuse_to_mix(runner: CliRunner) -> None:
    for command in ("list", "report"):
        result = runner.invoke(main, [command, "--sandbox", "--replay"])
        assert result.exit_code == 2
        assert "exclude each other" in result.stderr


def test_each_source_has_its_own_data_directory(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, store=str(tmp_path / "elsewhere.db"))

    assert source_dir(settings, Source.LIVE) == tmp_path
    assert source_dir(settings, Source.SANDBOX) == tmp_path / "sandbox"
    assert source_store_url(settings, Source.LIVE) == str(tmp_path / "elsewhere.db")
    # An explicit store is the live one: sandbox and replay never write into it.
    assert source_store_url(settings, Source.SANDBOX) == str(tmp_path / "sandbox" / "harness.db")
    assert source_store_url(settings, Source.REPLAY) == str(tmp_path / "replay" / "harness.db")
    assert source_flags_file(settings, Source.LIVE) == tmp_path / "flags.json"
    assert source_flags_file(settings, Source.REPLAY) == tmp_path / "replay" / "flags.json"


def test_results_of_different_sources_are_never_folded_together() -> None:
    import dataclasses
    from datetime import UTC, datetime

    import pytest

    from harness.pipeline.run import source_of
    from tests.status_samples import passed

    live = passed("AutonomousAI", "llama", datetime(2026, 1, 1, tzinfo=UTC))
    sandbox = dataclasses.replace(live, source=Source.SANDBOX)
    assert source_of([sandbox]) is Source.SANDBOX
    assert source_of([], Source.REPLAY) is Source.REPLAY
    with pytest.raises(ValueError, match="kept apart"):
        source_of([live, sandbox])
    with pytest.raises(ValueError, match="kept apart"):
        source_of([live], Source.SANDBOX)


async def test_a_sandbox_run_says_so_and_leaves_the_loaded_classes_alone(tmp_path: Path) -> None:
    from harness.pipeline.run import plan_targets, probe_and_record
    from harness.store import open_store
    from harness.targets.sources import probe_source

    settings = Settings(data_dir=tmp_path)
    targets = plan_targets(settings)
    url = source_store_url(settings, Source.SANDBOX)
    async with open_store(url) as store, probe_source(settings, sandbox=True) as source:
        summary = await probe_and_record(settings, store, targets, source=source)

    assert summary.source is Source.SANDBOX
    assert all(summary.working.values())
    assert {name: p.working for name, p in PROVIDERS.items()} == SHIPPED
    assert source_flags_file(settings, Source.SANDBOX).exists()
    assert not source_flags_file(settings, Source.LIVE).exists()
