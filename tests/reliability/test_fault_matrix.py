"""Every emulator fault, for every provider, through the runner and the SQLite store.

tests/probe/test_probe_faults.py checks each fault's kind at the probe. Here one run
per fault probes all four providers through ``probe_and_record`` (runner, retries,
store, status policy, flags file), as ``harness probe`` and ``harness serve`` do, and
checks what that adds: the run ends within its deadline plus a second, nothing
escapes, the stored results are the results, memory stays bounded even when the
upstream sends an endless stream or a 50 MB line, and no session, connector or other
resource is left for the garbage collector to complain about.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from conftest import LeakWatch
from procfs import peak_rss_kib, reset_peak_rss, rss_kib

from harness.emulator import Emulator, Fault, FaultSpec
from harness.emulator.faults import ONLY_FOR
from harness.pipeline.run import plan_targets, probe_and_record
from harness.result import FailureKind, ProbeResult, Source
from harness.settings.config import Settings
from harness.store import open_store
from harness.store.rows import as_stored
from providers import PROVIDERS
from providers.upstream import redirect

DEADLINES = {"connect": 1.0, "first_chunk": 0.5, "stall": 0.5, "total": 3.0, "max_chars": 200}
SLACK_S = 1.0
RETRY_BACKOFF_S = 0.5
"""The runner's pause before retrying a transport failure (``run``'s default)."""
MEMORY_BOUND_KIB = 100 * 1024

EXPECTED: dict[Fault, set[FailureKind | None]] = {
    Fault.none: {None},
    Fault.first_chunk_delay: {None},
    Fault.chunk_delay: {None},
    Fault.resource_limit: {None},
    Fault.hang_headers: {FailureKind.TIMEOUT_FIRST_CHUNK},
    Fault.hang_mid_stream: {FailureKind.TIMEOUT_TOTAL},
    Fault.reset_mid_stream: {FailureKind.STREAM_CUT},
    Fault.http_429: {FailureKind.RATE_LIMITED},
    Fault.http_500: {FailureKind.HTTP_SERVER},
    Fault.http_502: {FailureKind.HTTP_SERVER},
    Fault.http_503: {FailureKind.HTTP_SERVER},
    Fault.cloudflare_403: {FailureKind.CLOUDFLARE},
    Fault.http_401: {FailureKind.HTTP_AUTH},
    Fault.garbage: {FailureKind.PROTOCOL},
    Fault.empty_200: {FailureKind.EMPTY},
    Fault.invalid_utf8: {FailureKind.PROTOCOL},
    Fault.endless: {FailureKind.TOO_LARGE},
    Fault.wrong_answer: {FailureKind.WRONG_ANSWER},
    Fault.huge_line: {FailureKind.TOO_LARGE},
    Fault.changed_framing: {FailureKind.PROTOCOL, FailureKind.EMPTY},
    Fault.stream_error: {FailureKind.HTTP_SERVER},
    Fault.overloaded: {FailureKind.OVERLOADED},
    Fault.safety_block: {FailureKind.CONTENT_FILTER},
}
"""Each fault's kind (``None``: the probe passes); a fault that exists in one provider's
protocol only leaves the others answering normally."""


def test_the_matrix_covers_every_fault_mode() -> None:
    assert set(EXPECTED) == set(Fault)


def spec_for(mode: Fault) -> FaultSpec:
    # huge_line keeps its default: one 50 MB line.
    return (
        FaultSpec(mode, first_chunk_delay=0.2, chunk_delay=0.05)
        if "delay" in mode
        else FaultSpec(mode)
    )


def expected_kinds(mode: Fault, provider: str) -> set[FailureKind | None]:
    owner = ONLY_FOR.get(mode)
    return EXPECTED[mode] if owner in (None, provider) else {None}


def keyed(results: Sequence[ProbeResult]) -> dict[tuple[str, str, str, str], ProbeResult]:
    return {(r.run_id, r.provider, r.model, r.prompt): r for r in results}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", deadlines=DEADLINES)


@pytest.mark.parametrize("mode", list(Fault), ids=str)
async def test_each_fault_is_stored_as_its_kind_within_the_deadline(
    emulator: Emulator,
    settings: Settings,
    leak_watch: LeakWatch,
    report_figure: Callable[[str], None],
    mode: Fault,
) -> None:
    for name in PROVIDERS:
        if ONLY_FOR.get(mode, name) == name:
            emulator.set_fault(name, spec_for(mode))
    targets = [plan_targets(settings, [name])[0] for name in PROVIDERS]
    baseline = rss_kib()
    reset_peak_rss()

    started = time.perf_counter()
    async with open_store(settings.store_url) as store:
        with redirect(emulator.url):
            summary = await probe_and_record(settings, store, targets, source=Source.SANDBOX)
        wall = time.perf_counter() - started
        stored = await store.results()
        statuses = await store.statuses()
    growth = peak_rss_kib() - baseline
    report_figure(f"{mode}: run {wall:.2f} s, peak RSS growth {growth / 1024:.1f} MiB")

    kinds = {r.provider: r.kind for r in summary.results}
    assert kinds == {n: k for n, k in kinds.items() if k in expected_kinds(mode, n)}, (
        summary.results
    )
    attempts = max(r.attempts for r in summary.results)
    assert wall < attempts * (DEADLINES["total"] + SLACK_S) + (attempts - 1) * RETRY_BACKOFF_S
    assert keyed(stored) == keyed([as_stored(r) for r in summary.results])
    assert set(statuses) == {r.target for r in summary.results}
    assert growth < MEMORY_BOUND_KIB
    leak_watch.collect()
    assert leak_watch.problems == []


@pytest.mark.parametrize(
    ("mode", "deadline"),
    [(Fault.hang_headers, "first_chunk"), (Fault.hang_mid_stream, "stall")],
    ids=str,
)
async def test_a_hang_is_cut_at_its_own_deadline_not_the_total(
    emulator: Emulator, settings: Settings, mode: Fault, deadline: str
) -> None:
    for name in PROVIDERS:
        emulator.set_fault(name, FaultSpec(mode))
    targets = [plan_targets(settings, [name])[0] for name in PROVIDERS]

    async with open_store(settings.store_url) as store:
        with redirect(emulator.url):
            summary = await probe_and_record(settings, store, targets, source=Source.SANDBOX)

    for result in summary.results:
        since = (result.ttfc_ms or 0) / 1000 if mode is Fault.hang_mid_stream else 0.0
        assert result.total_ms is not None
        assert result.total_ms / 1000 < since + DEADLINES["connect"] + DEADLINES[deadline] + SLACK_S


async def test_the_leak_watch_sees_an_unclosed_session(leak_watch: LeakWatch) -> None:
    import aiohttp

    session = aiohttp.ClientSession()
    del session
    leak_watch.collect()

    assert any("Unclosed client session" in p for p in leak_watch.problems)
    leak_watch.forget()
