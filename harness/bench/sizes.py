"""Which benchmarks there are, and how big each runs: the issue's sizes, and a quick set."""

from __future__ import annotations

from dataclasses import dataclass

BENCHMARKS = (
    "fanout",
    "timing",
    "store",
    "overview",
    "replay",
    "isolation",
    "schedule",
    "scale",
)
"""Every benchmark, in the order they run."""


LARGE_STORE_FACTOR = 10
"""``--large-store``: the store benchmark's history made this many times larger (a
million results become ten million), by a bulk path."""


@dataclass(frozen=True)
class TimingLevel:
    """One load level of the timing benchmark: probes per client, in ``rounds`` rounds."""

    concurrency: int
    probes: int


@dataclass(frozen=True)
class Sizes:
    """Every size the benchmarks take."""

    fanout_probes: int
    fanout_concurrency: int
    rounds: int
    """Rounds per client (harness and bare alternate); figures are medians or pooled."""
    timing_levels: tuple[TimingLevel, ...]
    store_rows: int
    store_batch: int
    page_repeats: int
    """Warm renders of the page after the first (cold) one."""
    record_targets: int = 1000
    """Targets of the fleet beside which one provider's run is recorded."""
    record_runs: int = 30
    """Runs recorded there (its figures are the median and maximum)."""
    overview_targets: int = 300
    """Targets of the synthetic fleet the overview benchmark shows."""
    overview_loads: int = 5
    """Loads of that page in the browser."""
    page_targets: tuple[int, ...] = (300, 1000)
    """Targets of the fleets whose live page is served and measured, beside each other."""
    isolation_calls: int = 200
    """gpt4free calls per run of the isolation benchmark, for each way of making them."""
    isolation_runs: int = 5
    """Runs of the isolation benchmark (its figures are medians over them)."""
    schedule_targets: int = 60
    """Targets the schedule benchmark probes, each its own endpoint."""
    schedule_interval: float = 5.0
    """Their period, seconds; the jitter spreading their phases is as long."""
    schedule_duration: float = 60.0
    """Seconds each run of the schedule benchmark lasts."""
    schedule_runs: int = 3
    """Runs of the schedule benchmark (its figure is the median over them)."""
    scale_targets: int = 1000
    """Targets of the fleet ``harness serve`` probes in the scale benchmark."""
    scale_viewers: int = 10
    """Viewers refreshing every second in its looked-at runs."""
    scale_interval_s: float = 60.0
    """Its probing interval: 167 runs of 6 targets a minute."""
    scale_warmup_s: float = 10.0
    """Serving before the measured window."""
    scale_window_s: float = 30.0
    """The measured window of each served run."""
    scale_repeats: int = 3
    """Runs of each condition (and one-run measurements); figures are medians."""


FULL = Sizes(
    fanout_probes=1000,
    fanout_concurrency=200,
    rounds=3,
    timing_levels=(
        TimingLevel(concurrency=1, probes=100),
        TimingLevel(concurrency=100, probes=2000),
        TimingLevel(concurrency=500, probes=3000),
    ),
    store_rows=1_000_000,
    store_batch=10_000,
    page_repeats=5,
)

QUICK = Sizes(
    fanout_probes=20,
    fanout_concurrency=10,
    rounds=1,
    timing_levels=(
        TimingLevel(concurrency=1, probes=4),
        TimingLevel(concurrency=10, probes=20),
    ),
    store_rows=2_000,
    store_batch=500,
    page_repeats=1,
    record_targets=60,
    record_runs=3,
    overview_targets=30,
    overview_loads=1,
    page_targets=(30, 100),
    isolation_calls=20,
    isolation_runs=3,
    schedule_targets=3,
    schedule_interval=0.5,
    schedule_duration=2.0,
    schedule_runs=2,
    scale_targets=24,
    scale_viewers=2,
    scale_interval_s=2.0,
    scale_warmup_s=1.0,
    scale_window_s=2.0,
    scale_repeats=1,
)
