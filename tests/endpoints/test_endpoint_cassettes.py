"""``harness record`` / ``--replay`` for endpoints: real URLs, scrubbed keys, offline replay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from harness.cli.main import main

KEY = "gsk_sandboxRecordedKey987654321"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HARNESS_TEST_GROQ_KEY", KEY)
    path = tmp_path / "harness.toml"
    path.write_text(
        """
[endpoints.groq]
base_url = "https://api.groq.com/openai/v1"
api_key_env = "HARNESS_TEST_GROQ_KEY"
models = ["llama-3.3-70b-versatile"]
"""
    )
    return path


def test_a_sandbox_recording_holds_the_real_url_and_replays(
    runner: CliRunner, config: Path, tmp_path: Path
) -> None:
    out = tmp_path / "cassettes"
    args = ["--config", str(config), "record", "--sandbox", "-p", "groq", "--out", str(out)]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    files = sorted(out.rglob("*.yaml"))
    assert {f.parent.name for f in files} == {"groq"}
    assert len(files) == 4  # every canned prompt applies to an endpoint
    for file in files:
        text = file.read_text()
        assert KEY not in text
        document = yaml.safe_load(text)
        interactions = document["interactions"]
        assert [i["request"]["uri"] for i in interactions] == [
            "https://api.groq.com/openai/v1/chat/completions"
        ]
        headers = {k.lower(): v for k, v in interactions[0]["request"]["headers"].items()}
        assert headers["authorization"] == ["Bearer scrubbed-token-1"]

    replay = runner.invoke(
        main, ["--config", str(config), "probe", "--all", "--replay", str(out), "--json"]
    )
    assert replay.exit_code == 0, replay.output
    results = json.loads(replay.stdout)["results"]
    assert {(r["provider"], r["source"], r["ok"]) for r in results} == {("groq", "replay", True)}
    assert all(r["completion_tokens"] for r in results)
