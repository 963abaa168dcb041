"""Probing gpt4free providers that block forever, spin, swallow cancellation, allocate
without end and die, round after round beside well-behaved ones, leaves the probing
process flat: its threads, resident memory and open files do not grow, and no worker
process is left behind; the well-behaved providers keep passing with their own timing.

A short soak runs by default; the long one runs with ``--soak``
(``$HARNESS_SOAK_SECONDS``, default 600 s). The bounds are generous on purpose: they
catch a leak (something growing with every round), not the allocator's noise.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from dataclasses import dataclass

import pytest
from g4f_doubles import PACE_S, Allocates, BlocksForever, Deaf, Dies, Good, Paced, Spins, info

from harness.probing.probe import Deadlines
from harness.probing.runner import Target, run
from harness.result import FailureKind, ProbeResult
from providers.gpt4free import Workers, wrap
from tests.reliability.procfs import open_fds, rss_kib

SHORT_ROUNDS = 2
LONG_SOAK_S = float(os.environ.get("HARNESS_SOAK_SECONDS") or 600)
RSS_GROWTH_LIMIT_KIB = 30 * 1024
FD_GROWTH_LIMIT = 10
DEADLINES = Deadlines(connect=1.0, first_chunk=2.0, stall=1.0, total=4.0, max_chars=100_000)
WELL_BEHAVED = (Good, Paced)
MISBEHAVING = (BlocksForever, Spins, Deaf, Allocates, Dies)


@dataclass(frozen=True)
class Sample:
    threads: int
    rss_kib: int
    fds: int
    children: dict[int, str]
    """The state letter of each process this one started and has not reaped, by pid."""


def sample() -> Sample:
    me = str(os.getpid())
    children = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended while we looked
        if fields[1] == me:
            children[int(pid)] = fields[0]
    return Sample(threading.active_count(), rss_kib(), open_fds(), children)


async def one_round(pool: Workers) -> list[ProbeResult]:
    # Between runs of a service lies its interval: the replacements started in the last
    # round have gpt4free imported by the next one.
    await pool.until_ready(60)
    targets = [Target(wrap(info(d)), "double-model", "ping") for d in WELL_BEHAVED + MISBEHAVING]
    outcome = await run(targets, deadlines=DEADLINES, concurrency=pool.size, retry_backoff=0.0)
    results = outcome.results
    for result in results[: len(WELL_BEHAVED)]:
        assert result.ok, result.error
    for result in results[len(WELL_BEHAVED) :]:
        assert result.kind is FailureKind.PROVIDER_BUG, result.error
    return results


async def soak(pool: Workers, rounds: int | None, seconds: float | None) -> None:
    pool.grow(len(WELL_BEHAVED) + len(MISBEHAVING))
    await one_round(pool)  # the first round starts what later ones reuse
    warm = sample()
    # Processes other tests of this session started (a database server) are not ours.
    others = set(warm.children) - set(pool.pids())
    started, done = time.monotonic(), 0
    paced: list[float] = []
    while (rounds is not None and done < rounds) or (
        seconds is not None and time.monotonic() - started < seconds
    ):
        results = await one_round(pool)
        paced.append(results[1].ttfc_ms or 0.0)
        done += 1
    last = sample()
    print(
        f"{done} rounds, {pool.replaced} workers replaced; threads {warm.threads} -> "
        f"{last.threads}; RSS {warm.rss_kib / 1024:.1f} -> {last.rss_kib / 1024:.1f} MiB; "
        f"fds {warm.fds} -> {last.fds}; children {len(warm.children)} -> "
        f"{len(last.children)}; paced ttfc median {statistics.median(paced):.0f} ms "
        f"(its own {PACE_S * 1000:.0f} ms)"
    )
    assert last.threads <= warm.threads
    assert last.rss_kib - warm.rss_kib < RSS_GROWTH_LIMIT_KIB
    assert last.fds - warm.fds < FD_GROWTH_LIMIT
    assert "Z" not in last.children.values()  # every killed worker was reaped
    assert set(last.children) - others == set(pool.pids())  # and none is left running
    assert min(paced) >= PACE_S * 1000  # its first text came when it sent it, not before


async def test_a_short_soak_with_misbehaving_providers_stays_flat(workers: Workers) -> None:
    await soak(workers, SHORT_ROUNDS, None)


@pytest.mark.soak
@pytest.mark.timeout(LONG_SOAK_S + 120)
async def test_a_long_soak_with_misbehaving_providers_stays_flat(workers: Workers) -> None:
    await soak(workers, None, LONG_SOAK_S)
