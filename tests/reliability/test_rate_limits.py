"""The measured sequence of issue 10 against the emulators, run by run through the store
and the flags file: one 429 between passes never turns a provider's flag off; three
rate limits in a row make it throttled."""

from __future__ import annotations

from pathlib import Path

from harness.emulator import Emulator, Fault, FaultSpec
from harness.pipeline.run import plan_targets, probe_and_record
from harness.policy.status import State
from harness.result import FailureKind, Source
from harness.settings.config import Settings
from harness.store import open_store
from harness.targets.flags import flags_file
from providers import PROVIDERS
from providers.flags import read_flags
from providers.upstream import redirect

FAULTS = {
    "pass": FaultSpec(),
    "429": FaultSpec(Fault.http_429, retry_after=1),
    "500": FaultSpec(Fault.http_500),
}


async def test_one_429_between_passes_never_turns_the_flag_off(
    emulator: Emulator, tmp_path: Path
) -> None:
    # A live run redirected to the emulator: only live runs write the flags providers read.
    settings = Settings.model_validate(
        {"data_dir": tmp_path / "data", "connectivity": {"enabled": False}}
    )
    targets = plan_targets(settings, ["AutonomousAI"], "llama")
    script = ["pass", "pass", "429", "pass", "500", "pass", "pass", "429", "429", "429"]
    seen = []
    async with open_store(settings.store_url) as store:
        for step in script:
            emulator.set_fault("AutonomousAI", FAULTS[step])
            with redirect(emulator.url):
                summary = await probe_and_record(settings, store, targets, source=Source.LIVE)
            status = summary.statuses[("AutonomousAI", "llama")]
            flag = read_flags(flags_file(settings.data_dir))["AutonomousAI"]
            seen.append((status.state, flag, PROVIDERS["AutonomousAI"].working))
            if step == "429":
                assert summary.results[0].kind is FailureKind.RATE_LIMITED

    up, degraded, throttled = State.UP, State.DEGRADED, State.THROTTLED
    assert [state for state, _, _ in seen] == [
        up, up, degraded, degraded, degraded, degraded, up, degraded, degraded, throttled,
    ]  # fmt: skip
    assert [flag for _, flag, _ in seen] == [True] * 9 + [False]
    assert [working for _, _, working in seen] == [True] * 9 + [False]
    assert status.reason == "3 rate limits in a row (429)"
