"""Alert fixtures: a local receiver on 127.0.0.1 (see alert_receiver.py), in the test's
event loop or in a background thread, and emulators in a background thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from typing import TypeVar

import pytest
from alert_receiver import Receiver, running_receiver

from harness.emulator import Emulator

T = TypeVar("T")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A started receiver on a free port of 127.0.0.1."""
    async with running_receiver() as box:
        yield box


@contextmanager
def in_background(make: Callable[[], AbstractAsyncContextManager[T]]) -> Iterator[T]:
    """Enter ``make()`` on an event loop of its own in a background thread, for
    ``CliRunner`` tests (each CLI invocation runs its own event loop)."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    stop = asyncio.Event()
    box: list[T] = []

    async def serve() -> None:
        async with make() as value:
            box.append(value)
            started.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert started.wait(10), "the background server did not start"
    try:
        yield box[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


@pytest.fixture
def receiver_thread() -> Iterator[Receiver]:
    """A receiver served from a background thread."""
    with in_background(running_receiver) as receiver:
        yield receiver


@pytest.fixture
def emulator_thread() -> Iterator[Emulator]:
    """The four upstream emulators, served from a background thread."""
    with in_background(lambda: Emulator(host="127.0.0.1", port=0)) as emulator:
        yield emulator
