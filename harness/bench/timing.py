"""Timing accuracy: how far the harness's time to first chunk is from the truth.

At concurrency 1 the truth is the first-chunk delay the emulator injects: the error
is |measured ttfc - injected delay| (it also holds the connection set-up and the
request, which a bare client pays too). Under load the machine itself adds delay,
so the harness's ttfc distribution is compared with a bare client's under the same
load in the same run: the differences of their p50 and p95.

At each level the harness also runs with ``--concurrency auto`` (the level's
concurrency as its ceiling): the error of its ttfc against the injected delay, what
its limit on probes in flight moved between, and the wall time that costs. Every
harness figure says how many results were timing-suspect (loop lag over the budget).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.bench.bare import BareClient
from harness.bench.clients import Batch, bare_batch, harness_batch, warm_up
from harness.bench.distribution import Spread, median
from harness.bench.sizes import TimingLevel
from harness.bench.workload import LATENCY, EmulatorProcess, ping_targets
from harness.probing.looplag import DEFAULT_BUDGET_MS

LAG_BUDGET_MS = DEFAULT_BUDGET_MS


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
    """ttfc and |ttfc - injected| spreads over every passing probe of ``batches``, the
    median wall time of a round, and (for the harness) the loop lag: how many results
    were timing-suspect, and the ttfc spread without them. Pure."""
    ttfc = [t for b in batches for t in b.ttfc_ms]
    figures: dict[str, Any] = {
        "passed": len(ttfc),
        "wall_s": round(median([b.wall_s for b in batches]), 3),
        "ttfc_ms": Spread.of(ttfc).to_dict() if ttfc else None,
        "error_ms": Spread.of([abs(t - injected_ms) for t in ttfc]).to_dict() if ttfc else None,
    }
    lags = [lag for b in batches for lag in b.loop_lags if lag is not None]
    if lags:
        trusted = [t for b in batches for t in b.ttfc_within(LAG_BUDGET_MS)]
        figures["loop_lag_ms"] = Spread.of(lags).to_dict()
        figures["timing_suspect"] = sum(lag > LAG_BUDGET_MS for lag in lags)
        figures["ttfc_within_budget_ms"] = Spread.of(trusted).to_dict() if trusted else None
    limits = [limit for b in batches for limit in b.limits]
    if limits:
        figures["in_flight_limit"] = {"min": min(limits), "max": max(limits)}
    return figures


async def level_figures(
    client: BareClient, emulator: EmulatorProcess, level: TimingLevel, rounds: int
) -> dict[str, Any]:
    """Both clients at one load level, in alternating rounds, samples pooled."""
    per_round = max(1, level.probes // rounds)
    targets = ping_targets(per_round)
    harness: list[Batch] = []
    bare: list[Batch] = []
    auto: list[Batch] = []
    c = level.concurrency
    sides = 3 if c > 1 else 2  # auto with a ceiling of one is the fixed harness again
    for round_number in range(rounds):
        # Rotate who goes first, so no side always meets a fresher emulator.
        for side in range(sides):
            match (round_number + side) % sides:
                case 0:
                    bare.append(await bare_batch(client, targets, c, emulator))
                case 1:
                    harness.append(await harness_batch(targets, c, emulator))
                case _:
                    auto.append(await harness_batch(targets, c, emulator, adaptive=True))
    injected = LATENCY.first_chunk_delay_s * 1000
    ours, theirs, adapted = ttfc_spread(harness), ttfc_spread(bare), ttfc_spread(auto)
    against_bare = (
        {
            "auto_delta_p50_ms": round(adapted.p50 - theirs.p50, 3),
            "auto_delta_p95_ms": round(adapted.p95 - theirs.p95, 3),
        }
        if adapted and theirs
        else {}
    )
    return {
        "concurrency": c,
        "probes": per_round * rounds,
        "harness": side_figures(harness, injected),
        "bare": side_figures(bare, injected),
        **({"auto": side_figures(auto, injected)} if auto else {}),
        "delta_p50_ms": round(ours.p50 - theirs.p50, 3) if ours and theirs else None,
        "delta_p95_ms": round(ours.p95 - theirs.p95, 3) if ours and theirs else None,
        **against_bare,
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
        "lag_budget_ms": LAG_BUDGET_MS,
        "rounds": rounds,
        "levels": [await level_figures(client, emulator, level, rounds) for level in levels],
    }
