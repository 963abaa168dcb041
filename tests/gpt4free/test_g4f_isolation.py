"""Provider code runs in worker processes: a provider that blocks forever, spins,
swallows cancellation, allocates without end or dies costs its worker (killed and
replaced, the probe says ``provider_bug`` and why), never a thread of the harness or
another provider's call."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from g4f_doubles import (
    Allocates,
    BlocksForever,
    Deaf,
    Dies,
    Endless,
    Good,
    Paced,
    RateLimited,
    Spins,
    info,
)

from harness.policy.prompts import PROMPTS
from harness.probing.probe import Deadlines, probe
from harness.probing.runner import Target, run
from harness.result import FailureKind, ProbeResult, StreamEnd
from harness.settings.g4f import G4FSettings
from harness.targets.g4f import install
from providers.errors import ProviderKilledError, RateLimitError
from providers.gpt4free import G4FInfo, LoadFailure, Workers, catalog, isolation, wrap
from providers.gpt4free.isolation import Call, reference

GUARD_S = 30.0
DEADLINES = Deadlines(connect=1.0, first_chunk=2.0, stall=1.0, total=4.0, max_chars=100_000)


async def ping(cls: type) -> ProbeResult:
    prompt = PROMPTS["ping"].build()
    return await probe(wrap(info(cls)), "double-model", prompt, deadlines=DEADLINES)


def call_of(cls: type, model: str = "m") -> Call:
    """A call of ``cls`` straight through the pool."""
    return Call(reference(cls, cls.__name__), model, [{"role": "user", "content": "hi"}], {})


def gone(pid: int) -> bool:
    """True once process ``pid`` no longer runs (reaped, or a zombie)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


async def test_only_text_is_the_answer_and_finish_and_usage_are_recorded() -> None:
    result = await ping(Good)
    assert result.ok, result.error
    assert result.provider == "g4f.Good"
    assert result.chunks == 2
    assert "thinking" not in result.sample
    assert result.finish_reason == "stop"
    assert result.end is StreamEnd.FINISH
    assert (result.prompt_tokens, result.completion_tokens) == (7, 3)


async def test_misbehaving_providers_do_not_hold_up_the_others() -> None:
    doubles = [Good, Paced, BlocksForever, Spins, Deaf, Endless]
    targets = [Target(wrap(info(d)), "double-model", "ping") for d in doubles]
    outcome = await run(targets, deadlines=DEADLINES, retry_backoff=0.0)
    good, paced, blocked, spun, deaf, endless = outcome.results
    # Each verdict comes from the caller's own deadline: had a provider stopped the
    # caller's loop, the good probes could not pass and the others' deadlines not fire.
    assert good.ok, good.error
    assert paced.ok, paced.error
    for result in (blocked, spun, deaf):
        assert result.kind is FailureKind.PROVIDER_BUG, result
        assert "killed the gpt4free worker" in (result.error or "")
    assert endless.kind is FailureKind.TIMEOUT_TOTAL  # it stopped when told: not a bug
    assert endless.chunks > 0


@pytest.mark.parametrize("double", [BlocksForever, Spins, Deaf])
async def test_a_provider_that_will_not_stop_costs_one_worker_and_the_next_call_works(
    workers: Workers, double: type
) -> None:
    replaced = workers.replaced
    threads = threading.active_count()
    result = await ping(double)
    assert result.kind is FailureKind.PROVIDER_BUG
    assert result.error is not None
    assert "killed the gpt4free worker: the call outlived its" in result.error
    assert "deadline by 1 s grace" in result.error
    assert workers.replaced == replaced + 1
    assert threading.active_count() == threads  # nothing of it is left in this process
    after = await ping(Good)
    assert after.ok, after.error


async def test_a_provider_that_allocates_without_end_gets_its_worker_replaced(
    workers: Workers,
) -> None:
    replaced = workers.replaced
    result = await ping(Allocates)
    assert result.kind is FailureKind.PROVIDER_BUG
    assert result.error is not None
    assert "the gpt4free worker died during the call: MemoryError" in result.error
    assert "(its cap: 512 MiB)" in result.error
    assert workers.replaced == replaced + 1
    after = await ping(Good)
    assert after.ok, after.error


async def test_a_worker_that_dies_is_reported_with_its_exit_code_and_replaced(
    workers: Workers,
) -> None:
    replaced = workers.replaced
    result = await ping(Dies)
    assert result.kind is FailureKind.PROVIDER_BUG
    assert "worker died during the call: exit code -9 (SIGKILL)" in (result.error or "")
    assert workers.replaced == replaced + 1
    after = await ping(Good)
    assert after.ok, after.error


async def test_a_killed_worker_is_gone_not_left_behind(workers: Workers) -> None:
    before = set(workers.pids())
    await ping(Spins)
    killed = before - set(workers.pids())
    assert len(killed) == 1
    assert all(gone(pid) for pid in killed)
    assert len(workers.pids()) == len(before)  # replaced at once


async def test_items_come_in_order_and_the_providers_error_arrives_translated() -> None:
    call = call_of(RateLimited, "200")
    seen: list[object] = []

    async def read() -> None:
        async for chunk in isolation.workers().stream(call):
            seen.append(chunk)

    with pytest.raises(RateLimitError, match="Response 429: slow down") as raised:
        await read()
    assert raised.value.status == 429
    assert seen == [f"{i} " for i in range(200)]


async def test_closing_the_stream_early_stops_the_call_and_keeps_the_worker(
    workers: Workers,
) -> None:
    replaced = workers.replaced
    call = call_of(Endless)
    stream = workers.stream(call)
    assert await anext(stream) == "more "
    await stream.aclose()  # the worker ends the call when told: nothing is killed
    assert workers.replaced == replaced


async def test_a_call_that_will_not_stop_when_its_reader_gives_up_raises_so(
    workers: Workers,
) -> None:
    call = call_of(Deaf)
    stream = workers.stream(call)
    with pytest.raises(ProviderKilledError, match="killed the gpt4free worker"):
        async with asyncio.timeout(0.2):
            await anext(stream)
    with pytest.raises(StopAsyncIteration):
        await anext(stream)


async def test_a_load_that_hangs_is_given_up_after_its_deadline() -> None:
    release = threading.Event()
    try:
        with pytest.raises(TimeoutError, match=r"loading Slow did not finish within 0\.2 s"):
            await isolation.in_thread(lambda: release.wait(30), 0.2, "loading Slow")
    finally:
        release.set()


async def test_loading_goes_on_past_a_module_that_hangs_or_fails_to_import(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = threading.Event()

    class Loader:
        @staticmethod
        def from_name(name: str) -> type:
            if name == "Hangs":
                release.wait(30)  # an import that calls out and never hears back
            if name == "Fails":
                raise ImportError("No module named 'browser_cookie3'")
            return Good

    monkeypatch.setattr(catalog, "_loader", lambda: Loader)
    try:
        loaded = await catalog.load_all(["Good", "Hangs", "Fails", "Last"], timeout=0.5)
    finally:
        release.set()
    assert isinstance(loaded["Good"], G4FInfo)
    assert isinstance(loaded["Last"], G4FInfo)
    hung, failed = loaded["Hangs"], loaded["Fails"]
    assert isinstance(hung, LoadFailure)
    assert isinstance(hung.error, TimeoutError)
    assert isinstance(failed, LoadFailure)
    assert isinstance(failed.error, ImportError)


@pytest.mark.usefixtures("no_network")
async def test_install_grows_the_pool_to_the_calls_that_can_be_in_flight(
    workers: Workers,
) -> None:
    wanted = workers.size + 2  # one provider, this many calls of it at once
    await install(G4FSettings(include=("Groq",)), concurrency=64, per_provider=wanted)
    assert workers.size == wanted
    assert len(workers.pids()) == wanted


async def test_a_call_beyond_the_pools_size_waits_for_a_worker_then_runs() -> None:
    pool = Workers(1, setup="network_guard:in_worker")
    try:
        pool.warm()
        await pool.until_ready(GUARD_S)

        async def answer() -> list[object]:
            return [chunk async for chunk in pool.stream(call_of(Good))]

        first, second = await asyncio.gather(answer(), answer())
        assert first == second
        assert "hi" in first
        assert len(pool.pids()) == 1  # one worker served both, one after the other
    finally:
        pool.close()


async def test_a_call_waiting_for_a_worker_when_the_pool_shuts_down_says_so() -> None:
    pool = Workers(1, setup="network_guard:in_worker")
    try:
        busy = pool.stream(call_of(Deaf))
        reading = asyncio.ensure_future(anext(busy))
        await asyncio.sleep(0)  # the first call takes the only worker
        waiting = asyncio.ensure_future(anext(pool.stream(call_of(Good))))
        await asyncio.sleep(0)
        pool.close()
        with pytest.raises(ProviderKilledError, match="shut down"):
            await waiting
        reading.cancel()
        with pytest.raises((asyncio.CancelledError, ProviderKilledError)):
            await reading
    finally:
        pool.close()


ORPHAN_SCRIPT = """
import asyncio, time
from g4f_doubles import Spins
from providers.gpt4free import Workers
from providers.gpt4free.isolation import Call, reference

async def main():
    pool = Workers(1)
    pool.warm()
    await pool.until_ready(30)
    call = Call(reference(Spins, "Spins"), "m", [{"role": "user", "content": "x"}], {})
    reading = asyncio.ensure_future(anext(pool.stream(call)))
    await asyncio.sleep(0.5)
    print(pool.pids()[0], flush=True)
    time.sleep(3600)  # killed meanwhile, its worker spinning

asyncio.run(main())
"""


def test_a_worker_left_spinning_by_a_harness_that_was_killed_exits_too(tmp_path: Path) -> None:
    harness = subprocess.Popen(
        [sys.executable, "-c", ORPHAN_SCRIPT],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
        cwd=tmp_path,
    )
    try:
        assert harness.stdout is not None
        worker = int(harness.stdout.readline())
    finally:
        harness.kill()
        harness.wait()
        if harness.stdout is not None:
            harness.stdout.close()
    guard = time.monotonic() + GUARD_S  # a hang guard, not a timing assertion
    while not gone(worker) and time.monotonic() < guard:
        time.sleep(0.1)
    assert gone(worker)


def test_the_worker_runs_apart_from_this_process(g4f_workers: Workers) -> None:
    assert g4f_workers.pids()
    assert os.getpid() not in g4f_workers.pids()
