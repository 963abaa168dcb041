"""Anthropic and Gemini endpoints in harness.toml are listed, probed (with discovery,
keys from the environment, ttft and reasoning tokens) and reported like the others."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from endpoint_servers import in_thread

from harness.cli.main import main
from harness.emulator import Emulator, Fault, FaultSpec

ANTHROPIC_KEY = "sk-ant-api03-exampleKey0123456789"
GEMINI_KEY = "AIzaSyExampleKey0123456789abcdefghij"


def write_config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "harness.toml"
    path.write_text(
        f"""
[endpoints.claude]
protocol = "anthropic"
base_url = "https://api.anthropic.com/v1"
api_key_env = "HARNESS_TEST_ANTHROPIC_KEY"
models = "discover"

[endpoints.gemini]
protocol = "gemini"
base_url = "https://generativelanguage.googleapis.com/v1beta"
api_key_env = "HARNESS_TEST_GEMINI_KEY"
models = "discover"
include_thoughts = true

[objectives.claude]
max_ttft = "20s"
{extra}
"""
    )
    return path


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_TEST_ANTHROPIC_KEY", ANTHROPIC_KEY)
    monkeypatch.setenv("HARNESS_TEST_GEMINI_KEY", GEMINI_KEY)


def run(runner: CliRunner, config: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(main, ["--config", str(config), *args])
    return result.exit_code, result.stdout, result.stderr


def test_native_endpoints_are_probed_in_the_sandbox_then_reported(
    runner: CliRunner, tmp_path: Path
) -> None:
    config = write_config(tmp_path)
    code, out, err = run(runner, config, "probe", "--all", "--sandbox", "--json")
    assert code == 0, err
    results = [r for r in json.loads(out)["results"] if r["provider"] in ("claude", "gemini")]
    assert {(r["provider"], r["model"]) for r in results} == {
        ("claude", "emulated-claude"),
        ("claude", "emulated-claude-thinking"),
        ("gemini", "emulated-gemini"),
        ("gemini", "emulated-gemini-thinking"),
    }
    assert all(r["ok"] for r in results), results
    assert all(r["ttft_ms"] is not None for r in results)
    thinking = {r["model"]: r for r in results}["emulated-gemini-thinking"]
    assert thinking["reasoning_tokens"] > 0
    assert ANTHROPIC_KEY not in out
    assert GEMINI_KEY not in out
    out_dir = tmp_path / "reports"
    code, _, err = run(runner, config, "report", "--sandbox", "--out", str(out_dir))
    assert code == 0, err
    status = json.loads((out_dir / "status.json").read_text())
    model = status["providers"]["gemini"]["models"]["emulated-gemini-thinking"]
    assert model["first_token"]["thinks"] is True
    assert model["history"][-1]["reasoning_tokens"] > 0
    claude = status["providers"]["claude"]["models"]["emulated-claude"]
    assert claude["objectives"]["max_ttft_ms"] == 20000
    page = (out_dir / "index.html").read_text()
    assert "ttft p50" in page


@pytest.mark.parametrize(
    ("fault", "kind"), [(Fault.overloaded, "overloaded"), (Fault.safety_block, "content_filter")]
)
def test_a_faulted_endpoint_fails_with_the_new_kinds(
    runner: CliRunner, tmp_path: Path, fault: Fault, kind: str
) -> None:
    faults = {"claude": FaultSpec(fault)}
    for url in in_thread(lambda: Emulator(faults=faults, endpoints=["claude"]).app):
        path = tmp_path / "harness.toml"
        path.write_text(
            f'[endpoints.claude]\nprotocol = "anthropic"\nbase_url = "{url}/claude/v1"\n'
            'models = ["emulated-claude"]\n'
        )
        code, out, _ = run(runner, path, "probe", "--json", "--provider", "claude")
    results = json.loads(out)["results"]
    assert [r["kind"] for r in results] == [kind]
    assert code != 0


def test_include_thoughts_belongs_to_gemini(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "harness.toml"
    path.write_text(
        '[endpoints.claude]\nprotocol = "anthropic"\nbase_url = "https://x.example/v1"\n'
        "include_thoughts = true\n"
    )
    code, _, err = run(runner, path, "list")
    assert code == 2
    assert "include_thoughts" in err


def test_an_unknown_protocol_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "harness.toml"
    path.write_text('[endpoints.x]\nprotocol = "grpc"\nbase_url = "https://x.example/v1"\n')
    code, _, err = run(runner, path, "list")
    assert code == 2
    assert "protocol" in err
