"""Objectives through the pipeline against the emulators: a target slowed past its own
objective (``first_chunk_delay``) turns degraded after ``down_after`` runs while the
others stay up; a regression is judged against the target's stored 7-day p50."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from harness.emulator import Emulator, Fault, FaultSpec
from harness.pipeline.run import RunSummary, plan_targets, probe_and_record, record
from harness.policy.status import State
from harness.probing.runner import Target
from harness.result import ProbeResult, Source
from harness.settings.config import Settings
from harness.store import Store, open_store
from providers.upstream import redirect

SLOW = FaultSpec(Fault.first_chunk_delay, first_chunk_delay=0.3)


def config(tmp_path: Path, objectives: str) -> Settings:
    data = tomllib.loads(objectives)
    # One vantage for the runs and the history, so the history is that vantage's own.
    return Settings.model_validate({**data, "data_dir": str(tmp_path / "data"), "vantage": "v"})


async def run(
    settings: Settings, store: Store, emulator: Emulator, targets: list[Target]
) -> RunSummary:
    with redirect(emulator.url):
        return await probe_and_record(settings, store, targets, source=Source.SANDBOX)


def states(summary: RunSummary) -> dict[str, State]:
    return {f"{p}/{m}": s.state for (p, m), s in summary.statuses.items()}


async def test_a_slowed_target_crosses_its_objective_while_the_others_stay_up(
    emulator: Emulator, tmp_path: Path
) -> None:
    settings = config(
        tmp_path,
        """
        [objectives]
        max_ttfc = "5s"
        [objectives."CodeLinkAva/gpt-3.5-turbo"]
        max_ttfc = "150ms"
        """,
    )
    targets = plan_targets(settings, ["AutonomousAI"], "llama") + plan_targets(
        settings, ["CodeLinkAva"]
    )
    slowed = "CodeLinkAva/gpt-3.5-turbo"
    async with open_store(settings.store_url) as store:
        shown = [states(await run(settings, store, emulator, targets)) for _ in range(2)]
        emulator.set_fault("CodeLinkAva", SLOW)
        shown += [states(await run(settings, store, emulator, targets)) for _ in range(3)]
        last = await run(settings, store, emulator, targets)
        emulator.set_fault("CodeLinkAva", FaultSpec())
        shown += [states(await run(settings, store, emulator, targets)) for _ in range(2)]

    assert [s[slowed] for s in shown] == [State.UP] * 4 + [State.DEGRADED] * 2 + [State.UP]
    assert all(s["AutonomousAI/llama"] is State.UP for s in shown)
    status = last.statuses[("CodeLinkAva", "gpt-3.5-turbo")]
    assert status.missed == ("max_ttfc",)
    assert re.fullmatch(r"3 slow passes in a row: ttfc 0\.\d+ s > 0\.15 s", status.reason)
    assert last.working == {"AutonomousAI": True, "CodeLinkAva": True}


def history(at: datetime, n: int, ttfc_ms: float) -> list[ProbeResult]:
    return [
        ProbeResult(
            "CodeLinkAva",
            "gpt-3.5-turbo",
            "ping",
            at - timedelta(hours=n - i),
            ok=True,
            ttfc_ms=ttfc_ms,
            total_ms=ttfc_ms + 10,
            source=Source.SANDBOX,
            vantage="v",
        )
        for i in range(n)
    ]


@pytest.mark.parametrize(("passes", "flagged"), [(19, False), (20, True)])
async def test_a_steady_regression_is_flagged_once_history_suffices(
    emulator: Emulator, tmp_path: Path, passes: int, flagged: bool
) -> None:
    settings = config(
        tmp_path,
        """
        [objectives."CodeLinkAva/gpt-3.5-turbo"]
        regression = 3
        """,
    )
    targets = plan_targets(settings, ["CodeLinkAva"], "gpt-3.5-turbo")
    async with open_store(settings.store_url) as store:
        await record(settings, store, history(datetime.now(UTC), passes, ttfc_ms=20.0))
        emulator.set_fault("CodeLinkAva", SLOW)
        shown = [await run(settings, store, emulator, targets) for _ in range(3)]

    final = shown[-1].statuses[("CodeLinkAva", "gpt-3.5-turbo")]
    if not flagged:
        assert final.state is State.UP
        assert shown[-1].baselines[("CodeLinkAva", "gpt-3.5-turbo")].passes == passes + 2
        return
    assert [s.statuses[("CodeLinkAva", "gpt-3.5-turbo")].state for s in shown] == [
        State.UP,
        State.UP,
        State.DEGRADED,
    ]
    assert final.missed == ("regression",)
    assert re.search(r"ttfc 0\.\d+ s = \d+\.\dx its 7-day p50 of 0\.02 s", final.reason)
