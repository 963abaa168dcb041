"""``harness serve --sandbox`` probing every target every second stays flat.

Resident memory (VmRSS) and open file descriptors are sampled once a second from
/proc. The bounds are generous on purpose: they catch a leak (memory or descriptors
growing with every run), not the allocator's noise. A short soak runs by default; the
long one runs with ``--soak`` (``$HARNESS_SOAK_SECONDS``, default 600 s).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from procfs import open_fds, rss_kib
from serve_process import ServeProcess, result_count, rows

from providers import PROVIDERS

SHORT_SOAK_S = 15.0
LONG_SOAK_S = float(os.environ.get("HARNESS_SOAK_SECONDS") or 600)
RSS_GROWTH_LIMIT_KIB = 30 * 1024
FD_GROWTH_LIMIT = 20
WARMED_UP_AT = 0.25
"""Growth is measured from this fraction of the run: start-up allocations are not a leak."""
TROUBLE = ("Traceback", "Warning", "Unclosed", "ERROR", "Error", "Exception")


@dataclass(frozen=True)
class Sample:
    at_s: float
    rss_kib: int
    fds: int
    results: int


def soak(tmp_path: Path, seconds: float) -> tuple[list[Sample], ServeProcess, int]:
    """Serve and probe for ``seconds``, sampling every second; then SIGTERM."""
    config = tmp_path / "harness.toml"
    config.write_text("[serve]\njitter = 0\n")  # every provider, every second
    samples: list[Sample] = []
    with ServeProcess(
        tmp_path / "data",
        ["--sandbox", "--port", "0", "--interval", "1"],
        env={"HARNESS_CONFIG": str(config)},
    ) as server:
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) < seconds:
            samples.append(
                Sample(elapsed, rss_kib(server.pid), open_fds(server.pid), result_count(server.db))
            )
            time.sleep(1.0)
        code = server.terminate()
    return samples, server, code


def check_flat(
    samples: list[Sample], server: ServeProcess, code: int, report: Callable[[str], None]
) -> None:
    warm = samples[int(len(samples) * WARMED_UP_AT)]
    last = samples[-1]
    rss_growth = last.rss_kib - warm.rss_kib
    fd_growth = last.fds - warm.fds
    runs = dict(
        rows(
            server.db,
            "SELECT t.provider, COUNT(DISTINCT o.run) FROM results r"
            " JOIN target_ids t ON t.id = r.target JOIN origins o ON o.id = r.origin"
            " GROUP BY t.provider",
        )
    )
    report(
        f"{last.at_s:.0f} s, {last.results} results ({runs}); "
        f"RSS {samples[0].rss_kib / 1024:.1f} -> {warm.rss_kib / 1024:.1f} (at {warm.at_s:.0f} s) "
        f"-> {last.rss_kib / 1024:.1f} MiB (growth {rss_growth / 1024:+.1f} MiB, "
        f"peak {max(s.rss_kib for s in samples) / 1024:.1f}); "
        f"fds {samples[0].fds} -> {warm.fds} -> {last.fds} (max {max(s.fds for s in samples)})"
    )
    stderr = server.stderr()
    assert code == 0, stderr
    assert [word for word in TROUBLE if word in stderr] == [], stderr
    assert set(runs) == set(PROVIDERS)
    assert min(runs.values()) >= 3, "the server hardly probed: nothing to judge"
    assert rss_growth < RSS_GROWTH_LIMIT_KIB
    assert fd_growth < FD_GROWTH_LIMIT


def test_a_short_soak_keeps_memory_and_descriptors_flat(
    tmp_path: Path, report_figure: Callable[[str], None]
) -> None:
    check_flat(*soak(tmp_path, SHORT_SOAK_S), report_figure)


@pytest.mark.soak
@pytest.mark.timeout(LONG_SOAK_S + 120)
def test_a_long_soak_keeps_memory_and_descriptors_flat(
    tmp_path: Path, report_figure: Callable[[str], None]
) -> None:
    check_flat(*soak(tmp_path, LONG_SOAK_S), report_figure)
