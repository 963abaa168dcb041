"""``harness working``: every kind of working target, fastest first, and the LiteLLM
export of the working endpoints."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from status_samples import failed, passed

from harness.cli.main import main
from harness.policy.status import Thresholds, replay
from harness.result import FailureKind
from harness.settings.config import load_settings
from harness.store import open_store

KEY = "gsk_workingExampleKey0123456789"


@pytest.fixture
def config(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two endpoints, and a store where the groq endpoint, a gpt4free provider and a seed
    provider work (in that order of speed) and the local endpoint is down."""
    monkeypatch.setenv("HARNESS_TEST_GROQ_KEY", KEY)
    path = tmp_path / "harness.toml"
    path.write_text(
        """
[endpoints.groq]
base_url = "https://api.groq.com/openai/v1"
api_key_env = "HARNESS_TEST_GROQ_KEY"
models = ["llama-3.3-70b-versatile"]

[endpoints.local]
base_url = "http://127.0.0.1:9/v1"
models = ["tiny"]
"""
    )
    now = datetime.now(UTC)
    results = []
    for i in range(3):
        at = now - timedelta(minutes=10 - i)
        results.append(passed("groq", "llama-3.3-70b-versatile", at, ttfc_ms=100.0))
        results.append(passed("g4f.Foo", "gpt-4o", at, ttfc_ms=300.0))
        results.append(passed("AutonomousAI", "llama", at, ttfc_ms=900.0))
        results.append(failed("local", "tiny", at, FailureKind.CONNECT, "refused"))

    async def fill() -> None:
        async with open_store(load_settings(path).store_url) as store:
            await store.add_results(results)
            statuses, flips = replay(results, Thresholds())
            await store.save_statuses(list(statuses.values()), flips)

    asyncio.run(fill())
    return path


def test_working_lists_every_kind_fastest_first(runner: CliRunner, config: Path) -> None:
    result = runner.invoke(main, ["--config", str(config), "working", "--json"])
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)["working"]
    assert [(r["provider"], r["kind"]) for r in rows] == [
        ("groq", "endpoint"),
        ("g4f.Foo", "gpt4free"),
        ("AutonomousAI", "seed"),
    ]
    assert rows[0]["protocol"] == "openai"
    assert rows[0]["ttfc_p50_ms"] < rows[1]["ttfc_p50_ms"]


def test_the_litellm_export_lists_working_endpoints_with_key_references(
    runner: CliRunner, config: Path
) -> None:
    result = runner.invoke(main, ["--config", str(config), "working", "--format", "litellm"])
    assert result.exit_code == 0, result.stderr
    (deployment,) = yaml.safe_load(result.stdout)["model_list"]
    assert deployment == {
        "model_name": "llama-3.3-70b-versatile",
        "litellm_params": {
            "model": "openai/llama-3.3-70b-versatile",
            "api_base": "https://api.groq.com/openai/v1",
            "api_key": "os.environ/HARNESS_TEST_GROQ_KEY",
        },
        "model_info": {"id": "groq/llama-3.3-70b-versatile"},
    }
    assert KEY not in result.stdout


def test_json_and_format_exclude_each_other(runner: CliRunner, config: Path) -> None:
    result = runner.invoke(main, ["--config", str(config), "working", "--json", "--format", "json"])
    assert result.exit_code == 2
    assert "exclude each other" in result.stderr
