"""Timing accuracy: how far the harness's time to first chunk is from the truth.

At concurrency 1 the truth is the first-chunk delay the emulator injects: the error
is |measured ttfc - injected delay| (it also holds the connection set-up and the
request, which a bare client pays too). Under load the machine itself adds delay,
so the harness's ttfc distribution is compared with a bare client's under the same
load in the same run: the differences of their p50 and p95.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .bare import BareClient
from .clients import Batch, bare_batch, harness_batch, warm_up
from .distribution import Spread
from .sizes import TimingLevel
from .workload import LATENCY, EmulatorProcess, ping_targets


def ttfc_spread(batches: Sequence[Batch]) -> Spread | None:
    """The ttfc spread over every passing probe of ``batches``. Pure."""
    ttfc = [t for b in batches for t in b.ttfc_ms]
    return Spread.of(ttfc) if ttfc else None


def by_provider(
    harness: Sequence[Batch], bare: Sequence[Batch], injected_ms: float
) -> dict[str, Any]:
    """|ttfc - injected| p50/p95 per provider and client: a provider making more than
    one request before its answer (AiChatOnline) sets the overall tail. Pure."""
    names = dict.fromkeys(name for b in (*harness, *bare) for name, _ in b.first_chunks)
    figures: dict[str, Any] = {}
    for name in names:
        figures[name] = {}
        for side, batches in (("harness", harness), ("bare", bare)):
            errors = [abs(t - injected_ms) for b in batches for t in b.ttfc_of(name)]
            spread = Spread.of(errors) if errors else None
            figures[name][side] = (
                None
                if spread is None
                else {"p50": round(spread.p50, 3), "p95": round(spread.p95, 3)}
            )
    return figures


def side_figures(batches: Sequence[Batch], injected_ms: float) -> dict[str, Any]:
    """ttfc and |ttfc - injected| spreads over every passing probe of ``batches``. Pure."""
    ttfc = [t for b in batches for t in b.ttfc_ms]
    return {
        "passed": len(ttfc),
        "ttfc_ms": Spread.of(ttfc).to_dict() if ttfc else None,
        "error_ms": Spread.of([abs(t - injected_ms) for t in ttfc]).to_dict() if ttfc else None,
    }


async def level_figures(
    client: BareClient, emulator: EmulatorProcess, level: TimingLevel, rounds: int
) -> dict[str, Any]:
    """Both clients at one load level, in alternating rounds, samples pooled."""
    per_round = max(1, level.probes // rounds)
    targets = ping_targets(per_round)
    harness: list[Batch] = []
    bare: list[Batch] = []
    for round_number in range(rounds):
        if round_number % 2 == 0:
            bare.append(await bare_batch(client, targets, level.concurrency, emulator))
            harness.append(await harness_batch(targets, level.concurrency, emulator))
        else:
            harness.append(await harness_batch(targets, level.concurrency, emulator))
            bare.append(await bare_batch(client, targets, level.concurrency, emulator))
    injected = LATENCY.first_chunk_delay_s * 1000
    ours, theirs = ttfc_spread(harness), ttfc_spread(bare)
    return {
        "concurrency": level.concurrency,
        "probes": per_round * rounds,
        "harness": side_figures(harness, injected),
        "bare": side_figures(bare, injected),
        "delta_p50_ms": round(ours.p50 - theirs.p50, 3) if ours and theirs else None,
        "delta_p95_ms": round(ours.p95 - theirs.p95, 3) if ours and theirs else None,
        "error_by_provider_ms": by_provider(harness, bare, injected),
    }


async def timing(
    emulator: EmulatorProcess, *, levels: Sequence[TimingLevel], rounds: int
) -> dict[str, Any]:
    """Every load level of :func:`level_figures`."""
    client = BareClient(emulator.url)
    await warm_up(client, emulator)
    return {
        "injected_first_chunk_ms": LATENCY.first_chunk_delay_s * 1000,
        "rounds": rounds,
        "levels": [await level_figures(client, emulator, level, rounds) for level in levels],
    }
