"""The benchmark workload: targets, and an emulator answering in a fixed chunk count."""

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from harness.bench.workload import Latency, every_target, ping_targets
from harness.emulator import Emulator
from harness.emulator.answers import split_evenly
from harness.policy.prompts import PROMPTS
from harness.probing.probe import probe
from harness.result import Source
from providers import PROVIDERS, upstream

FAST = Latency(first_chunk_delay_s=0.001, chunks=5, chunk_delay_s=0.001)


@given(st.text(max_size=50), st.integers(min_value=1, max_value=12))
def test_split_evenly_keeps_the_text_in_near_equal_pieces(text: str, pieces: int) -> None:
    parts = split_evenly(text, pieces)
    assert "".join(parts) == text
    assert len(parts) == min(pieces, len(text))
    if parts:
        assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_every_target_pings_each_provider_model_pair_once() -> None:
    targets = every_target()
    pairs = {(t.provider.name(), t.model) for t in targets}
    assert len(pairs) == len(targets) == sum(len(p.all_models()) for p in PROVIDERS.values())
    assert {t.prompt for t in targets} == {"ping"}


def test_ping_targets_cycle_evenly_over_the_pairs() -> None:
    targets = ping_targets(3 * len(every_target()))
    assert set(Counter(targets).values()) == {3}


async def test_every_provider_streams_the_workload_chunk_count() -> None:
    async with Emulator(faults=FAST.faults()) as emulator:
        with upstream.redirect(emulator.url):
            results = [
                await probe(t.provider, t.model, PROMPTS[t.prompt].build(), source=Source.SANDBOX)
                for t in every_target()
            ]
    assert [r.chunks for r in results if r.ok] == [FAST.chunks] * len(results)
