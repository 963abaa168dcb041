"""Scripted up/down sequences through the pipeline: statuses, flips and the flags file.

tests/status checks the policy (``status.step``) on its own. Here the results go the
way a run stores them, batch by batch through ``pipeline.record`` into a SQLite store
and the flags file, and must come out exactly as the policy says when it replays every
result from the start; a provider that keeps alternating must end up shown as
flapping, with its flag still, and the page must say so.
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bs4 import BeautifulSoup
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.emulator import Emulator, Fault, FaultSpec
from harness.pipeline.run import plan_targets, probe_and_record, record, thresholds_of
from harness.policy.status import State, provider_working, replay
from harness.report import write_report
from harness.result import FailureKind, ProbeResult, Source
from harness.settings.config import Settings
from harness.store import open_store
from harness.targets.flags import flags_file, read_model_states
from providers import PROVIDERS
from providers.flags import read_flags
from providers.upstream import redirect

TARGETS = [("AutonomousAI", "llama"), ("AutonomousAI", "hermes"), ("CodeLinkAva", "gpt-3.5-turbo")]
OUTCOMES = ("pass", "slow", "fail", "rate_limited", "offline")
START = datetime.now(UTC) - timedelta(days=2)


def result(provider: str, model: str, outcome: str, at: datetime) -> ProbeResult:
    kinds = {
        "fail": FailureKind.HTTP_SERVER,
        "rate_limited": FailureKind.RATE_LIMITED,
        "offline": FailureKind.HARNESS_OFFLINE,
    }
    ok = outcome in ("pass", "slow")
    return ProbeResult(
        provider=provider,
        model=model,
        prompt="ping",
        started_at=at,
        ok=ok,
        kind=kinds.get(outcome),
        ttfc_ms=20_000.0 if outcome == "slow" else 50.0 if ok else None,
        error=None if ok else f"scripted {outcome}",
    )


thresholds = st.fixed_dictionaries(
    {
        "down_after": st.integers(1, 4),
        "up_after": st.integers(1, 3),
        "flap_changes": st.integers(2, 5),
        "flap_window_s": st.sampled_from([600.0, 3600.0]),
        "flap_calm_s": st.sampled_from([300.0, 600.0]),
    }
)
runs = st.lists(
    st.tuples(
        st.integers(1, 900),  # seconds since the previous run
        st.dictionaries(st.sampled_from(TARGETS), st.sampled_from(OUTCOMES), min_size=1),
    ),
    min_size=1,
    max_size=25,
)


def scripted_results(
    script: list[tuple[int, dict[tuple[str, str], str]]],
) -> list[list[ProbeResult]]:
    batches, at = [], START
    for gap, outcomes in script:
        at += timedelta(seconds=gap)
        batches.append(
            [
                result(p, m, outcome, at + timedelta(microseconds=i))
                for i, ((p, m), outcome) in enumerate(sorted(outcomes.items()))
            ]
        )
    return batches


async def check_every_run(config: Settings, batches: list[list[ProbeResult]]) -> None:
    """Record each batch; after each, the store and flags file equal the policy's replay."""
    th = thresholds_of(config)
    seen: list[ProbeResult] = []
    async with open_store(config.store_url) as store:
        for batch in batches:
            summary = await record(config, store, batch)
            seen += batch
            expected, expected_flips = replay(seen, th)
            working = {
                name: provider_working(s for s in expected.values() if s.provider == name)
                for name in {s.provider for s in expected.values()}
            }

            assert await store.statuses() == expected
            assert list(reversed(await store.flips(limit=10_000))) == expected_flips
            # A run reports its own providers' flags; the file keeps every provider's.
            assert summary.working == {n: working[n] for n in {r.provider for r in batch}}
            assert read_flags(flags_file(config.data_dir)) == working
            assert read_model_states(flags_file(config.data_dir)) == {
                p: {m: s.state.value for (p2, m), s in expected.items() if p2 == p} for p in working
            }
            assert {n: PROVIDERS[n].working for n in working} == {
                n: PROVIDERS[n].shipped_working if flag is None else flag
                for n, flag in working.items()
            }


@settings(max_examples=40, deadline=None)
@given(th=thresholds, script=runs)
def test_stored_statuses_flips_and_flags_follow_the_policy_run_by_run(
    th: dict[str, float], script: list[tuple[int, dict[tuple[str, str], str]]]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        config = Settings(data_dir=Path(folder), thresholds=th)
        asyncio.run(check_every_run(config, scripted_results(script)))


async def flag_history(
    config: Settings, batches: list[list[ProbeResult]]
) -> tuple[list[bool], str]:
    """The provider's working flag as the flags file said after each run, and the
    model's state it said last."""
    history = []
    async with open_store(config.store_url) as store:
        for batch in batches:
            await record(config, store, batch)
            history.append(read_flags(flags_file(config.data_dir))["AutonomousAI"])
    return history, read_model_states(flags_file(config.data_dir))["AutonomousAI"]["llama"]


@settings(max_examples=25, deadline=None)
@given(
    down_after=st.integers(1, 3),
    up_after=st.integers(1, 3),
    flap_changes=st.integers(2, 5),
    cycles=st.integers(3, 10),
)
def test_an_alternating_provider_flips_its_flag_at_most_flap_changes_times(
    down_after: int, up_after: int, flap_changes: int, cycles: int
) -> None:
    cycle = ["fail"] * down_after + ["pass"] * up_after
    script = [(10, {("AutonomousAI", "llama"): outcome}) for outcome in cycle * cycles]
    th = {"down_after": down_after, "up_after": up_after, "flap_changes": flap_changes}
    with tempfile.TemporaryDirectory() as folder:
        config = Settings(data_dir=Path(folder), thresholds=th)
        history, last_state = asyncio.run(flag_history(config, scripted_results(script)))

    changes = sum(1 for a, b in itertools.pairwise(history) if a != b)
    assert changes <= flap_changes
    # The first failure sets "down" from nothing; every later phase changes the flag.
    if 2 * cycles - 1 >= flap_changes:
        assert last_state == "flapping"
        assert history[-1] is False


async def test_an_alternating_provider_is_shown_as_flapping_on_the_page(
    emulator: Emulator, tmp_path: Path
) -> None:
    config = Settings(
        data_dir=tmp_path / "data",
        thresholds={"down_after": 1, "up_after": 1, "flap_changes": 3},
    )
    targets = plan_targets(config, ["AutonomousAI"], "llama") + plan_targets(
        config, ["CodeLinkAva"]
    )
    rounds = 8
    async with open_store(config.store_url) as store:
        for i in range(rounds):
            mode = Fault.http_500 if i % 2 == 0 else Fault.none
            emulator.set_fault("AutonomousAI", FaultSpec(mode))
            with redirect(emulator.url):
                await probe_and_record(config, store, targets, source=Source.SANDBOX)
        flips = await store.flips(provider="AutonomousAI")
        await write_report(store, tmp_path / "report", settings=config)

    assert len(flips) < rounds - 1, "it flipped every time"
    assert flips[0].new is State.FLAPPING
    soup = BeautifulSoup((tmp_path / "report" / "index.html").read_text(), "html.parser")
    section = soup.select_one('details[data-provider="AutonomousAI"]')
    assert section is not None
    card = section.select_one('article[data-model="llama"]')
    assert card is not None
    assert "flapping" in card["class"]
    chip = card.select_one(".chip")
    assert chip is not None
    assert chip.get_text() == "flapping"
    assert "flapping" in section["class"]
    assert any(c.get_text().endswith(" flapping") for c in section.select("summary .states .chip"))
    steady = soup.select_one('details[data-provider="CodeLinkAva"] article .chip')
    assert steady is not None
    assert steady.get_text() == "up"
    rows = soup.select(".flips tbody tr")
    to_flapping = [
        r for r in rows if "AutonomousAI / llama" in r.get_text() and "→ flapping" in r.get_text()
    ]
    assert len(to_flapping) == 1
    assert "flapping" in to_flapping[0].select("td")[-1].get_text()
