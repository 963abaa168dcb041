"""Which event loop the commands run on."""

from __future__ import annotations

import asyncio
import time

import pytest

from harness.probing import eventloop
from harness.probing.looplag import lag_monitor


async def loop_class_name() -> str:
    return type(asyncio.get_running_loop()).__module__.split(".")[0]


def test_asyncio_can_be_chosen_even_where_uvloop_is_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(eventloop.EVENT_LOOP_ENV, "asyncio")
    assert eventloop.chosen_loop() == "asyncio"
    assert eventloop.run(loop_class_name()) == "asyncio"


def test_uvloop_is_the_default_where_it_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(eventloop.EVENT_LOOP_ENV, raising=False)
    expected = "uvloop" if eventloop.uvloop_installed() else "asyncio"
    assert eventloop.chosen_loop() == expected
    assert eventloop.run(loop_class_name()) == expected


def test_an_unknown_loop_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown event loop"):
        eventloop.loop_factory("trio")


@pytest.mark.skipif(not eventloop.uvloop_installed(), reason="the fast extra is not installed")
def test_the_loop_lag_monitor_works_on_uvloop() -> None:
    async def stalled() -> float:
        with lag_monitor() as monitor:
            await asyncio.sleep(0.01)
            time.sleep(0.03)  # noqa: ASYNC251 - a stall, as a busy loop would have
            unblocked = time.perf_counter()
            await asyncio.sleep(0.01)
            return monitor.worst(unblocked)

    assert eventloop.run(stalled(), loop="uvloop") >= 0.02
