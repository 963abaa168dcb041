"""A recorded run reports and writes its own providers: their statuses, working flags and
entries of the flags file, every model of theirs counted, every other provider's entry
kept as it was."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from status_samples import failed, passed

from harness.pipeline.run import record
from harness.policy.status import State
from harness.result import FailureKind, ProbeResult, Source
from harness.settings.config import Settings
from harness.store import open_store
from harness.store.base import Store
from harness.targets.flags import read_model_states
from harness.targets.sources import source_flags_file
from providers.flags import read_flags

START = datetime.now(UTC) - timedelta(hours=1)


def sandboxed(results: list[ProbeResult]) -> list[ProbeResult]:
    return [replace(r, source=Source.SANDBOX) for r in results]


def passes(provider: str, models: list[str], minute: int) -> list[ProbeResult]:
    at = START + timedelta(minutes=minute)
    return sandboxed([passed(provider, m, at) for m in models])


def failures(provider: str, models: list[str], minute: int) -> list[ProbeResult]:
    at = START + timedelta(minutes=minute)
    return sandboxed([failed(provider, m, at, FailureKind.HTTP_SERVER, "502") for m in models])


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.model_validate(
        {"data_dir": str(tmp_path / "data"), "thresholds": {"down_after": 1}}
    )


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[Store]:
    async with open_store(settings.store_url) as opened:
        yield opened


async def test_a_providers_run_reports_its_own_statuses_and_flags(
    settings: Settings, store: Store
) -> None:
    await record(settings, store, passes("AutonomousAI", ["llama"], 0))
    summary = await record(settings, store, failures("CodeLinkAva", ["gpt-3.5-turbo"], 1))
    assert list(summary.statuses) == [("CodeLinkAva", "gpt-3.5-turbo")]
    assert summary.working == {"CodeLinkAva": False}


async def test_a_providers_run_keeps_the_other_providers_entries_of_the_flags_file(
    settings: Settings, store: Store
) -> None:
    path = source_flags_file(settings, Source.SANDBOX)
    await record(settings, store, passes("AutonomousAI", ["llama"], 0))
    await record(settings, store, passes("CodeLinkAva", ["gpt-3.5-turbo"], 1))
    await record(settings, store, failures("CodeLinkAva", ["gpt-3.5-turbo"], 2))
    assert read_flags(path) == {"AutonomousAI": True, "CodeLinkAva": False}
    assert read_model_states(path) == {
        "AutonomousAI": {"llama": "up"},
        "CodeLinkAva": {"gpt-3.5-turbo": "down"},
    }


async def test_a_run_of_one_model_counts_every_model_of_its_provider(
    settings: Settings, store: Store
) -> None:
    await record(settings, store, passes("AutonomousAI", ["llama", "hermes"], 0))
    summary = await record(settings, store, failures("AutonomousAI", ["llama"], 1))
    states = {model: s.state for (_, model), s in summary.statuses.items()}
    assert states == {"llama": State.DOWN, "hermes": State.UP}
    assert summary.working == {"AutonomousAI": True}
    path = source_flags_file(settings, Source.SANDBOX)
    assert read_model_states(path) == {"AutonomousAI": {"llama": "down", "hermes": "up"}}
