"""CLI fixtures: a runner, and emulators served from a thread so that synchronous
``CliRunner`` invocations (each with its own event loop) can reach them."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.emulator import Emulator


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def data_dir(isolated_environment: Path) -> Path:
    """The data directory the CLI uses in this test (from HARNESS_DATA_DIR)."""
    return isolated_environment / "data"


@pytest.fixture
def emulator_thread() -> Iterator[Emulator]:
    """A started Emulator whose event loop runs in a background thread."""
    loop = asyncio.new_event_loop()
    emulator = Emulator(host="127.0.0.1", port=0)
    stop = asyncio.Event()

    async def serve() -> None:
        async with emulator:
            started.set()
            await stop.wait()

    started = threading.Event()
    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert started.wait(10), "emulator did not start"
    try:
        yield emulator
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()
