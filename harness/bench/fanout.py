"""Fan-out: many probes at once through the harness, against the same load sent bare.

Both clients probe the same targets at the same concurrency against the same
emulator process, in alternating rounds; each side's figure is its median round.
The ratio (harness wall time / bare wall time) is the harness's own cost of fanning
out: the providers' protocols, the runner's limits, deadlines, tracing and
classification, everything but the network and the upstream.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.bench.bare import BareClient
from harness.bench.clients import Batch, bare_batch, harness_batch, warm_up
from harness.bench.distribution import median
from harness.bench.workload import LATENCY, EmulatorProcess, every_target, ping_targets


def side_figures(batches: Sequence[Batch]) -> dict[str, Any]:
    """One client's figures over its rounds: medians of wall and CPU time. Pure."""
    probes = batches[0].probes
    wall = median([b.wall_s for b in batches])
    cpu = median([b.cpu_s for b in batches])
    emulator = [b.emulator_cpu_s for b in batches if b.emulator_cpu_s is not None]
    return {
        "wall_s": round(wall, 3),
        "probes_per_s": round(probes / wall, 1),
        "cpu_per_probe_ms": round(cpu / probes * 1000, 3),
        "emulator_cpu_per_probe_ms": (
            round(median(emulator) / probes * 1000, 3) if emulator else None
        ),
        "passed": min(b.passed for b in batches),
        "round_wall_s": [round(b.wall_s, 3) for b in batches],
    }


async def fanout(
    emulator: EmulatorProcess, *, probes: int, concurrency: int, rounds: int
) -> dict[str, Any]:
    """Probe ``probes`` targets at ``concurrency`` with each client, ``rounds`` times."""
    client = BareClient(emulator.url)
    await warm_up(client, emulator)
    targets = ping_targets(probes)
    harness: list[Batch] = []
    bare: list[Batch] = []
    for round_number in range(rounds):
        # Alternate who goes first, so neither side always meets a fresher emulator.
        if round_number % 2 == 0:
            bare.append(await bare_batch(client, targets, concurrency, emulator))
            harness.append(await harness_batch(targets, concurrency, emulator))
        else:
            harness.append(await harness_batch(targets, concurrency, emulator))
            bare.append(await bare_batch(client, targets, concurrency, emulator))
    harness_side, bare_side = side_figures(harness), side_figures(bare)
    return {
        "probes": probes,
        "concurrency": concurrency,
        "rounds": rounds,
        "targets": len(every_target()),
        "latency": LATENCY.describe(),
        "harness": harness_side,
        "bare": bare_side,
        "ratio": round(harness_side["wall_s"] / bare_side["wall_s"], 3),
        "cpu_ratio": round(harness_side["cpu_per_probe_ms"] / bare_side["cpu_per_probe_ms"], 3),
    }
