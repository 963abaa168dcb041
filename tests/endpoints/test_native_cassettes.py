"""``harness record`` / ``--replay`` / ``record --check`` for Anthropic and Gemini
endpoints: recorded from the emulator, keys scrubbed, replayed offline with chunk timing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from harness.cassettes.cassette import load
from harness.cassettes.drift import shape_of
from harness.cli.main import main

ANTHROPIC_KEY = "sk-ant-api03-recordedKey0123456789abcdef"
GEMINI_KEY = "AIzaSyRecordedKey0123456789abcdefghijk"
REAL_URLS = {
    "claude": "https://api.anthropic.com/v1/messages",
    "gemini": (
        "https://generativelanguage.googleapis.com/v1beta/models/"
        "emulated-gemini-thinking:streamGenerateContent?alt=sse"
    ),
}
KEY_HEADERS = {"claude": "x-api-key", "gemini": "x-goog-api-key"}


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HARNESS_TEST_ANTHROPIC_KEY", ANTHROPIC_KEY)
    monkeypatch.setenv("HARNESS_TEST_GEMINI_KEY", GEMINI_KEY)
    path = tmp_path / "harness.toml"
    path.write_text(
        """
[endpoints.claude]
protocol = "anthropic"
base_url = "https://api.anthropic.com/v1"
api_key_env = "HARNESS_TEST_ANTHROPIC_KEY"
models = ["emulated-claude-thinking"]

[endpoints.gemini]
protocol = "gemini"
base_url = "https://generativelanguage.googleapis.com/v1beta"
api_key_env = "HARNESS_TEST_GEMINI_KEY"
models = ["emulated-gemini-thinking"]
include_thoughts = true
"""
    )
    return path


@pytest.fixture
def recorded(runner: CliRunner, config: Path, tmp_path: Path) -> Path:
    out = tmp_path / "cassettes"
    for name in ("claude", "gemini"):
        args = ["--config", str(config), "record", "--sandbox", "-p", name, "--out", str(out)]
        result = runner.invoke(main, [*args, "--prompt", "ping"])
        assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("name", ["claude", "gemini"])
def test_a_recording_holds_the_real_url_and_no_key(recorded: Path, name: str) -> None:
    (file,) = sorted((recorded / name).glob("*.yaml"))
    text = file.read_text()
    assert ANTHROPIC_KEY not in text
    assert GEMINI_KEY not in text
    (interaction,) = yaml.safe_load(text)["interactions"]
    assert interaction["request"]["uri"] == REAL_URLS[name]
    headers = {k.lower(): v for k, v in interaction["request"]["headers"].items()}
    assert headers[KEY_HEADERS[name]] == ["scrubbed-token-1"]
    assert len(interaction["response"]["chunks"]) >= 2


def test_the_recordings_know_each_protocols_framing(recorded: Path) -> None:
    claude = load(next((recorded / "claude").glob("*.yaml")))
    gemini = load(next((recorded / "gemini").glob("*.yaml")))
    assert shape_of(claude.interactions[0]).framing == "sse+events"
    assert shape_of(gemini.interactions[0]).framing == "sse"
    assert "usageMetadata.thoughtsTokenCount" in shape_of(gemini.interactions[0]).keys
    assert "delta.thinking" in shape_of(claude.interactions[0]).keys


def test_the_recordings_replay_offline_with_their_timing(
    runner: CliRunner, config: Path, recorded: Path
) -> None:
    args = ["--config", str(config), "probe", "--all", "--replay", str(recorded), "--json"]
    replay = runner.invoke(main, args)
    assert replay.exit_code == 0, replay.output
    results = json.loads(replay.stdout)["results"]
    assert {(r["provider"], r["source"], r["ok"]) for r in results} == {
        ("claude", "replay", True),
        ("gemini", "replay", True),
    }
    for result in results:
        assert result["chunks"] >= 1
        assert result["ttft_ms"] is not None
        assert result["ttft_ms"] <= result["ttfc_ms"]
    assert {r["provider"]: r["reasoning_tokens"] for r in results}["gemini"] > 0


def test_the_check_finds_both_protocols_unchanged(
    runner: CliRunner, config: Path, recorded: Path
) -> None:
    args = ["--config", str(config), "record", "--check", "--sandbox", "--out", str(recorded)]
    result = runner.invoke(main, [*args, "-p", "claude", "-p", "gemini", "--prompt", "ping"])
    assert result.exit_code == 0, result.output
    assert result.output.count("unchanged") == 2
