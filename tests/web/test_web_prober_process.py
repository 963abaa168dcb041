"""The prober of ``harness serve`` in a process of its own: it probes, tells the server
what its metrics count, answers what only the schedule knows, and ends with the server.

What the served app does with either kind of prober is in ``test_web_sandbox.py``,
whose server runs both."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness.errors import StoreError
from harness.pipeline.prober import ProberStopped
from harness.pipeline.prober_process import ProberLost, ProberProcess
from harness.pipeline.serving import ProbingSpec
from harness.policy.consensus import VantageStatus
from harness.policy.objectives import ObjectiveSet
from harness.policy.status import TargetStatus
from harness.result import ProbeResult, Source
from harness.settings.config import Settings
from harness.store import open_store
from harness.targets.sources import source_store_url
from harness.web.app import WEB_NICENESS
from tests.live_app import GUARD_S

PROBED = "CodeLinkAva"


class Heard:
    """The events the prober reported, as the server's metrics would hear them."""

    def __init__(self) -> None:
        self.results: list[ProbeResult] = []
        self.statuses: list[TargetStatus] = []
        self.vantages: list[VantageStatus] = []
        self.overruns: list[tuple[str, str]] = []
        self.loop: asyncio.AbstractEventLoop | None = None

    def observe(self, result: ProbeResult) -> None:
        self.loop = asyncio.get_running_loop()
        self.results.append(result)

    def set_statuses(
        self, statuses: Iterable[TargetStatus], objectives: ObjectiveSet | None = None
    ) -> None:
        self.statuses.extend(statuses)

    def set_vantages(self, views: Iterable[VantageStatus]) -> None:
        self.vantages.extend(views)

    def overran(self, provider: str, tier: str) -> None:
        self.overruns.append((provider, tier))


def spec_of(tmp_path: Path, **settings: object) -> ProbingSpec:
    """Probe one provider of the sandbox, once at start (an hour's interval, no jitter)."""
    others = {
        name: {"enabled": False} for name in ("RobocodersAPI", "AiChatOnline", "AutonomousAI")
    }
    chosen = Settings(
        data_dir=tmp_path / "data", serve={"jitter": 0}, providers=others, **settings
    ).every(3600)
    return ProbingSpec(chosen, source_store_url(chosen, Source.SANDBOX), sandbox=True)


async def until(condition: object) -> None:
    async def poll() -> None:
        while not condition():  # type: ignore[operator]  # noqa: ASYNC110
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), GUARD_S)


@pytest.fixture
def heard() -> Heard:
    return Heard()


@pytest.fixture
async def prober(tmp_path: Path, heard: Heard) -> AsyncIterator[ProberProcess]:
    started = ProberProcess(spec_of(tmp_path), heard, grace=1.0)
    await started.start()
    try:
        yield started
    finally:
        await started.stop()


def child_pid(prober: ProberProcess) -> int:
    pid = prober.pid
    assert pid is not None
    return pid


async def test_the_prober_runs_in_another_process(prober: ProberProcess) -> None:
    assert child_pid(prober) != os.getpid()
    assert prober.providers == (PROBED,)


async def test_its_results_reach_the_store_and_the_servers_events(
    prober: ProberProcess, heard: Heard, tmp_path: Path
) -> None:
    await until(lambda: heard.statuses)

    assert {r.provider for r in heard.results} == {PROBED}
    assert heard.loop is asyncio.get_running_loop()  # heard on the server's loop
    assert {s.provider for s in heard.statuses} == {PROBED}
    async with open_store(spec_of(tmp_path).store_url) as store:
        stored = await store.results(provider=PROBED)
    assert sorted(r.started_at for r in stored) == sorted(r.started_at for r in heard.results)


async def test_trigger_and_running_are_answered_by_the_schedule(
    prober: ProberProcess, heard: Heard
) -> None:
    await until(lambda: heard.statuses)
    await prober.idle()
    assert await prober.running() <= {PROBED}
    count = len(heard.results)

    assert await prober.trigger([PROBED]) == {PROBED: "started"}
    await until(lambda: len(heard.results) > count)
    assert await prober.overruns() == {PROBED: 0}


async def test_an_error_opening_the_prober_is_raised_by_start(tmp_path: Path) -> None:
    spec = spec_of(tmp_path)
    broken = ProbingSpec(spec.settings, "/proc/nowhere/harness.db", sandbox=True)

    with pytest.raises(StoreError, match="cannot create the data directory"):
        await ProberProcess(broken, Heard(), grace=0.0).start()


async def test_stopping_ends_the_process_cleanly(tmp_path: Path) -> None:
    started = ProberProcess(spec_of(tmp_path), Heard(), grace=1.0)
    await started.start()

    await started.stop()

    assert started.exitcode == 0
    with pytest.raises(ProberStopped):
        await started.running()


async def test_the_process_ignores_the_terminals_interrupt(prober: ProberProcess) -> None:
    os.kill(child_pid(prober), signal.SIGINT)  # Ctrl-C reaches the whole process group
    await asyncio.sleep(0.2)

    assert await prober.running() <= {PROBED}
    assert prober.exitcode is None
    assert prober.lost is not None
    assert not prober.lost.done()


async def test_a_prober_that_dies_is_lost_and_refuses_calls(prober: ProberProcess) -> None:
    os.kill(child_pid(prober), signal.SIGKILL)
    assert prober.lost is not None

    lost = await asyncio.wait_for(asyncio.shield(prober.lost), GUARD_S)

    assert isinstance(lost, ProberLost)
    assert "exit code -9" in str(lost)
    with pytest.raises(ProberStopped):
        await prober.running()


def prober_of(server: int) -> int:
    """The pid of the prober's process among ``server``'s children (Linux's /proc)."""
    children = [
        int(pid)
        for task in Path(f"/proc/{server}/task").iterdir()
        for pid in (task / "children").read_text().split()
    ]
    (prober,) = [
        pid for pid in children if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()
    ]
    return prober


@contextmanager
def serving(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """``harness serve --sandbox`` in a process of its own, once it listens."""
    command = [sys.executable, "-m", "harness", "serve", "--sandbox", "--port", "0"]
    env = {**os.environ, "HARNESS_DATA_DIR": str(tmp_path / "data")}
    with subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as server:
        try:
            assert server.stdout is not None
            assert "status page at" in server.stdout.readline()
            yield server
        finally:
            server.kill()


def test_serve_stops_with_an_error_when_its_prober_dies(tmp_path: Path) -> None:
    with serving(tmp_path) as server:
        os.kill(prober_of(server.pid), signal.SIGKILL)
        _, stderr = server.communicate(timeout=GUARD_S)

    assert server.returncode == 1
    assert "error: the prober's process ended unexpectedly (exit code -9)" in stderr


def test_serves_web_process_yields_the_cpu_to_its_prober(tmp_path: Path) -> None:
    with serving(tmp_path) as server:
        web = os.getpriority(os.PRIO_PROCESS, server.pid)
        prober = os.getpriority(os.PRIO_PROCESS, prober_of(server.pid))

    assert prober == os.getpriority(os.PRIO_PROCESS, 0)
    assert web == min(prober + WEB_NICENESS, 19)
