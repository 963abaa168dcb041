"""``harness mcp`` over stdio, driven by the SDK's own client launching the command."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from mcp import Client, StdioServerParameters
from mcp.client.stdio import get_default_environment
from status_samples import fill_store

from harness.cli.main import main
from harness.store import open_store


async def test_harness_mcp_answers_over_stdio(tmp_path: Path) -> None:
    store_path = tmp_path / "live.db"
    async with open_store(store_path) as store:
        await fill_store(store, datetime.now(UTC))
    server = StdioServerParameters(
        command=sys.executable,
        args=["-m", "harness", "mcp", "--store", str(store_path)],
        cwd=tmp_path,
        env={**get_default_environment(), "HARNESS_DATA_DIR": str(tmp_path / "data")},
    )
    async with Client(server) as client:
        tools = {t.name for t in (await client.list_tools()).tools}
        result = await client.call_tool("working_now", {"provider": "AutonomousAI"})
    assert "working_now" in tools
    assert not result.is_error
    working = (result.structured_content or {})["working"]
    assert [(w["provider"], w["model"]) for w in working] == [("AutonomousAI", "llama")]


def test_sandbox_and_replay_exclude_each_other(runner: CliRunner) -> None:
    result = runner.invoke(main, ["mcp", "--sandbox", "--replay"])
    assert result.exit_code == 2
    assert "--sandbox and --replay exclude each other" in result.stderr
