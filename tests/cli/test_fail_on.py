"""`harness probe --fail-on`: the CI gate, against emulators with a target slowed past
its objective (``first_chunk_delay``) while the others stay within theirs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup, Tag
from click.testing import CliRunner

import harness.probing.connectivity
from harness.cli.main import main
from harness.emulator import Emulator, Fault, FaultSpec

OBJECTIVES = """
[objectives]
max_ttfc = "5s"
[objectives.CodeLinkAva]
max_ttfc = "150ms"
"""

SLOW = FaultSpec(Fault.first_chunk_delay, first_chunk_delay=0.4)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "harness.toml"
    path.write_text(OBJECTIVES, encoding="utf-8")
    return path


def probe(runner: CliRunner, config: Path, url: str, *args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(
        main, ["--config", str(config), "probe", "--upstream", url, "--json", *args]
    )
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def test_a_slowed_target_is_degraded_with_its_reason_while_others_stay_up(
    runner: CliRunner, config: Path, emulator_thread: Emulator, tmp_path: Path
) -> None:
    emulator_thread.set_fault("CodeLinkAva", SLOW)
    code, document = probe(runner, config, emulator_thread.url, "--all", "--fail-on", "degraded")
    assert code == 1
    summary = document["summary"]
    slowed = {t: s for t, s in summary["states"].items() if t.startswith("CodeLinkAva/")}
    others = {t: s for t, s in summary["states"].items() if not t.startswith("CodeLinkAva/")}
    assert slowed
    assert set(slowed.values()) == {"degraded"}
    assert set(others.values()) == {"up"}
    for target in slowed:
        assert summary["reasons"][target].startswith("first result: passed, slow: ttfc 0.")
        assert summary["reasons"][target].endswith(" > 0.15 s")
        assert summary["objectives"][target]["max_ttfc_ms"] == 150.0
    misses = summary["misses"]
    assert {m["provider"] for m in misses} == {"CodeLinkAva"}
    assert {m["objective"] for m in misses} == {"max_ttfc"}
    assert len(misses) == sum(r["provider"] == "CodeLinkAva" for r in document["results"])
    assert summary["exit_code"] == 1
    assert summary["fail_on"] == "degraded"

    out = tmp_path / "report"
    report = runner.invoke(main, ["--config", str(config), "report", "--out", str(out)])
    assert report.exit_code == 0, report.output
    soup = BeautifulSoup((out / "index.html").read_text(encoding="utf-8"), "html.parser")
    holder = soup.find(attrs={"data-provider": "CodeLinkAva"})
    assert isinstance(holder, Tag)
    for card in holder.select("article[data-model]"):
        assert "degraded" in card["class"]
        reason = card.select_one(".reason")
        assert reason is not None
        assert reason.get_text().endswith(" > 0.15 s")
        (missed,) = card.select(".objective.missed")
        assert missed["data-objective"] == "max_ttfc"


@pytest.mark.parametrize(
    ("fail_on", "slowed", "expected"),
    [
        ("degraded", False, 0),
        ("degraded", True, 1),
        ("down", True, 0),
        ("failed", True, 0),
        ("never", True, 0),
    ],
)
def test_each_gate_against_a_slowed_target(
    runner: CliRunner,
    config: Path,
    emulator_thread: Emulator,
    fail_on: str,
    slowed: bool,
    expected: int,
) -> None:
    if slowed:
        emulator_thread.set_fault("CodeLinkAva", SLOW)
    args = ("-p", "CodeLinkAva", "-p", "AutonomousAI", "--fail-on", fail_on)
    code, document = probe(runner, config, emulator_thread.url, *args)
    assert code == expected
    assert document["summary"]["exit_code"] == expected


@pytest.mark.parametrize(
    ("fail_on", "expected"), [("down", 1), ("degraded", 1), ("failed", 1), ("never", 0)]
)
def test_each_gate_against_a_failing_target(
    runner: CliRunner, config: Path, emulator_thread: Emulator, fail_on: str, expected: int
) -> None:
    emulator_thread.set_fault("CodeLinkAva", FaultSpec(Fault.http_500))
    code, _ = probe(runner, config, emulator_thread.url, "-p", "CodeLinkAva", "--fail-on", fail_on)
    assert code == expected


def test_degraded_counts_a_miss_that_hysteresis_has_not_shown_yet(
    runner: CliRunner, config: Path, emulator_thread: Emulator
) -> None:
    url = emulator_thread.url
    for _ in range(2):
        assert probe(runner, config, url, "-p", "CodeLinkAva", "--fail-on", "degraded")[0] == 0
    emulator_thread.set_fault("CodeLinkAva", SLOW)
    code, document = probe(runner, config, url, "-p", "CodeLinkAva", "--fail-on", "degraded")
    assert set(document["summary"]["states"].values()) == {"up"}
    assert code == 1
    code, _ = probe(runner, config, url, "-p", "CodeLinkAva", "--fail-on", "down")
    assert code == 0


def test_the_gate_works_without_a_store(
    runner: CliRunner, config: Path, emulator_thread: Emulator, data_dir: Path
) -> None:
    emulator_thread.set_fault("CodeLinkAva", FaultSpec(Fault.http_500))
    url = emulator_thread.url
    args = ("-p", "CodeLinkAva", "--no-store")
    assert probe(runner, config, url, *args, "--fail-on", "down")[0] == 1
    emulator_thread.set_fault("CodeLinkAva", SLOW)
    assert probe(runner, config, url, *args, "--fail-on", "down")[0] == 0
    assert probe(runner, config, url, *args, "--fail-on", "degraded")[0] == 1
    assert not data_dir.exists()


def test_nothing_measured_fails_every_gate_but_never(
    runner: CliRunner, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def nothing_resolves(name: str) -> bool:
        return False

    monkeypatch.setattr(harness.probing.connectivity, "resolves", nothing_resolves)
    for fail_on, expected in (("down", 1), ("degraded", 1), ("failed", 1), ("never", 0)):
        result = runner.invoke(
            main, ["--config", str(config), "probe", "-p", "CodeLinkAva", "--fail-on", fail_on]
        )
        assert result.exit_code == expected, (fail_on, result.output)


def test_an_unknown_gate_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(main, ["probe", "--all", "--fail-on", "sometimes"])
    assert result.exit_code == 2
    assert "Invalid value for '--fail-on'" in result.stderr
