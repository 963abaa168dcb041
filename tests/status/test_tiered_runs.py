"""Runs of one tier hold only some of a target's prompts: stored one run at a time, they
give the state the status policy gives the whole stream of results (every result counts,
whichever run brought it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from status_samples import failed, passed

from harness.pipeline.run import record, thresholds_of
from harness.policy.status import State, replay
from harness.result import FailureKind, ProbeResult, Source
from harness.settings.config import Settings
from harness.store import open_store
from harness.store.base import Store

TARGET = ("AutonomousAI", "llama")
START = datetime.now(UTC) - timedelta(hours=1)
MINUTE = timedelta(minutes=1)


def ping(minute: float) -> ProbeResult:
    """The ping tier's pass, ``minute`` minutes in."""
    return replace(passed(*TARGET, START + MINUTE * minute), source=Source.SANDBOX)


def suite_failure(minute: float) -> ProbeResult:
    """The hourly suite's ``math`` answered wrong, ``minute`` minutes in."""
    at = START + MINUTE * minute
    result = failed(*TARGET, at, FailureKind.WRONG_ANSWER, "expected 105", prompt="math")
    return replace(result, source=Source.SANDBOX)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.model_validate(
        {
            "data_dir": str(tmp_path / "data"),
            "prompts": ["ping"],
            "serve": {"interval": 60, "tiers": {"suite": {"prompts": ["math"], "interval": "1h"}}},
        }
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with open_store(tmp_path / "tiers.db") as opened:
        yield opened


async def test_a_failing_hourly_suite_between_passing_pings_shows_what_the_policy_says(
    settings: Settings, store: Store
) -> None:
    runs = [[ping(0)], [ping(1)], [suite_failure(1.5)], [ping(2)], [ping(3)]]
    shown: list[State] = []
    for run in runs:
        await record(settings, store, run, source=Source.SANDBOX)
        shown.append((await store.statuses())[TARGET].state)

    expected, _ = replay([r for run in runs for r in run], thresholds_of(settings))
    assert shown[-1] is expected[TARGET].state
    # One wrong answer of the suite degrades the target; the pings that follow bring it
    # back after up_after passes; a lone suite failure never takes it down.
    assert shown == [State.UP, State.UP, State.DEGRADED, State.DEGRADED, State.UP]


async def test_a_suite_failing_every_hour_never_takes_a_pinging_target_down(
    settings: Settings, store: Store
) -> None:
    runs = [[ping(m)] for m in range(0, 4)]
    for hour in range(3):
        runs.append([suite_failure(4 + hour * 5)])
        runs += [[ping(4 + hour * 5 + m)] for m in (1, 2, 3)]
    for run in runs:
        await record(settings, store, run, source=Source.SANDBOX)

    status = (await store.statuses())[TARGET]
    assert status.state is State.UP
    assert status.fail_streak == 0
