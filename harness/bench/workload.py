"""The probing workload: targets, the injected latency, and the emulator that serves them.

Every probe is a ``ping`` of one of the real provider/model pairs, cycled to the
number wanted, against the four emulators, which answer after a fixed first-chunk
delay in a fixed number of chunks a fixed interval apart. The emulator runs in a
second process, so the benchmarked process does only the client's work.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from harness.bench.errors import BenchError
from harness.emulator import PROVIDERS as EMULATED
from harness.emulator import FaultSpec, serve
from harness.probing.runner import Target, plan
from providers.registry import BUILTIN
from providers.RobocodersAPI import CACHE_DIR_ENV

EMULATOR_START_TIMEOUT_S = 30.0
EMULATOR_STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Latency:
    """What the emulators inject into every chat answer."""

    first_chunk_delay_s: float = 0.050
    chunks: int = 5
    chunk_delay_s: float = 0.010

    def spec(self) -> FaultSpec:
        """The fault spec putting this latency on an emulated provider's answers."""
        return FaultSpec(
            first_chunk_delay=self.first_chunk_delay_s,
            chunk_delay=self.chunk_delay_s,
            pieces=self.chunks,
        )

    def faults(self) -> dict[str, FaultSpec]:
        """The fault spec putting this latency on every emulated provider."""
        return dict.fromkeys(EMULATED, self.spec())

    def describe(self) -> dict[str, float | int]:
        """The latency as JSON-ready figures in milliseconds."""
        return {
            "first_chunk_delay_ms": self.first_chunk_delay_s * 1000,
            "chunks": self.chunks,
            "chunk_delay_ms": self.chunk_delay_s * 1000,
        }


LATENCY = Latency()


def every_target() -> list[Target]:
    """A ping of every built-in provider/model pair, once (configured endpoints are not
    part of the benchmark workload). Pure."""
    return plan(BUILTIN.values(), prompts=("ping",))


def ping_targets(count: int) -> list[Target]:
    """``count`` pings cycling over every provider/model pair. Pure."""
    return list(itertools.islice(itertools.cycle(every_target()), count))


def _serve_emulator(faults: Mapping[str, FaultSpec], ready: Connection) -> None:
    serve("127.0.0.1", 0, faults, ready.send)


@dataclass(frozen=True)
class EmulatorProcess:
    """The emulators running in a process of their own."""

    url: str
    pid: int

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system) the process has used so far; ``None`` off Linux."""
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text(encoding="ascii")
        except OSError:
            return None
        # The command name may hold spaces; the fields after it are fixed.
        fields = stat.rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def emulator_process(faults: Mapping[str, FaultSpec]) -> Iterator[EmulatorProcess]:
    """Run the emulators in a fresh process for the block."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_serve_emulator,
        args=(dict(faults), sender),
        name="harness-bench-emulator",
        daemon=True,
    )
    process.start()
    sender.close()
    try:
        if not receiver.poll(EMULATOR_START_TIMEOUT_S):
            raise BenchError("the emulator process did not start in time")
        try:
            url = receiver.recv()
        except EOFError:
            raise BenchError(
                f"the emulator process exited before listening (exit code {process.exitcode})"
            ) from None
        assert process.pid is not None
        yield EmulatorProcess(str(url), process.pid)
    finally:
        receiver.close()
        process.terminate()  # SIGTERM: serve() stops its server cleanly
        process.join(EMULATOR_STOP_TIMEOUT_S)
        if process.is_alive():
            process.kill()
            process.join()


@contextmanager
def private_cache() -> Iterator[None]:
    """Point the providers' token cache at a temporary directory for the block, so the
    benchmark neither reads nor litters the user's cache."""
    previous = os.environ.get(CACHE_DIR_ENV)
    with tempfile.TemporaryDirectory(prefix="harness-bench-cache-") as folder:
        os.environ[CACHE_DIR_ENV] = folder
        try:
            yield
        finally:
            if previous is None:
                del os.environ[CACHE_DIR_ENV]
            else:
                os.environ[CACHE_DIR_ENV] = previous
