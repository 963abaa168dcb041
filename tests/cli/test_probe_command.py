"""`harness probe`: exit codes, the JSON document, messages for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import harness.probing.connectivity
from harness.cli.main import main
from harness.emulator import Emulator, Fault, FaultSpec


def probe_json(runner: CliRunner, *args: str) -> tuple[int, dict[str, object]]:
    result = runner.invoke(main, ["probe", *args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_every_provider_and_model_passes_in_the_sandbox(runner: CliRunner) -> None:
    result = runner.invoke(main, ["probe", "--all", "--sandbox"])
    assert result.exit_code == 0, result.output
    assert "10 passed, 0 failed, 0 inconclusive" in result.stdout


def test_json_output_is_exactly_one_document(runner: CliRunner) -> None:
    code, document = probe_json(runner, "--all", "--sandbox", "--prompt", "all")
    assert code == 0
    assert set(document) == {"results", "summary"}
    results = document["results"]
    assert isinstance(results, list)
    assert {r["prompt"] for r in results} == {"ping", "math", "system", "history"}
    assert all(r["source"] == "sandbox" and r["ok"] for r in results)
    summary = document["summary"]
    assert isinstance(summary, dict)
    assert summary["passed"] == len(results)
    assert summary["exit_code"] == 0


def test_one_provider_and_model_can_be_chosen_by_alias(runner: CliRunner) -> None:
    code, document = probe_json(runner, "-p", "autonomousai", "-m", "hermes-3", "--sandbox")
    assert code == 0
    assert [(r["provider"], r["model"]) for r in document["results"]] == [  # type: ignore[union-attr,index]
        ("AutonomousAI", "hermes")
    ]


def test_concurrency_is_recorded_on_every_result(runner: CliRunner) -> None:
    _, document = probe_json(runner, "--all", "--sandbox", "--concurrency", "3")
    assert {r["concurrency"] for r in document["results"]} == {3}  # type: ignore[union-attr,index]


def test_a_failing_probe_exits_1(runner: CliRunner, emulator_thread: Emulator) -> None:
    emulator_thread.set_fault("CodeLinkAva", FaultSpec(Fault.wrong_answer))
    code, document = probe_json(runner, "-p", "CodeLinkAva", "--upstream", emulator_thread.url)
    assert code == 1
    assert document["results"][0]["kind"] == "wrong_answer"  # type: ignore[index]


def test_the_timeout_flag_sets_the_total_deadline(
    runner: CliRunner, emulator_thread: Emulator
) -> None:
    emulator_thread.set_fault("CodeLinkAva", FaultSpec(Fault.hang_mid_stream))
    code, document = probe_json(
        runner, "-p", "CodeLinkAva", "--upstream", emulator_thread.url, "--timeout", "0.5"
    )
    assert code == 1
    assert document["results"][0]["kind"] == "timeout_total"  # type: ignore[index]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "Nope"], "unknown provider 'Nope'"),
        (["-p", "AutonomousAI", "-m", "gpt-9"], "Model is not supported: gpt-9"),
        (["--all", "--prompt", "poem"], "unknown prompt(s) ['poem']"),
        (["--all", "-p", "AutonomousAI"], "give either --all or -p NAME"),
        ([], "give either --all or -p NAME"),
        (["--all", "-m", "llama"], "-m/--model needs exactly one -p/--provider"),
        (["--all", "--upstream", "ftp://x"], "upstream base must be an http(s) URL"),
        (["--all", "--sandbox", "--upstream", "http://127.0.0.1:1"], "exclude each other"),
        (["--all", "--concurrency", "0"], "Invalid value for '--concurrency'"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(
    runner: CliRunner, args: list[str], message: str
) -> None:
    result = runner.invoke(main, ["probe", *args])
    assert result.exit_code == 2
    assert message in result.stderr


def test_no_store_leaves_no_data_behind(runner: CliRunner, data_dir: Path) -> None:
    result = runner.invoke(main, ["probe", "--all", "--sandbox", "--no-store"])
    assert result.exit_code == 0
    assert not data_dir.exists()


def test_an_offline_host_makes_the_run_inconclusive(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def nothing_resolves(name: str) -> bool:
        return False

    monkeypatch.setattr(harness.probing.connectivity, "resolves", nothing_resolves)
    result = runner.invoke(main, ["probe", "--all"])
    assert result.exit_code == 1
    assert "This host appears offline" in result.stdout
    assert "0 passed, 0 failed, 10 inconclusive" in result.stdout


def test_an_offline_run_flips_no_flag(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, data_dir: Path, emulator_thread: Emulator
) -> None:
    # A live run (through an upstream mirror) sets the live flags first.
    assert runner.invoke(main, ["probe", "--all", "--upstream", emulator_thread.url]).exit_code == 0
    flags_before = json.loads((data_dir / "flags.json").read_text())["providers"]

    async def nothing_resolves(name: str) -> bool:
        return False

    monkeypatch.setattr(harness.probing.connectivity, "resolves", nothing_resolves)
    for _ in range(4):
        code, document = probe_json(runner, "--all")
        assert code == 1
        assert document["summary"]["offline"] is True  # type: ignore[index]
        assert document["summary"]["flips"] == []  # type: ignore[index]
    assert json.loads((data_dir / "flags.json").read_text())["providers"] == flags_before
